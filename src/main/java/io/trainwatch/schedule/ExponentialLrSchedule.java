package io.trainwatch.schedule;

/** torch ExponentialLR: {@code base * gamma^index}. */
record ExponentialLrSchedule(double[] baseLrs, double gamma) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        return baseLrs[group] * Math.pow(gamma, (double) index);
    }
}
