package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Explains an actual-vs-declared LR trace: tries each known wiring bug ({@link #HYPOTHESES}) and
 * keeps the reading that explains the most points; among equally good ones the most specific
 * ({@link HypothesisKind} rank, a factor the run declared first). Several readings can explain the
 * same few points (a 2x stretch, a longer warmup and a 0.5x base LR look alike during a linear
 * warmup): the diagnosis then names the others it could still be.
 */
public final class LrDiagnosis {
    /** A hypothesis must explain this share of the points to be named. */
    static final double MIN_FIT = 0.8;

    /**
     * Tried in this order; on a tie of fit and rank the earlier reading wins, and the others are
     * named in this order.
     */
    static final List<Hypothesis> HYPOTHESES =
            List.of(
                    new RestartedOnResume(),
                    new ConstantOffset(),
                    new SteppedPerEpoch(),
                    new StretchedSchedule(),
                    new SteppedPerStepDeclaredPerEpoch(),
                    new SqueezedSchedule(),
                    new WarmupLonger(),
                    new BaseLrScaled(),
                    new DecayNeverHappens(),
                    new FrozenLr());

    private LrDiagnosis() {}

    /**
     * The best reading of the trace, or an {@link HypothesisKind#UNEXPLAINED} one when none
     * explains {@link #MIN_FIT} of it.
     */
    public static Reading diagnose(Trace t) {
        int n = t.size();
        List<Reading> candidates = new ArrayList<>();
        for (Hypothesis h : HYPOTHESES) {
            candidates.addAll(h.readings(t));
        }
        Reading best = null;
        for (Reading r : candidates) {
            if (r.fit() < MIN_FIT) {
                continue;
            }
            if (best == null
                    || r.fit() > best.fit() + 1e-9
                    || (Math.abs(r.fit() - best.fit()) <= 1e-9
                            && r.preference() < best.preference())) {
                best = r;
            }
        }
        if (best != null) {
            List<String> alsoFit = new ArrayList<>();
            List<String> tied = new ArrayList<>();
            for (Reading r : candidates) {
                if (Math.abs(r.fit() - best.fit()) <= 1e-9) {
                    tied.add(r.signature());
                    if (r != best && r.kind() != best.kind() && !alsoFit.contains(r.summary())) {
                        alsoFit.add(r.summary());
                    }
                }
            }
            String diagnosis =
                    alsoFit.isEmpty()
                            ? best.diagnosis()
                            : best.diagnosis()
                                    + " (with "
                                    + n
                                    + " points this is the most specific reading; also consistent: "
                                    + String.join(
                                            "; ", alsoFit.subList(0, Math.min(2, alsoFit.size())))
                                    + "; an update will follow if more steps tell them apart)";
            return new Reading(
                    best.kind(),
                    best.summary(),
                    diagnosis,
                    best.change(),
                    best.fit(),
                    best.numbers(),
                    best.declaredFactor(),
                    tied);
        }
        double worst = 0;
        for (int j = 0; j < n; j++) {
            worst = Math.max(worst, RelativeMatch.error(t.lrs()[j], t.declared(j)));
        }
        return new Reading(
                HypothesisKind.UNEXPLAINED,
                "the LR deviates from the declared schedule (max relative error "
                        + Numbers.fmt(worst)
                        + ")",
                "the actual LR follows none of the known wiring bugs (offset, restart, stretch, per-epoch stepping, base LR, override, frozen)",
                SchedulerFixes.COMPARE_WITH_DECLARED,
                0,
                NamedValues.builder().put("max_relative_error", worst).build());
    }

    static double median(double[] v) {
        Arrays.sort(v);
        int n = v.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
