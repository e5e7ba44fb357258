package io.trainwatch.threshold;

/**
 * Every detector threshold: its name, default, the values it may take and why. Overridable per job
 * ({@code --threshold name=value}) and per run (run_start {@code "thresholds": {name: value}});
 * both go through {@link #problem(double)}, the one check. README "Detectors" lists them with their
 * ranges.
 */
public enum Threshold {
    // NON_FINITE
    NON_FINITE_RESOLVE_STEPS(
            "non_finite_resolve_steps",
            3,
            Range.STEPS,
            "finite logged steps in a row that close a NON_FINITE alert"),
    // incidents (all kinds, see detect.IncidentBook)
    INCIDENT_WINDOW_STEPS(
            "incident_window_steps",
            600,
            Range.STEPS,
            "an instability alert within this many steps of the open incident's last occurrence folds into it; the incident resolves after this many quiet steps"),
    MAX_INCIDENTS_PER_HOUR(
            "max_incidents_per_hour",
            10,
            Range.integers(1, Range.MAX_COUNT),
            "new non-critical incidents per run per hour of event time (per 10,000 steps without time) beyond which they are counted, not sent"),
    FP16_OVERFLOW_ESCALATE_COUNT(
            "fp16_overflow_escalate_count",
            3,
            Range.integers(2, Range.MAX_COUNT),
            "GradScaler overflows (non-finite grad norm, finite loss), each within incident_window_steps of the last, that make NON_FINITE critical"),
    // LR_MISMATCH
    LR_RELATIVE_TOLERANCE(
            "lr_relative_tolerance",
            0.01,
            Range.FRACTION,
            "relative LR error tolerated (loggers round LRs to a few digits)"),
    LR_MISMATCH_STEPS(
            "lr_mismatch_steps",
            3,
            Range.STEPS,
            "consecutive mismatching logged steps before LR_MISMATCH opens"),
    // WARMUP_SPIKE / LOSS_SPIKE
    SPIKE_MAD_K(
            "spike_mad_k",
            8,
            Range.POSITIVE,
            "a spike is a loss this many robust sigmas (1.4826 MAD) above the running median"),
    SPIKE_MIN_RISE_RELATIVE(
            "spike_min_rise_relative",
            0.25,
            Range.NON_NEGATIVE,
            "and at least this fraction above the running median"),
    SPIKE_MIN_POINTS(
            "spike_min_points",
            12,
            Range.WINDOW_POINTS,
            "losses seen before spike statistics are trusted"),
    SPIKE_REPEAT_COUNT(
            "spike_repeat_count",
            3,
            Range.integers(1, Range.REMEMBERED_SPIKES),
            "post-warmup spikes within spike_repeat_window_steps that call for rewind-and-skip"),
    SPIKE_REPEAT_WINDOW_STEPS(
            "spike_repeat_window_steps",
            2000,
            Range.STEPS,
            "window for counting repeated spikes, in optimizer steps"),
    WARMUP_RISE_RELATIVE(
            "warmup_rise_relative",
            0.5,
            Range.POSITIVE,
            "during warmup, a loss this fraction above the lowest recent loss is a warmup spike"),
    // GRAD_EXPLOSION
    GRAD_Z_THRESHOLD(
            "grad_z_threshold",
            5,
            Range.POSITIVE,
            "z-score of log grad norm against its EMA mean/std (ZClip-style) that counts as an outlier"),
    GRAD_MIN_RATIO(
            "grad_min_ratio",
            4,
            Range.atLeast(1),
            "and the norm must be at least this many times its EMA geometric mean"),
    GRAD_EMA_ALPHA("grad_ema_alpha", 0.05, Range.FRACTION, "EMA weight of a new log grad norm"),
    GRAD_MIN_POINTS(
            "grad_min_points",
            12,
            Range.WINDOW_POINTS,
            "grad norms seen before the EMA is trusted"),
    // at or below 1 every run would count as grown: the EMA is never below its own low
    GRAD_GROWTH_RATIO(
            "grad_growth_ratio",
            10,
            Range.above(1),
            "sustained growth: EMA geometric mean this many times its low over the run"),
    // DIVERGENCE
    DIVERGENCE_FRACTION(
            "divergence_fraction",
            0.15,
            Range.POSITIVE,
            "loss back up this fraction of the way from its best to its post-warmup level"),
    DIVERGENCE_STEPS(
            "divergence_steps",
            3,
            Range.STEPS,
            "consecutive logged steps above that level, and rising, before DIVERGENCE opens"),
    // STALL
    STALL_WINDOW_STEPS(
            "stall_window_steps",
            5000,
            Range.STEPS,
            "optimizer steps without a new best loss before STALL"),
    // above 1, more progress than the run's whole range would be needed: every run would stall
    STALL_MIN_IMPROVEMENT(
            "stall_min_improvement",
            0.02,
            Range.FRACTION,
            "improvement of the smoothed loss, as a fraction of the run's own loss range, that counts as progress"),
    STALL_MIN_POINTS(
            "stall_min_points",
            100,
            Range.STEPS,
            "logged steps in the window before STALL can be judged"),
    // VANISHING_GRADIENTS
    VANISHING_RATIO(
            "vanishing_ratio",
            0.001,
            Range.OPEN_FRACTION,
            "grad norm below this fraction of its healthy level (which stops following it once it collapses)"),
    VANISHING_STEPS(
            "vanishing_steps",
            5,
            Range.STEPS,
            "consecutive logged steps below it, with the loss not improving, before VANISHING_GRADIENTS"),
    // RUN_SILENT
    SILENT_MIN_MINUTES(
            "silent_min_minutes",
            15,
            // fractions allowed: the demo shows a silence within seconds
            new Range(false, 0.05, true, 1_000_000, true),
            "a run without run_end is silent after no step for this long (longer for a run that logs sparsely, see silent_interval_factor)"),
    // at 1 every logged step slower than the median would be a silence
    SILENT_INTERVAL_FACTOR(
            "silent_interval_factor",
            10,
            Range.atLeast(2),
            "or after this many times the run's own median interval between logged steps, if longer"),
    // SLOWDOWN
    // at or below 1 every run is slower than its own median half of the time
    SLOWDOWN_RATIO(
            "slowdown_ratio",
            1.5,
            Range.above(1),
            "time per optimizer step this many times its running median counts as slow"),
    // one slow step is a data-loader stall or a checkpoint, not a slowdown
    SLOWDOWN_STEPS(
            "slowdown_steps",
            5,
            Range.integers(2, 1_000_000),
            "slow logged steps in a row before SLOWDOWN opens (as many fast ones resolve it)"),
    // lifecycle
    IDLE_TIMEOUT_MINUTES(
            "idle_timeout_minutes",
            1440,
            Range.integers(1, 1_000_000),
            "a run with no event for this long is forgotten (its state cleared)");

    /**
     * The values a threshold may take: an integer or a real number between two bounds, each bound
     * open or closed. Integers stay below {@link #MAX_COUNT} so they convert to {@code int} and add
     * to a step without overflow.
     */
    public record Range(
            boolean integer, double min, boolean minInclusive, double max, boolean maxInclusive) {
        public static final long MAX_COUNT = 1_000_000_000;

        /**
         * Values the detectors' robust windows hold (detect.RobustWindow.CAPACITY): more points can
         * never be seen.
         */
        public static final int WINDOW_CAPACITY = 32;

        /**
         * Spikes the spike detector remembers (detect.SpikeDetector.MAX_REMEMBERED_SPIKES): more
         * can never be counted.
         */
        public static final int REMEMBERED_SPIKES = 8;

        static final Range STEPS = integers(1, MAX_COUNT);
        // fewer than 3 points have no meaningful median or spread
        static final Range WINDOW_POINTS = integers(3, WINDOW_CAPACITY);
        static final Range POSITIVE = new Range(false, 0, false, Double.MAX_VALUE, true);
        static final Range NON_NEGATIVE = atLeast(0);
        static final Range FRACTION = new Range(false, 0, false, 1, true);
        static final Range OPEN_FRACTION = new Range(false, 0, false, 1, false);

        static Range integers(long min, long max) {
            return new Range(true, min, true, max, true);
        }

        static Range atLeast(double min) {
            return new Range(false, min, true, Double.MAX_VALUE, true);
        }

        static Range above(double min) {
            return new Range(false, min, false, Double.MAX_VALUE, true);
        }

        public boolean contains(double v) {
            return Double.isFinite(v)
                    && (!integer || v == Math.rint(v))
                    && (minInclusive ? v >= min : v > min)
                    && (maxInclusive ? v <= max : v < max);
        }

        /**
         * What is allowed, in words: "an integer from 1 to 1000000000", "a number in (0, 1]", "a
         * number > 0".
         */
        public String describe() {
            if (integer) {
                return "an integer from " + show(min) + " to " + show(max);
            }
            if (max == Double.MAX_VALUE) {
                return "a finite number " + (minInclusive ? ">= " : "> ") + show(min);
            }
            return "a number in "
                    + (minInclusive ? "[" : "(")
                    + show(min)
                    + ", "
                    + show(max)
                    + (maxInclusive ? "]" : ")");
        }
    }

    private final String key;
    private final double defaultValue;
    private final Range range;
    private final String meaning;

    Threshold(String key, double defaultValue, Range range, String meaning) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.range = range;
        this.meaning = meaning;
    }

    /** The snake_case name used in run_start thresholds and --threshold. */
    public String key() {
        return key;
    }

    public double defaultValue() {
        return defaultValue;
    }

    public Range range() {
        return range;
    }

    public String meaning() {
        return meaning;
    }

    /**
     * Why {@code value} is not allowed for this threshold ("must be a number in (0, 1], got -1"),
     * or null if it is.
     */
    public String problem(double value) {
        return range.contains(value)
                ? null
                : "must be " + range.describe() + ", got " + show(value);
    }

    /**
     * {@code text} as this threshold's value (from the command line), or an
     * IllegalArgumentException naming it and its range.
     */
    public double parse(String text) {
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    key + ": must be " + range.describe() + ", got \"" + text + "\"");
        }
        String problem = problem(v);
        if (problem != null) {
            throw new IllegalArgumentException(key + ": " + problem);
        }
        return v;
    }

    public static Threshold byKey(String key) {
        for (Threshold t : values()) {
            if (t.key.equals(key)) {
                return t;
            }
        }
        return null;
    }

    /** 3 rather than 3.0; NaN and Infinity as Java writes them. */
    static String show(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15
                ? Long.toString((long) v)
                : String.valueOf(v);
    }
}
