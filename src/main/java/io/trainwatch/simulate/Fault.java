package io.trainwatch.simulate;

/**
 * A fault the simulator can inject into a realistic run. DATA_LOADER_STALL and SPARSE_LOGGING are
 * controls: runs that look odd in time but are healthy, and must raise nothing.
 */
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
    /** Steps stop mid-run, no run_end (a hang, an OOM kill, a preemption). */
    RUN_SILENT,
    /** Steps stop mid-run for 20 to 120 minutes, then the run goes on. */
    RUN_SILENT_RESUMED,
    /** Time per step rises 2 to 4 times, for the rest of the run or for a while. */
    SLOWDOWN,
    /** Control: one step waits 30 s to 5 min for its batch. */
    DATA_LOADER_STALL,
    /** Control: one logged step every 20 to 60 minutes, steadily. */
    SPARSE_LOGGING,
    /** Grad-norm spikes every few dozen logged steps for a while: one instability incident. */
    REPEATED_SPIKES,
    /** Two lone non-finite grad norms with a finite loss, no loss_scale: GradScaler overflows. */
    FP16_OVERFLOW
}
