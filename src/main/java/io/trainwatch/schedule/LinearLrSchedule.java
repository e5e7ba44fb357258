package io.trainwatch.schedule;

/**
 * torch LinearLR, closed form {@code base * (start + (end - start) * min(total, index) / total)};
 * within 4e-15 relative of torch's chainable values (measured on the recorded torch cases). {@code
 * total_iters = 0}: the chainable code multiplies by start_factor once and never again.
 */
record LinearLrSchedule(double[] baseLrs, double startFactor, double endFactor, long totalIters)
        implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        if (totalIters == 0) {
            return baseLrs[group] * startFactor;
        }
        // with end_factor 0 the closed form can land a rounding error below 0 where the exact value
        // is 0
        return Math.max(
                0.0,
                baseLrs[group]
                        * (startFactor
                                + (endFactor - startFactor)
                                        * Math.min(totalIters, index)
                                        / totalIters));
    }
}
