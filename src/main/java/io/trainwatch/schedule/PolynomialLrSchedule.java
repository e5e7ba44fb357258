package io.trainwatch.schedule;

/**
 * torch PolynomialLR: {@code base * (1 - min(total, index)/total)^power}, reaching exactly 0 at
 * {@code total_iters} and staying there. {@code total_iters = 0}: the chainable code never changes
 * the LR.
 */
record PolynomialLrSchedule(double[] baseLrs, long totalIters, double power) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        if (totalIters == 0) {
            return baseLrs[group];
        }
        return baseLrs[group]
                * Math.pow(1.0 - (double) Math.min(totalIters, index) / totalIters, power);
    }
}
