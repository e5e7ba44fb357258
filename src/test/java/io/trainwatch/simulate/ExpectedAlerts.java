package io.trainwatch.simulate;

import java.util.Set;

/**
 * The alert kind that must catch a simulated fault ({@code null} for a healthy run), and the kinds
 * that may legitimately accompany it (a NaN after an explosion also explodes).
 */
public record ExpectedAlerts(String kind, Set<String> alsoAllowed) {

    /** A switch over every fault: a new fault does not compile until it says what must catch it. */
    public static ExpectedAlerts of(Fault fault) {
        return switch (fault) {
            case NONE -> new ExpectedAlerts(null, Set.of());
            case NAN_BAD_BATCH -> expect("NON_FINITE");
            case NAN_AFTER_EXPLOSION ->
                    expect("NON_FINITE", "GRAD_EXPLOSION", "LOSS_SPIKE", "DIVERGENCE");
            case WARMUP_BLOWUP ->
                    expect("WARMUP_SPIKE", "LOSS_SPIKE", "GRAD_EXPLOSION", "DIVERGENCE");
            case LOSS_SPIKES -> expect("LOSS_SPIKE", "GRAD_EXPLOSION");
            case GRAD_SPIKE -> expect("GRAD_EXPLOSION");
            case GRAD_GROWTH -> expect("GRAD_EXPLOSION", "LOSS_SPIKE", "DIVERGENCE");
            case DIVERGENCE -> expect("DIVERGENCE", "LOSS_SPIKE", "GRAD_EXPLOSION");
            case LR_STEPPED_PER_EPOCH,
                    LR_STRETCHED,
                    LR_OFFSET,
                    LR_BASE_SCALED,
                    LR_DECAY_OVERRIDDEN ->
                    expect("LR_MISMATCH");
            case LR_RESTARTED_ON_RESUME -> expect("LR_MISMATCH", "LOSS_SPIKE", "WARMUP_SPIKE");
            case STALL -> expect("STALL");
            case VANISHING_GRADIENTS -> expect("VANISHING_GRADIENTS", "STALL");
            case RUN_SILENT, RUN_SILENT_RESUMED -> expect("RUN_SILENT");
            case SLOWDOWN -> expect("SLOWDOWN");
            case DATA_LOADER_STALL, SPARSE_LOGGING -> new ExpectedAlerts(null, Set.of());
            case REPEATED_SPIKES -> expect("GRAD_EXPLOSION");
            case FP16_OVERFLOW -> expect("NON_FINITE", "LOSS_SPIKE");
        };
    }

    private static ExpectedAlerts expect(String kind, String... alsoAllowed) {
        return new ExpectedAlerts(kind, Set.of(alsoAllowed));
    }

    /** Whether an alert of this kind is one the fault explains. */
    public boolean allows(String alertKind) {
        return alertKind.equals(kind) || alsoAllowed.contains(alertKind);
    }
}
