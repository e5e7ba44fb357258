package io.trainwatch.simulate;

/** A fault the simulator can inject into a realistic run. */
public enum Fault {
    NONE,
    NAN_BAD_BATCH,
    NAN_AFTER_EXPLOSION,
    WARMUP_BLOWUP,
    LOSS_SPIKES,
    GRAD_SPIKE,
    GRAD_GROWTH,
    DIVERGENCE,
    LR_STEPPED_PER_EPOCH,
    LR_STRETCHED,
    LR_OFFSET,
    LR_RESTARTED_ON_RESUME,
    LR_BASE_SCALED,
    LR_DECAY_OVERRIDDEN,
    STALL,
    VANISHING_GRADIENTS,
    /** Grad-norm spikes every few dozen logged steps for a while: one instability incident. */
    REPEATED_SPIKES,
    /** Two lone non-finite grad norms with a finite loss, no loss_scale: GradScaler overflows. */
    FP16_OVERFLOW
}
