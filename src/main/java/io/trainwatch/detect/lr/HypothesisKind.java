package io.trainwatch.detect.lr;

/**
 * The wiring bugs an LR trace can be read as, most specific first: when several explain the trace
 * equally well, the one with the lower {@link #rank} wins (kinds sharing a rank never explain the
 * same trace, or, for a stretch and a squeeze, the stretch is tried first). {@link #hypothesis} is
 * the {@code evidence.hypothesis} of the alert.
 */
public enum HypothesisKind {
    DECAY_NEVER_HAPPENS("decay_never_happens", 0),
    LR_FROZEN("lr_frozen", 0),
    RESTARTED_ON_RESUME("restarted_on_resume", 1),
    OFFSET_AHEAD("offset_ahead", 2),
    OFFSET_BEHIND("offset_behind", 2),
    WARMUP_LONGER("warmup_longer", 3),
    STEPPED_PER_EPOCH("stepped_per_epoch", 4),
    STEPPED_PER_STEP_DECLARED_PER_EPOCH("stepped_per_step_declared_per_epoch", 4),
    STRETCHED("stretched", 5),
    SQUEEZED("squeezed", 5),
    BASE_LR_SCALED("base_lr_scaled", 6),
    UNEXPLAINED("unexplained", 9);

    /** The name in the alert's evidence. */
    public final String hypothesis;

    /** Lower is preferred among equally good readings. */
    final int rank;

    HypothesisKind(String hypothesis, int rank) {
        this.hypothesis = hypothesis;
        this.rank = rank;
    }

    @Override
    public String toString() {
        return hypothesis;
    }
}
