package io.trainwatch.detect;

/**
 * Every detector threshold, with its default and why. Overridable per job ({@code --threshold name=value})
 * and per run (run_start {@code "thresholds": {name: value}}); README "Detectors" lists them.
 */
public enum Threshold {
    // NON_FINITE
    NON_FINITE_RESOLVE_STEPS("non_finite_resolve_steps", 3, "finite logged steps in a row that close a NON_FINITE alert"),
    // LR_MISMATCH
    LR_RELATIVE_TOLERANCE("lr_relative_tolerance", 0.01, "relative LR error tolerated (loggers round LRs to a few digits)"),
    LR_MISMATCH_STEPS("lr_mismatch_steps", 3, "consecutive mismatching logged steps before LR_MISMATCH opens"),
    // WARMUP_SPIKE / LOSS_SPIKE
    SPIKE_MAD_K("spike_mad_k", 8, "a spike is a loss this many robust sigmas (1.4826 MAD) above the running median"),
    SPIKE_MIN_RISE_RELATIVE("spike_min_rise_relative", 0.25, "and at least this fraction above the running median"),
    SPIKE_MIN_POINTS("spike_min_points", 12, "losses seen before spike statistics are trusted"),
    SPIKE_REPEAT_COUNT("spike_repeat_count", 3, "post-warmup spikes within spike_repeat_window_steps that call for rewind-and-skip"),
    SPIKE_REPEAT_WINDOW_STEPS("spike_repeat_window_steps", 2000, "window for counting repeated spikes, in optimizer steps"),
    WARMUP_RISE_RELATIVE("warmup_rise_relative", 0.5, "during warmup, a loss this fraction above the lowest recent loss is a warmup spike"),
    // GRAD_EXPLOSION
    GRAD_Z_THRESHOLD("grad_z_threshold", 5, "z-score of log grad norm against its EMA mean/std (ZClip-style) that counts as an outlier"),
    GRAD_MIN_RATIO("grad_min_ratio", 4, "and the norm must be at least this many times its EMA geometric mean"),
    GRAD_EMA_ALPHA("grad_ema_alpha", 0.05, "EMA weight of a new log grad norm"),
    GRAD_MIN_POINTS("grad_min_points", 12, "grad norms seen before the EMA is trusted"),
    GRAD_GROWTH_RATIO("grad_growth_ratio", 10, "sustained growth: EMA geometric mean this many times its low over the run"),
    // DIVERGENCE
    DIVERGENCE_FRACTION("divergence_fraction", 0.15, "loss back up this fraction of the way from its best to its post-warmup level"),
    DIVERGENCE_STEPS("divergence_steps", 3, "consecutive logged steps above that level, and rising, before DIVERGENCE opens"),
    // STALL
    STALL_WINDOW_STEPS("stall_window_steps", 5000, "optimizer steps without a new best loss before STALL"),
    STALL_MIN_IMPROVEMENT("stall_min_improvement", 0.02, "improvement of the smoothed loss, as a fraction of the run's own loss range, that counts as progress"),
    STALL_MIN_POINTS("stall_min_points", 100, "logged steps in the window before STALL can be judged"),
    // VANISHING_GRADIENTS
    VANISHING_RATIO("vanishing_ratio", 0.001, "grad norm below this fraction of its healthy level (which stops following it once it collapses)"),
    VANISHING_STEPS("vanishing_steps", 5, "consecutive logged steps below it, with the loss not improving, before VANISHING_GRADIENTS"),
    // lifecycle
    IDLE_TIMEOUT_MINUTES("idle_timeout_minutes", 1440, "a run with no event for this long is forgotten (its state cleared)");

    private final String key;
    private final double defaultValue;
    private final String meaning;

    Threshold(String key, double defaultValue, String meaning) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.meaning = meaning;
    }

    /** The snake_case name used in run_start thresholds and --threshold. */
    public String key() {
        return key;
    }

    public double defaultValue() {
        return defaultValue;
    }

    public String meaning() {
        return meaning;
    }

    public static Threshold byKey(String key) {
        for (Threshold t : values()) {
            if (t.key.equals(key)) {
                return t;
            }
        }
        return null;
    }
}
