package io.trainwatch.detect;

/**
 * What an alert is about (alert format v1 {@code kind}). MONITOR_ERROR is about trainwatch itself:
 * it failed judging one event of the run (see {@link RunMonitor}). RUN_SILENT and SLOWDOWN are
 * about the run's progress in time, not its numbers. {@link #incidentGroup()} says which kinds fold
 * into one incident (see {@link IncidentBook}).
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
    MONITOR_ERROR;

    /** The incident group of the training-instability kinds: one episode, one incident. */
    public static final String INSTABILITY = "INSTABILITY";

    /**
     * Kinds of one group fold into one incident while it is open: WARMUP_SPIKE, LOSS_SPIKE,
     * GRAD_EXPLOSION, DIVERGENCE and NON_FINITE are the symptoms of one instability episode
     * (repeated spikes, an overflow, a blow-up) and group as {@link #INSTABILITY}; every other
     * kind, including kinds added later, is its own group (an LR wiring bug is not an instability).
     */
    public String incidentGroup() {
        return switch (this) {
            case WARMUP_SPIKE, LOSS_SPIKE, GRAD_EXPLOSION, DIVERGENCE, NON_FINITE -> INSTABILITY;
            default -> name();
        };
    }

    /**
     * Episodic kinds recur in bursts: their incident stays open for {@code incident_window_steps}
     * after the last occurrence so that the next burst folds into it. Any other kind is a
     * persistent condition with its own hysteresis: its incident resolves with it.
     */
    public boolean episodic() {
        return INSTABILITY.equals(incidentGroup());
    }
}
