package io.trainwatch.schedule;

/**
 * What a schedule spec may ask for. A spec arrives with a run_start that any user can send, and one
 * job watches every run of a fleet, so whatever a spec controls is bounded here: its size, every
 * list and count in it, and every integer that feeds arithmetic. {@link ScheduleSpec#parse} refuses
 * anything beyond these with an {@link InvalidScheduleException} naming the field, the value and
 * the limit. Within them, {@link DeclaredSchedule#lr} takes a bounded number of operations per call
 * (no work grows with the step or a list's length beyond a binary search) and returns a finite LR
 * &gt;= 0 for every step.
 */
public final class SpecLimits {
    private SpecLimits() {}

    /**
     * Param groups: {@code base_lrs}, every per-group list ({@code max_lr}, {@code min_lr}, ...)
     * and LambdaLR's list of lambdas. Equal to the event codec's limit on reported LRs ({@code
     * EventCodec.MAX_PARAM_GROUPS}), so that every declared group can be compared with a reported
     * one; ScheduleBoundsTest keeps the two equal.
     */
    public static final int MAX_PARAM_GROUPS = 1024;

    /**
     * Milestone lists (MultiStepLR and detectron2 {@code milestones}, MXNet MultiFactorScheduler
     * {@code step}): a decay at every epoch of a 4,000-epoch run still fits; a longer list is a
     * generated staircase, which StepLR or ExponentialLR says in one number. Lookups are binary
     * searches (12 probes at this size), so the limit is about memory per run (32 KiB of steps).
     */
    public static final int MAX_MILESTONES = 4096;

    /**
     * Children of SequentialLR / ChainedScheduler (nesting one in the other is refused at every
     * depth). Real ones have 2 or 3; ChainedScheduler evaluates every child, twice past a cosine
     * restart, at each step, so this is the factor on its cost.
     */
    public static final int MAX_CHILDREN = 16;

    /**
     * Children times param groups of a ChainedScheduler: the child schedules it evaluates for one
     * step of every group (the monitor evaluates every group at every step). 2 children over 1,024
     * groups, or 16 over 128, fit; the product of both maxima (16,384 evaluations, about 2 ms per
     * step) would let one run's steps cost a thousand times another's.
     */
    public static final int MAX_CHAINED_EVALUATIONS = 2048;

    /**
     * Largest magnitude of every integer argument (a step count, a milestone, {@code last_epoch},
     * ...), and the largest optimizer step a schedule is evaluated at (a larger one is evaluated at
     * this step). The event codec caps steps at 2^53 - 1, the largest integer every JSON client
     * holds exactly; no run reaches it, and sums of a few such values and a scheduler index (at
     * most 2^54 + 1) stay far inside a long.
     */
    public static final long MAX_STEP = 1L << 53;

    /**
     * Largest number of optimizer steps between two {@code scheduler.step()} calls ({@code
     * scheduler_step_every}, {@code steps_per_epoch} and {@code frequency}, and their product; also
     * Lightning's {@code batches_per_epoch} and {@code accumulate_grad_batches}, whose closed form
     * multiplies none of them): 4.3 billion optimizer steps per scheduler step is far beyond any
     * run, and callers that walk a schedule in scheduler steps (RunMonitor's warmup scan goes up to
     * 200,000 of them) stay inside a long.
     */
    public static final long MAX_STEP_EVERY = 1L << 32;

    /**
     * Largest learning rate a spec may state or derive (base LRs, {@code max_lr}, {@code eta_min},
     * OneCycleLR's {@code max_lr / div_factor}, ...). No optimizer runs at an LR anywhere near it;
     * it keeps every interpolation and every product with the bounded factors of a spec finite.
     */
    public static final double MAX_LR = 1e6;

    /**
     * JSON values (objects, arrays, scalars) in one spec, metadata included: the largest golden
     * case, its recorded LR arrays included, has 6,019; 1,024 groups with one lambda object each is
     * about 7,200. Bounds the work of parsing and the size of the parsed schedule.
     */
    public static final int MAX_SPEC_NODES = 16_384;

    /**
     * Nesting depth of a spec: the deepest real one (a lambda list in a SequentialLR child) is 8.
     */
    public static final int MAX_SPEC_DEPTH = 16;

    /**
     * Characters of a spec's JSON text (compact, as the codec keeps it per run): the largest golden
     * case, its recorded LR arrays included, is 131 KiB; a spec without recorded values is under 1
     * KiB.
     */
    public static final int MAX_SPEC_CHARS = 256 * 1024;

    /**
     * Characters of a user-given string (an unknown name, a bad value) echoed into an error message
     * or a field path; longer ones are cut and end in "…". Also the longest name for which a "did
     * you mean" hint is computed (an edit distance costs its length times the known name's).
     */
    public static final int MAX_ECHOED_CHARS = 64;
}
