package io.trainwatch.schedule;

/**
 * detectron2 WarmupMultiStepLR ({@code SOLVER.LR_SCHEDULER_NAME}): {@code base * warmup(i) *
 * gamma^k}, k = milestones (SOLVER.STEPS, those within MAX_ITER) at or below iteration i; warmup
 * for {@code i < WARMUP_ITERS}: linear {@code warmup_factor * (1 - i/W) + i/W} or constant {@code
 * warmup_factor}. detectron2 logs the LR used at iteration i.
 */
record Detectron2WarmupMultiStepSchedule(
        double[] baseLrs,
        long[] sortedMilestones,
        double gamma,
        double warmupFactor,
        long warmupIters,
        boolean linearWarmup)
        implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long iteration) {
        double warmup = 1.0;
        if (iteration < warmupIters) {
            if (linearWarmup) {
                double alpha = (double) iteration / warmupIters;
                warmup = warmupFactor * (1 - alpha) + alpha;
            } else {
                warmup = warmupFactor;
            }
        }
        return Saturating.times(
                baseLrs[group] * warmup,
                Math.pow(gamma, MultiStepLrSchedule.countAtOrBelow(sortedMilestones, iteration)));
    }
}
