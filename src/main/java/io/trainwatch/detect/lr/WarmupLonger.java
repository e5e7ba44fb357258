package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;

/**
 * The trainer warms up longer than declared (YOLOv5's 100/1000-iteration minimum, a warmup counted
 * in micro-batches): the LR is below the declared one and closing in on it (ratio rising or flat),
 * at least partly inside the declared warmup or while the actual LR still rises after the declared
 * one peaked. A constant ratio is {@link BaseLrScaled}, not a longer ramp.
 */
final class WarmupLonger implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        long[] steps = t.steps();
        double[] actual = t.lrs();
        double tol = t.tolerance();
        long warmupEndStep = t.warmupEndStep();
        int n = steps.length;
        boolean below = true;
        boolean closing = true;
        boolean inDeclaredWarmup = false;
        boolean stillRising = true;
        double prevRatio = 0;
        for (int j = 0; j < n; j++) {
            double e = t.declared(j);
            double ratio = e > 0 ? actual[j] / e : Double.NaN;
            below &= e > 0 && actual[j] < e * (1 - tol);
            closing &= !(ratio < prevRatio * (1 - tol));
            prevRatio = Double.isNaN(ratio) ? prevRatio : ratio;
            inDeclaredWarmup |= warmupEndStep > 0 && steps[j] < warmupEndStep;
            if (j > 0) {
                stillRising &= actual[j] >= actual[j - 1] * (1 - tol);
            }
        }
        // rising past the declared warmup end: at least two points after it, the last above the
        // first of them
        int firstPast = -1;
        for (int j = 0; j < n && firstPast < 0; j++) {
            if (warmupEndStep >= 0 && steps[j] >= warmupEndStep) {
                firstPast = j;
            }
        }
        stillRising &=
                firstPast >= 0
                        && firstPast < n - 1
                        && actual[n - 1] > actual[firstPast] * (1 + tol);
        double firstRatio = t.declared(0) > 0 ? actual[0] / t.declared(0) : 0;
        boolean ratioRising =
                prevRatio
                        > firstRatio
                                * (1 + tol); // a constant ratio is a scaled LR, not a longer ramp
        boolean pastDeclaredWarmup = warmupEndStep >= 0 && steps[n - 1] >= warmupEndStep;
        if (!(below
                && closing
                && n >= 2
                && ((inDeclaredWarmup && ratioRising) || (stillRising && pastDeclaredWarmup)))) {
            return List.of();
        }
        return List.of(
                new Reading(
                        HypothesisKind.WARMUP_LONGER,
                        "the LR is still ramping up below the declared schedule: the warmup is longer than declared"
                                + (warmupEndStep > 0 ? " (" + warmupEndStep + " steps)" : ""),
                        "the warmup runs longer than declared: the trainer stretches it (e.g. YOLOv5 warms up for max(warmup_epochs x batches, 100 or 1000) iterations;"
                                + " a warmup counted in micro-batches or samples instead of optimizer steps)",
                        SchedulerFixes.DECLARE_THE_REAL_WARMUP,
                        1.0,
                        NamedValues.builder()
                                .put("declared_warmup_steps", warmupEndStep)
                                .put("actual_to_declared_ratio", prevRatio)
                                .build()));
    }
}
