package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * The scheduler runs a constant number of steps ahead of or behind the optimizer: actual(s) =
 * declared(s + d). Among equally good offsets the one with the least error wins, then the smallest.
 */
final class ConstantOffset implements Hypothesis {
    /**
     * Largest offset tried (and how far before the first step after a resume a restart is looked
     * for).
     */
    static final int MAX_OFFSET_STEPS = 64;

    @Override
    public List<Reading> readings(Trace t) {
        long[] steps = t.steps();
        double[] actual = t.lrs();
        int n = steps.length;
        int bestD = 0;
        int bestHits = -1;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int d = -MAX_OFFSET_STEPS; d <= MAX_OFFSET_STEPS; d++) {
            if (Math.abs(d) <= 1) {
                continue; // +-1 is the tolerated logging convention
            }
            int hits = 0;
            double err = 0;
            for (int j = 0; j < n; j++) {
                double e = t.declaredAt(Math.max(0, steps[j] + d));
                hits += t.matches(actual[j], e) ? 1 : 0;
                err += RelativeMatch.error(actual[j], e);
            }
            if (hits > bestHits
                    || (hits == bestHits
                            && (err < bestErr - 1e-12
                                    || (Math.abs(err - bestErr) <= 1e-12
                                            && Math.abs(d) < Math.abs(bestD))))) {
                bestHits = hits;
                bestD = d;
                bestErr = err;
            }
        }
        int d = bestD;
        return List.of(
                d > 0
                        ? new Reading(
                                HypothesisKind.OFFSET_AHEAD,
                                "the LR runs " + d + " steps ahead of the declared schedule",
                                "constant offset of +"
                                        + d
                                        + " steps: scheduler.step() runs before optimizer.step(), or extra scheduler steps were taken at start",
                                SchedulerFixes.ORDER_SCHEDULER_AFTER_OPTIMIZER,
                                (double) bestHits / n,
                                NamedValues.builder().put("offset_steps", d).build())
                        : new Reading(
                                HypothesisKind.OFFSET_BEHIND,
                                "the LR lags the declared schedule by "
                                        + (-d)
                                        + " steps (+-1 for the logging convention)",
                                "constant offset of "
                                        + d
                                        + " steps: optimizer steps without a scheduler step, typically fp16 GradScaler overflows that skip the step"
                                        + " (the scheduler does not advance), or scheduler.step() skipped on some steps",
                                SchedulerFixes.KEEP_SCHEDULER_IN_STEP_WITH_OPTIMIZER,
                                (double) bestHits / n,
                                NamedValues.builder().put("offset_steps", d).build()));
    }
}
