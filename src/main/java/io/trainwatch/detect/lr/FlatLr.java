package io.trainwatch.detect.lr;

/**
 * The actual LR read as one constant (its median), how many points it explains, and whether the
 * declared LR moved: what {@link DecayNeverHappens} and {@link FrozenLr} read.
 *
 * @param atPeak the constant is the declared peak LR
 */
record FlatLr(double level, int flatPoints, boolean declaredMoves, boolean atPeak) {
    static FlatLr of(Trace t) {
        double[] actual = t.lrs();
        long[] steps = t.steps();
        int n = steps.length;
        double med = LrDiagnosis.median(actual.clone());
        int flat = 0;
        for (int j = 0; j < n; j++) {
            flat += t.matches(actual[j], med) ? 1 : 0;
        }
        boolean declaredMoves = false;
        for (int j = 1; j < n && !declaredMoves; j++) {
            declaredMoves = !RelativeMatch.matches(t.declared(j), t.declared(0), t.tolerance() / 2);
        }
        declaredMoves |= t.segmentDeclaredMoved();
        boolean atPeak = Double.isFinite(t.peakLr()) && t.matches(med, t.peakLr());
        if (!t.segmentFlat()) {
            flat = 0; // it moved earlier in the mismatch: neither frozen nor stuck
        }
        return new FlatLr(med, flat, declaredMoves, atPeak);
    }
}
