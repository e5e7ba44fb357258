package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * scheduler.step() once per epoch although the schedule is declared per optimizer step: the LR is a
 * staircase with the epoch as its period (the declared steps_per_epoch, or a staircase of at least
 * {@link StretchFit#MIN_EPOCH_STEPS} steps that is not the declared accumulation). Any other
 * stretch is {@link StretchedSchedule}.
 */
final class SteppedPerEpoch implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        StretchFit fit = StretchFit.of(t);
        if (!applies(t, fit)) {
            return List.of();
        }
        long k = fit.factor();
        return List.of(
                new Reading(
                        HypothesisKind.STEPPED_PER_EPOCH,
                        "the LR changes only every "
                                + k
                                + " steps (a staircase) while the schedule is declared per optimizer step",
                        "scheduler.step() is called once per epoch (every "
                                + k
                                + " optimizer steps) instead of after every optimizer step",
                        SchedulerFixes.STEP_AFTER_EVERY_OPTIMIZER_STEP,
                        (double) fit.hits() / t.size(),
                        NamedValues.builder()
                                .put("period_steps", k)
                                .put("stretch_factor", k)
                                .build(),
                        t.stepsPerEpoch() != null && k == t.stepsPerEpoch()));
    }

    static boolean applies(Trace t, StretchFit fit) {
        return fit.perEpoch() && t.schedule().stepEvery() == 1;
    }
}
