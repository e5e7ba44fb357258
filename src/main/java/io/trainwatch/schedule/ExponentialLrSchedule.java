package io.trainwatch.schedule;

/**
 * torch ExponentialLR: {@code base * gamma^index}; gamma &gt; 1 (an LR range test) saturates at the
 * largest double.
 */
record ExponentialLrSchedule(double[] baseLrs, double gamma) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        return Saturating.times(baseLrs[group], Math.pow(gamma, (double) index));
    }
}
