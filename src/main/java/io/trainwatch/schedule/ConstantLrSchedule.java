package io.trainwatch.schedule;

/**
 * torch ConstantLR, following the chainable code that torch actually runs: {@code base*factor}
 * until {@code total_iters}, then {@code (base*factor) * (1/factor)}. With {@code total_iters = 0}
 * the restoring branch can never run, so the LR stays {@code base*factor} for ever (torch's own
 * closed form disagrees; the recorded torch values follow this). When SequentialLR restarts it with
 * {@code step(0)}, torch uses the closed form at 0 instead: {@code restartedByClosedForm}.
 */
record ConstantLrSchedule(
        double[] baseLrs, double factor, long totalIters, boolean restartedByClosedForm)
        implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        double base = baseLrs[group];
        if (totalIters == 0) {
            return restartedByClosedForm ? base * (factor + (1 - factor)) : base * factor;
        }
        double reduced = base * factor;
        return index < totalIters ? reduced : reduced * (1.0 / factor);
    }
}
