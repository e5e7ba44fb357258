package io.trainwatch.schedule;

/** torch StepLR: {@code base * gamma^(index // step_size)} (torch's own closed form). */
record StepLrSchedule(double[] baseLrs, long stepSize, double gamma) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        return Saturating.times(baseLrs[group], Math.pow(gamma, (double) (index / stepSize)));
    }
}
