package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * The schedule was sized k times too long (total steps counted in micro-batches or per-GPU
 * batches): the declared schedule run k times slower. A staircase with an epoch's period is {@link
 * SteppedPerEpoch} instead.
 */
final class StretchedSchedule implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        StretchFit fit = StretchFit.of(t);
        if (SteppedPerEpoch.applies(t, fit)) {
            return List.of();
        }
        long k = fit.factor();
        boolean accum = t.gradAccumSteps() != null && k == t.gradAccumSteps();
        return List.of(
                new Reading(
                        HypothesisKind.STRETCHED,
                        "the schedule runs " + k + "x slower than declared",
                        accum
                                ? "the schedule was sized on micro-batches: its total steps were not divided by gradient_accumulation_steps ("
                                        + k
                                        + ")"
                                : "the schedule was sized "
                                        + k
                                        + "x too long: total steps counted in micro-batches (gradient accumulation) or per-GPU batches (world size) instead of optimizer steps",
                        SchedulerFixes.SIZE_IN_OPTIMIZER_STEPS,
                        (double) fit.hits() / t.size(),
                        NamedValues.builder().put("stretch_factor", k).build(),
                        accum));
    }
}
