package io.trainwatch.detect;

/**
 * Exponentially weighted mean and variance of log(x), as ZClip keeps for gradient norms: grad norms
 * are heavy-tailed and scale-free, so deviations are judged in log space. A Flink POJO.
 */
public class LogEwma {
    public double mean;
    public double variance;
    public long count;

    /** Lowest mean seen once trusted, for sustained-growth checks. */
    public double lowestMean = Double.POSITIVE_INFINITY;

    public LogEwma() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(LogEwma other) {
        mean = other.mean;
        variance = other.variance;
        count = other.count;
        lowestMean = other.lowestMean;
    }

    /**
     * Adds x. Once trusted, an outlier (z above {@code outlierZ}) moves the mean by at most one std
     * and leaves the variance alone: letting it in, even clipped at the threshold, would multiply
     * the variance by about (1 - a)(1 + a z^2) per outlier and an explosion would hide itself
     * behind its own spread.
     */
    public void add(double x, double alpha, int minPoints, double outlierZ) {
        double l = Math.log(Math.max(x, 1e-30));
        if (count >= minPoints && (l - mean) / Math.max(std(), 0.05) > outlierZ) {
            count++;
            mean += alpha * Math.max(std(), 0.05);
            return;
        }
        count++;
        if (count == 1) {
            mean = l;
            variance = 0;
            return;
        }
        // warm start: plain running mean/variance until minPoints, then EMA
        double a = count <= minPoints ? 1.0 / count : alpha;
        double delta = l - mean;
        mean += a * delta;
        variance = (1 - a) * (variance + a * delta * delta);
        if (count >= minPoints) {
            lowestMean = Math.min(lowestMean, mean);
        }
    }

    public double std() {
        return Math.sqrt(Math.max(variance, 0));
    }

    /**
     * z-score of x in log space; the std has a floor so a perfectly flat history does not make
     * every wiggle an outlier.
     */
    public double z(double x) {
        double s = Math.max(std(), 0.05);
        return (Math.log(Math.max(x, 1e-30)) - mean) / s;
    }

    /** The geometric mean, exp(mean of log x). */
    public double geometricMean() {
        return Math.exp(mean);
    }

    /** exp(mean + k * std): the k-sigma upper quantile of a log-normal fit. */
    public double upperQuantile(double k) {
        return Math.exp(mean + k * std());
    }
}
