package io.trainwatch.schedule;

/**
 * torch CosineAnnealingWarmRestarts stepped once per call: cycle i lasts {@code T_0 * T_mult^i}
 * steps, so restarts happen at {@code T_0 * (T_mult^k - 1) / (T_mult - 1)}; within a cycle {@code
 * eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2}. Integer arithmetic finds the cycle
 * (O(log index) for T_mult &gt; 1) so there is no floating-point log at cycle boundaries.
 */
record CosineAnnealingWarmRestartsSchedule(double[] baseLrs, long t0, long tMult, double etaMin)
        implements Schedule {
    /**
     * The cycle that holds an index: its first index, its length, and how many loop iterations
     * finding it took.
     */
    record Cycle(long start, double length, int iterations) {}

    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        Cycle c = cycleOf(index);
        long tCur = index - c.start();
        return etaMin + (baseLrs[group] - etaMin) * (1 + Math.cos(Math.PI * tCur / c.length())) / 2;
    }

    /**
     * For T_mult &gt; 1 every cycle is at least twice the one before, so the loop passes at most 62
     * cycles before any index below 2^63 (54 for the indexes a DeclaredSchedule asks for, at most
     * 2^54 + 1), whatever T_0 and T_mult.
     */
    Cycle cycleOf(long index) {
        if (tMult == 1) {
            return new Cycle(index - index % t0, t0, 0);
        }
        long start = 0;
        long tI = t0;
        int iterations = 0;
        while (index - start >= tI) {
            iterations++;
            start += tI;
            if (tI > Long.MAX_VALUE / tMult) {
                // the next cycle is longer than any index: it holds this one, and its length is
                // only needed as a double
                return new Cycle(start, (double) tI * tMult, iterations);
            }
            tI *= tMult;
        }
        return new Cycle(start, tI, iterations);
    }
}
