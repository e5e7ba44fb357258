package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;

import java.util.List;

/**
 * scheduler.step() is never called, or it steps an optimizer that is not the one trained: the LR
 * stays at one non-zero value, not the declared peak, while the declared LR moves. (An LR of 0
 * while the declared warmup rises is a lag or a stretch, not a frozen scheduler; stuck at the peak
 * is {@link DecayNeverHappens}.)
 */
final class FrozenLr implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        FlatLr flat = FlatLr.of(t);
        if (flat.atPeak() || !(flat.declaredMoves() && flat.level() > 0)) {
            return List.of();
        }
        return List.of(
                new Reading(
                        HypothesisKind.LR_FROZEN,
                        "the LR is frozen at "
                                + Numbers.fmt(flat.level())
                                + " while the declared schedule moves",
                        "the LR never changes: scheduler.step() is never called, or the optimizer was re-created after the scheduler was attached to the old one",
                        SchedulerFixes.STEP_THE_STEPPED_OPTIMIZER,
                        (double) flat.flatPoints() / t.size(),
                        NamedValues.builder().put("observed_lr", flat.level()).build()));
    }
}
