package io.trainwatch.schedule;

/**
 * torch ReduceLROnPlateau declared as adaptive: its LR depends on the metric, so only a range is
 * predictable. The LR may only stay or drop to {@code max(lr * factor, min_lr)}; a drop needs
 * {@code patience + 1} bad calls, and after a drop {@code cooldown} more calls, so after {@code n}
 * calls at most {@code 1 + (n - patience - 1) / (cooldown + patience + 1)} drops can have happened.
 */
record ReduceLrOnPlateauSchedule(
        double[] baseLrs, double[] minLrs, double factor, long patience, long cooldown)
        implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public boolean adaptive() {
        return true;
    }

    /** Not predictable: use {@link #lowestLr}/{@link #highestLr}. */
    public double lr(int group, long index) {
        throw new UnsupportedOperationException(
                "ReduceLROnPlateau is adaptive: its LR is a range, see lowestLr/highestLr");
    }

    public double lowestLr(int group, long index) {
        long drops = maxDrops(index);
        return Math.max(minLrs[group], baseLrs[group] * Math.pow(factor, (double) drops));
    }

    public double highestLr(int group, long index) {
        return baseLrs[group];
    }

    long maxDrops(long calls) {
        if (calls < patience + 1) {
            return 0;
        }
        return 1 + (calls - patience - 1) / (cooldown + patience + 1);
    }
}
