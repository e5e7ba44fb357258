package io.trainwatch.schedule;

/**
 * A run's declared schedule as the trainer drives it: which {@link Schedule}, how often {@code
 * scheduler.step()} is called (every optimizer step, or once per epoch of {@code steps_per_epoch}
 * steps, or every k steps, or Lightning's frequency counted in batches of each epoch, see {@link
 * SchedulerStepping}), and the resume offset from {@code last_epoch}. Answers the one question
 * every check starts from: what LR should optimizer step {@code s} have had?
 */
public final class DeclaredSchedule {
    /**
     * Scheduler steps {@link #warmup()} walks one by one. Past them a still-rising LR is a long
     * warmup, taken to rise monotonically to its peak: found by doubling, then bisecting, so no
     * spec costs more than about 20,000 evaluations (a few ms, up to ~30 ms for the costliest
     * ChainedScheduler) however long it rises.
     */
    static final long WARMUP_EXACT_SCHEDULER_STEPS = 20_000;

    /**
     * Where the declared warmup ends: the first optimizer step at which group 0's LR stops rising
     * (0: no warmup), and that LR.
     */
    public record Warmup(long endStep, double peakLr) {}

    private final String spec;
    private final String scheduler;
    private final Schedule schedule;
    private final SchedulerStepping stepping;
    private final long indexOffset;
    private final Long stepsPerEpoch;

    /**
     * Computed on first use (most parses, e.g. the codec's check of a run_start, never need it); a
     * value, so a race only repeats work.
     */
    private Warmup warmup;

    DeclaredSchedule(
            String spec,
            String scheduler,
            Schedule schedule,
            SchedulerStepping stepping,
            long indexOffset,
            Long stepsPerEpoch) {
        this.spec = spec;
        this.scheduler = scheduler;
        this.schedule = schedule;
        this.stepping = stepping;
        this.indexOffset = indexOffset;
        this.stepsPerEpoch = stepsPerEpoch;
    }

    /**
     * The spec this schedule was parsed from, as compact JSON without its descriptive fields (see
     * {@link ScheduleSpec#withoutMetadata}): what a run keeps and what is written when the schedule
     * is stored or sent on; {@link ScheduleSpec#parse(String)} of it gives an equal schedule.
     */
    public String spec() {
        return spec;
    }

    /** Two schedules are equal when they were declared by the same spec. */
    @Override
    public boolean equals(Object o) {
        return o instanceof DeclaredSchedule d && spec.equals(d.spec);
    }

    @Override
    public int hashCode() {
        return spec.hashCode();
    }

    @Override
    public String toString() {
        return spec;
    }

    /**
     * The scheduler's name as declared (e.g. {@code CosineAnnealingLR}, {@code cosine}, {@code
     * WarmupLR}).
     */
    public String scheduler() {
        return scheduler;
    }

    public int groups() {
        return schedule.groups();
    }

    /**
     * True for ReduceLROnPlateau: use {@link #lowestLr}/{@link #highestLr} instead of {@link #lr}.
     */
    public boolean adaptive() {
        return schedule.adaptive();
    }

    /**
     * Optimizer steps between two {@code scheduler.step()} calls (1 = per step; steps_per_epoch =
     * per epoch); with Lightning's frequency over epochs of {@code batches_per_epoch} batches, the
     * period inside an epoch.
     */
    public long stepEvery() {
        return stepping.period();
    }

    /** steps_per_epoch if declared, else null. */
    public Long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /**
     * The scheduler's own index ({@code last_epoch}) when optimizer step {@code step} runs. A step
     * beyond {@link SpecLimits#MAX_STEP} (which the event codec never lets through) counts as that
     * step, so the index is at most 2^53 + 1 (last_epoch + 1) + 2^53 for any step: no overflow here
     * or in the schedules' arithmetic.
     */
    public long schedulerIndex(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("optimizer step must be >= 0, got " + step);
        }
        return indexOffset + stepping.callsBefore(Math.min(step, SpecLimits.MAX_STEP));
    }

    /**
     * The LR that optimizer step {@code step} uses in {@code group}: for every spec that parses and
     * every step, a finite number >= 0, in a bounded number of operations (see {@link SpecLimits}).
     * Not for adaptive schedules.
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

    /**
     * Where the declared warmup ends and the LR it peaks at (see {@link Warmup}); an adaptive
     * schedule has none.
     */
    public Warmup warmup() {
        Warmup w = warmup;
        if (w == null) {
            w = findWarmup();
            warmup = w;
        }
        return w;
    }

    private Warmup findWarmup() {
        // calls: scheduler steps from the start; the LR after k calls is the LR of the first
        // optimizer step after them
        long maxCalls = stepping.callsBefore(SpecLimits.MAX_STEP);
        if (maxCalls == 0) {
            return new Warmup(0, warmupLevel(0)); // never stepped
        }
        long k = 0;
        double lr = warmupLevel(0);
        while (k < Math.min(WARMUP_EXACT_SCHEDULER_STEPS, maxCalls)) {
            double next = warmupLevel(k + 1);
            if (!(next > lr)) {
                return new Warmup(stepping.firstStepAfter(k), lr);
            }
            k++;
            lr = next;
        }
        // rising at every call before k: double until a call where it does not rise, then bisect
        // for the first one
        long rising = k;
        long probe = k;
        while (probe < maxCalls && risesAfter(probe)) {
            rising = probe;
            probe = Math.min(2 * probe, maxCalls);
        }
        if (probe >= maxCalls && risesAfter(maxCalls - 1)) {
            return new Warmup(stepping.firstStepAfter(maxCalls), warmupLevel(maxCalls));
        }
        long lo = rising; // rises after lo
        long hi = probe; // does not rise after hi
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (risesAfter(mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return new Warmup(stepping.firstStepAfter(hi), warmupLevel(hi));
    }

    private boolean risesAfter(long calls) {
        return warmupLevel(calls + 1) > warmupLevel(calls);
    }

    private double warmupLevel(long calls) {
        long step = stepping.firstStepAfter(calls);
        return adaptive() ? highestLr(0, step) : lr(0, step);
    }
}
