package io.trainwatch.simulate;

/** A fault the simulator can inject into a realistic run, with the alert kind that must catch it. */
public enum Fault {
    NONE(null),
    NAN_BAD_BATCH("NON_FINITE"),
    NAN_AFTER_EXPLOSION("NON_FINITE", "GRAD_EXPLOSION", "LOSS_SPIKE", "DIVERGENCE"),
    WARMUP_BLOWUP("WARMUP_SPIKE", "LOSS_SPIKE", "GRAD_EXPLOSION", "DIVERGENCE"),
    LOSS_SPIKES("LOSS_SPIKE", "GRAD_EXPLOSION"),
    GRAD_SPIKE("GRAD_EXPLOSION"),
    GRAD_GROWTH("GRAD_EXPLOSION", "LOSS_SPIKE", "DIVERGENCE"),
    DIVERGENCE("DIVERGENCE", "LOSS_SPIKE", "GRAD_EXPLOSION"),
    LR_STEPPED_PER_EPOCH("LR_MISMATCH"),
    LR_STRETCHED("LR_MISMATCH"),
    LR_OFFSET("LR_MISMATCH"),
    LR_RESTARTED_ON_RESUME("LR_MISMATCH", "LOSS_SPIKE", "WARMUP_SPIKE"),
    LR_BASE_SCALED("LR_MISMATCH"),
    LR_DECAY_OVERRIDDEN("LR_MISMATCH"),
    STALL("STALL"),
    VANISHING_GRADIENTS("VANISHING_GRADIENTS", "STALL");

    private final String expected;
    private final String[] alsoAllowed;

    Fault(String expected, String... alsoAllowed) {
        this.expected = expected;
        this.alsoAllowed = alsoAllowed;
    }

    /** The alert kind that must be raised, or null for a healthy run. */
    public String expectedKind() {
        return expected;
    }

    /** Kinds that may legitimately accompany this fault (a NaN after an explosion also explodes). */
    public boolean allows(String kind) {
        if (kind.equals(expected)) {
            return true;
        }
        for (String k : alsoAllowed) {
            if (k.equals(kind)) {
                return true;
            }
        }
        return false;
    }
}
