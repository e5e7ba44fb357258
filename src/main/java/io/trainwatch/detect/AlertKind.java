package io.trainwatch.detect;

/** What an alert is about (alert format v1 {@code kind}). */
public enum AlertKind {
    NON_FINITE, LR_MISMATCH, WARMUP_SPIKE, LOSS_SPIKE, GRAD_EXPLOSION, DIVERGENCE, STALL, VANISHING_GRADIENTS
}
