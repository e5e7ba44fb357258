package io.trainwatch.detect.lr;

import java.util.ArrayList;
import java.util.List;

/**
 * The best factor k by which the scheduler runs slower than declared (index = s / k), and whether
 * the trace is then a staircase with an epoch's period: what {@link SteppedPerEpoch} and {@link
 * StretchedSchedule} read.
 */
record StretchFit(long factor, int hits, boolean perEpoch) {
    static final int MAX_STRETCH_FACTOR = 64;

    /** Shortest staircase period read as an epoch without a declared steps_per_epoch. */
    static final long MIN_EPOCH_STEPS = 8;

    static StretchFit of(Trace t) {
        long[] steps = t.steps();
        double[] actual = t.lrs();
        Long stepsPerEpoch = t.stepsPerEpoch();
        Integer gradAccum = t.gradAccumSteps();
        List<Long> factors = factors(t);
        long bestStretch = 0;
        int bestStretchHits = -1;
        int[] floorHitsByFactor = new int[factors.size()];
        for (int f = 0; f < factors.size(); f++) {
            long k = factors.get(f);
            int st = 0;
            for (int j = 0; j < steps.length; j++) {
                boolean floored = t.matches(actual[j], t.declaredAt(steps[j] / k));
                floorHitsByFactor[f] += floored ? 1 : 0;
                st += floored || t.matches(actual[j], stretched(t, steps[j], k)) ? 1 : 0;
            }
            if (st > bestStretchHits) {
                bestStretchHits = st;
                bestStretch = k;
            }
        }
        for (Long known : new Long[] {stepsPerEpoch, gradAccum == null ? null : (long) gradAccum}) {
            // a factor the run itself declared (steps per epoch, gradient accumulation) wins a tie
            if (known != null && known >= 2 && stretchHits(t, known) == bestStretchHits) {
                bestStretch = known;
            }
        }
        long k = bestStretch;
        // a staircase (the floored index explains the points at least as well as a smooth stretch)
        // is a scheduler
        // stepped every k steps; per-epoch periods are long, and a short staircase equal to the
        // declared
        // accumulation factor is accumulation
        int floorHits = floorHitsByFactor[factors.indexOf(k)];
        boolean staircase = floorHits >= bestStretchHits && isStaircase(t, k);
        boolean perEpoch =
                (stepsPerEpoch != null && k == stepsPerEpoch && floorHits >= bestStretchHits)
                        || (k >= MIN_EPOCH_STEPS
                                && (gradAccum == null || k != gradAccum)
                                && staircase);
        return new StretchFit(bestStretch, bestStretchHits, perEpoch);
    }

    /**
     * 2 to {@link #MAX_STRETCH_FACTOR}, and a longer epoch or accumulation factor the run declared.
     */
    static List<Long> factors(Trace t) {
        List<Long> factors = new ArrayList<>();
        for (long k = 2; k <= MAX_STRETCH_FACTOR; k++) {
            factors.add(k);
        }
        if (t.stepsPerEpoch() != null && t.stepsPerEpoch() > MAX_STRETCH_FACTOR) {
            factors.add(t.stepsPerEpoch());
        }
        if (t.gradAccumSteps() != null && t.gradAccumSteps() > MAX_STRETCH_FACTOR) {
            factors.add((long) t.gradAccumSteps());
        }
        return factors;
    }

    private static int stretchHits(Trace t, long k) {
        int hits = 0;
        for (int j = 0; j < t.size(); j++) {
            hits +=
                    t.matches(t.lrs()[j], t.declaredAt(t.steps()[j] / k))
                                    || t.matches(t.lrs()[j], stretched(t, t.steps()[j], k))
                            ? 1
                            : 0;
        }
        return hits;
    }

    /**
     * The declared schedule run k times slower, evaluated between integer indexes (a schedule sized
     * k times too long is smooth).
     */
    private static double stretched(Trace t, long step, long k) {
        long lo = step / k;
        double frac = (double) (step % k) / k;
        double a = t.declaredAt(lo);
        return frac == 0 ? a : a + (t.declaredAt(lo + 1) - a) * frac;
    }

    /**
     * True when points in the same k-step bucket share one LR and the LR changes between buckets.
     */
    private static boolean isStaircase(Trace t, long k) {
        long[] steps = t.steps();
        double[] actual = t.lrs();
        boolean sharedBucket = false;
        boolean changes = false;
        for (int i = 1; i < steps.length; i++) {
            if (steps[i] / k == steps[i - 1] / k) {
                sharedBucket = true;
                if (!t.matches(actual[i], actual[i - 1])) {
                    return false;
                }
            } else {
                changes |= !t.matches(actual[i], actual[i - 1]);
            }
        }
        return sharedBucket && changes;
    }
}
