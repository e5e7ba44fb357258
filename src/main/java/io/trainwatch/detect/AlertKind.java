package io.trainwatch.detect;

/**
 * What an alert is about (alert format v1 {@code kind}). MONITOR_ERROR is about trainwatch itself:
 * it failed judging one event of the run (see {@link RunMonitor}). RUN_SILENT and SLOWDOWN are
 * about the run's progress in time, not its numbers.
 */
public enum AlertKind {
    NON_FINITE,
    LR_MISMATCH,
    WARMUP_SPIKE,
    LOSS_SPIKE,
    GRAD_EXPLOSION,
    DIVERGENCE,
    STALL,
    VANISHING_GRADIENTS,
    RUN_SILENT,
    SLOWDOWN,
    MONITOR_ERROR
}
