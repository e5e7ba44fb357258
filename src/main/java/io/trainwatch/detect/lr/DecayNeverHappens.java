package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;

import java.util.List;

/**
 * The declared decay is overridden (a DeepSpeed "scheduler" block wins over HF lr_scheduler_type, a
 * constant-LR scheduler): the LR stays at the declared peak whatever the declared slope. Flat
 * elsewhere is {@link FrozenLr}.
 */
final class DecayNeverHappens implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        FlatLr flat = FlatLr.of(t);
        if (!flat.atPeak()) {
            return List.of();
        }
        long lastStep = t.steps()[t.size() - 1];
        double declaredNow = t.declared(t.size() - 1);
        return List.of(
                new Reading(
                        HypothesisKind.DECAY_NEVER_HAPPENS,
                        "the LR stays at its peak "
                                + Numbers.fmt(flat.level())
                                + " while the declared schedule decays (to "
                                + Numbers.fmt(declaredNow)
                                + " by step "
                                + t.display(lastStep)
                                + ")",
                        "the declared decay never happens: another scheduler overrides the declared one (e.g. a \"scheduler\" block in the DeepSpeed config wins over HF lr_scheduler_type; or a constant-LR scheduler)",
                        SchedulerFixes.REMOVE_OVERRIDING_SCHEDULER,
                        (double) flat.flatPoints() / t.size(),
                        NamedValues.builder()
                                .put("observed_lr", flat.level())
                                .put("declared_lr_now", declaredNow)
                                .build()));
    }
}
