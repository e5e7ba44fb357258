package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * The schedule is declared per epoch but scheduler.step() runs after every optimizer step: the
 * declared schedule run faster by exactly its declared step_every. Any other speed-up is {@link
 * SqueezedSchedule}.
 */
final class SteppedPerStepDeclaredPerEpoch implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        SqueezeFit fit = SqueezeFit.of(t);
        if (!applies(t, fit)) {
            return List.of();
        }
        long k = fit.factor();
        return List.of(
                new Reading(
                        HypothesisKind.STEPPED_PER_STEP_DECLARED_PER_EPOCH,
                        "the schedule runs " + k + "x faster than declared",
                        "the schedule is declared per epoch but scheduler.step() is called after every optimizer step ("
                                + k
                                + " times per epoch)",
                        SchedulerFixes.STEP_ONCE_PER_EPOCH,
                        (double) fit.hits() / t.size(),
                        NamedValues.builder().put("squeeze_factor", k).build()));
    }

    static boolean applies(Trace t, SqueezeFit fit) {
        return t.schedule().stepEvery() > 1 && fit.factor() == t.schedule().stepEvery();
    }
}
