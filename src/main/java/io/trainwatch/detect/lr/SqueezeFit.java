package io.trainwatch.detect.lr;

/**
 * The best factor k by which the scheduler runs faster than declared (index = s * k), tried over
 * the same factors as {@link StretchFit}: what {@link SteppedPerStepDeclaredPerEpoch} and {@link
 * SqueezedSchedule} read.
 */
record SqueezeFit(long factor, int hits) {
    static SqueezeFit of(Trace t) {
        long[] steps = t.steps();
        double[] actual = t.lrs();
        long best = 0;
        int bestHits = -1;
        for (long k : StretchFit.factors(t)) {
            int sq = 0;
            for (int j = 0; j < steps.length; j++) {
                sq +=
                        steps[j] <= Long.MAX_VALUE / k
                                        && t.matches(actual[j], t.declaredAt(steps[j] * k))
                                ? 1
                                : 0;
            }
            if (sq > bestHits) {
                bestHits = sq;
                best = k;
            }
        }
        return new SqueezeFit(best, bestHits);
    }
}
