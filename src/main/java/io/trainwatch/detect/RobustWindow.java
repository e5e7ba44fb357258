package io.trainwatch.detect;

import java.util.Arrays;

/**
 * The last {@link #CAPACITY} finite values of a series, for robust statistics (median, MAD) that a single
 * outlier cannot move. A Flink POJO: its state is one fixed-size array, bounded however long the run.
 */
public class RobustWindow {
    public static final int CAPACITY = 32;
    /** MAD * 1.4826 estimates the standard deviation of normal data. */
    static final double MAD_TO_SIGMA = 1.4826;

    public double[] values = new double[CAPACITY];
    public int count;
    public int next;

    public RobustWindow() {
    }

    public void add(double v) {
        values[next] = v;
        next = (next + 1) % CAPACITY;
        if (count < CAPACITY) {
            count++;
        }
    }

    public int size() {
        return count;
    }

    public double median() {
        return median(sorted());
    }

    /** Robust standard deviation: 1.4826 times the median absolute deviation. */
    public double robustSigma() {
        double[] s = sorted();
        double m = median(s);
        double[] dev = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            dev[i] = Math.abs(s[i] - m);
        }
        Arrays.sort(dev);
        return MAD_TO_SIGMA * median(dev);
    }

    /** The q-quantile (0..1) of the window, nearest rank. */
    public double quantile(double q) {
        double[] s = sorted();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s[Math.min(s.length - 1, (int) Math.floor(q * s.length))];
    }

    /**
     * A spread that heavy tails cannot hide: the larger of the MAD-based sigma and the sigma implied by the
     * distance from the median to the 90th percentile. Noisy per-batch losses (DPO, tiny batches) have a small
     * MAD but a wide upper tail; for them a value in that tail is noise, not a spike.
     */
    public double tailAwareSigma() {
        return Math.max(robustSigma(), (quantile(0.9) - median()) / 1.2816);
    }

    public double min() {
        double m = Double.POSITIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            m = Math.min(m, values[i]);
        }
        return m;
    }

    /** The most recent value, or NaN when empty. */
    public double last() {
        return count == 0 ? Double.NaN : values[(next - 1 + CAPACITY) % CAPACITY];
    }

    /** The k-th most recent value (0 = last). */
    public double recent(int k) {
        return values[(next - 1 - k + 2 * CAPACITY) % CAPACITY];
    }

    private double[] sorted() {
        double[] s = Arrays.copyOf(count == CAPACITY ? values : Arrays.copyOf(values, count), count);
        Arrays.sort(s);
        return s;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
