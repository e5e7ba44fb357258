package io.trainwatch.schedule;

/**
 * A run's declared schedule as the trainer drives it: which {@link Schedule}, how often
 * {@code scheduler.step()} is called (every optimizer step, or once per epoch of
 * {@code steps_per_epoch} steps, or every k steps), and the resume offset from {@code last_epoch}.
 * Answers the one question every check starts from: what LR should optimizer step {@code s} have had?
 */
public final class DeclaredSchedule {
    private final String scheduler;
    private final Schedule schedule;
    private final long stepEvery;
    private final long indexOffset;
    private final Long stepsPerEpoch;

    DeclaredSchedule(String scheduler, Schedule schedule, long stepEvery, long indexOffset, Long stepsPerEpoch) {
        this.scheduler = scheduler;
        this.schedule = schedule;
        this.stepEvery = stepEvery;
        this.indexOffset = indexOffset;
        this.stepsPerEpoch = stepsPerEpoch;
    }

    /** The scheduler's name as declared (e.g. {@code CosineAnnealingLR}, {@code cosine}, {@code WarmupLR}). */
    public String scheduler() {
        return scheduler;
    }

    public int groups() {
        return schedule.groups();
    }

    /** True for ReduceLROnPlateau: use {@link #lowestLr}/{@link #highestLr} instead of {@link #lr}. */
    public boolean adaptive() {
        return schedule.adaptive();
    }

    /** Optimizer steps between two {@code scheduler.step()} calls (1 = per step; steps_per_epoch = per epoch). */
    public long stepEvery() {
        return stepEvery;
    }

    /** steps_per_epoch if declared, else null. */
    public Long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /**
     * The scheduler's own index ({@code last_epoch}) when optimizer step {@code step} runs. A step beyond
     * {@link SpecLimits#MAX_STEP} (which the event codec never lets through) counts as that step, so the index is at
     * most 2^53 + 1 (last_epoch + 1) + 2^53 for any step: no overflow here or in the schedules' arithmetic.
     */
    public long schedulerIndex(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("optimizer step must be >= 0, got " + step);
        }
        return indexOffset + Math.min(step, SpecLimits.MAX_STEP) / stepEvery;
    }

    /**
     * The LR that optimizer step {@code step} uses in {@code group}: for every spec that parses and every step, a finite
     * number >= 0, in a bounded number of operations (see {@link SpecLimits}). Not for adaptive schedules.
     */
    public double lr(int group, long step) {
        return schedule.lr(group, schedulerIndex(step));
    }

    /** The LRs of every group at optimizer step {@code step}. */
    public double[] lrs(long step) {
        double[] out = new double[groups()];
        for (int g = 0; g < out.length; g++) {
            out[g] = lr(g, step);
        }
        return out;
    }

    public double lowestLr(int group, long step) {
        return schedule.lowestLr(group, schedulerIndex(step));
    }

    public double highestLr(int group, long step) {
        return schedule.highestLr(group, schedulerIndex(step));
    }
}
