package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * scheduler.step() runs k times per optimizer step (inside the accumulation loop, or once per
 * micro-batch/GPU): the declared schedule run k times faster. A schedule declared per epoch and
 * stepped per step is {@link SteppedPerStepDeclaredPerEpoch} instead.
 */
final class SqueezedSchedule implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        SqueezeFit fit = SqueezeFit.of(t);
        if (SteppedPerStepDeclaredPerEpoch.applies(t, fit)) {
            return List.of();
        }
        long k = fit.factor();
        return List.of(
                new Reading(
                        HypothesisKind.SQUEEZED,
                        "the schedule runs " + k + "x faster than declared",
                        "scheduler.step() runs "
                                + k
                                + " times per optimizer step (inside the gradient-accumulation loop, or once per micro-batch/GPU)",
                        SchedulerFixes.STEP_ONCE_PER_OPTIMIZER_STEP,
                        (double) fit.hits() / t.size(),
                        NamedValues.builder().put("squeeze_factor", k).build()));
    }
}
