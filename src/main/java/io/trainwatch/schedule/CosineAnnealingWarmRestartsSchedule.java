package io.trainwatch.schedule;

/**
 * torch CosineAnnealingWarmRestarts stepped once per call: cycle i lasts {@code T_0 * T_mult^i}
 * steps, so restarts happen at {@code T_0 * (T_mult^k - 1) / (T_mult - 1)}; within a cycle
 * {@code eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2}. Integer arithmetic finds the
 * cycle (O(log index) for T_mult &gt; 1) so there is no floating-point log at cycle boundaries.
 */
record CosineAnnealingWarmRestartsSchedule(double[] baseLrs, long t0, long tMult, double etaMin) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        long tCur;
        long tI;
        if (tMult == 1) {
            tCur = index % t0;
            tI = t0;
        } else {
            long start = 0;
            tI = t0;
            while (index - start >= tI) {
                start += tI;
                if (tI > Long.MAX_VALUE / tMult) {
                    break; // the next cycle is longer than any reachable index
                }
                tI *= tMult;
            }
            tCur = index - start;
        }
        return etaMin + (baseLrs[group] - etaMin) * (1 + Math.cos(Math.PI * tCur / tI)) / 2;
    }
}
