package io.trainwatch.detect;

/**
 * What an alert is about (alert format v1 {@code kind}). MONITOR_ERROR is about trainwatch itself:
 * it failed judging one event of the run (see {@link RunMonitor}).
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
    MONITOR_ERROR
}
