package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;

import java.util.Arrays;
import java.util.List;

/**
 * The base LR differs from the declared one by a constant factor c (a resumed scheduler keeps its
 * stored base LR, an LR scaled by world size, a wrong learning_rate): actual(s) = c · declared(s),
 * c the median ratio, |c - 1| beyond three tolerances.
 */
final class BaseLrScaled implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        double[] actual = t.lrs();
        int n = t.size();
        double[] ratios = new double[n];
        int m = 0;
        for (int j = 0; j < n; j++) {
            double e = t.declared(j);
            if (e > 0 && actual[j] > 0) {
                ratios[m++] = actual[j] / e;
            }
        }
        if (m < 2) {
            return List.of();
        }
        double c = LrDiagnosis.median(Arrays.copyOf(ratios, m));
        if (!(Math.abs(c - 1) > 3 * t.tolerance())) {
            return List.of();
        }
        int hits = 0;
        for (int j = 0; j < n; j++) {
            hits += t.matches(actual[j], c * t.declared(j)) ? 1 : 0;
        }
        return List.of(
                new Reading(
                        HypothesisKind.BASE_LR_SCALED,
                        "the LR is " + Numbers.fmt(c) + "x the declared value throughout",
                        "the base LR differs from the declared one by a factor "
                                + Numbers.fmt(c)
                                + " (a resumed scheduler keeps the base LR stored in its checkpoint; an LR scaled by world size or batch size; a wrong learning_rate)",
                        SchedulerFixes.setBaseLr(c),
                        (double) hits / n,
                        NamedValues.builder()
                                .put("lr_factor", Numbers.round3(1 / c))
                                .put("observed_scale", c)
                                .build()));
    }
}
