package io.trainwatch.detect;

import java.util.Arrays;

/**
 * The last {@link #CAPACITY} finite values of a series, for robust statistics (median, MAD) that a
 * single outlier cannot move. A Flink POJO: its state is one fixed-size array, bounded however long
 * the run.
 */
public class RobustWindow {
    public static final int CAPACITY = 32;

    /** MAD * 1.4826 estimates the standard deviation of normal data. */
    static final double MAD_TO_SIGMA = 1.4826;

    public double[] values = new double[CAPACITY];
    public int count;
    public int next;

    public RobustWindow() {}

    /**
     * Makes this a copy of {@code other}, its sorted view included (see {@link RunState#copyFrom}).
     */
    void copyFrom(RobustWindow other) {
        values = ArrayCopy.into(other.values, values);
        count = other.count;
        next = other.next;
        if (other.ascending != null && other.ascendingOf == other.values) {
            ascending = ArrayCopy.into(other.ascending, ascending);
            ascendingOf = values;
        } else {
            ascendingOf = null;
        }
    }

    /**
     * The window's values in ascending order (first {@code count} valid), kept up to date as values
     * come and go so a median needs no sort (sorting 32 values twice per step was a quarter of the
     * monitor's time). Not state: it is rebuilt from {@link #values} after a restore or a state
     * copy (which leave it null or give a new values array).
     */
    private transient double[] ascending;

    private transient double[] ascendingOf;

    public void add(double v) {
        double[] a = ascending();
        int n = count;
        if (n == CAPACITY) {
            int out = Arrays.binarySearch(a, 0, n, values[next]);
            System.arraycopy(a, out + 1, a, out, n - 1 - out);
            n--;
        }
        int at = Arrays.binarySearch(a, 0, n, v);
        at = at >= 0 ? at : -at - 1;
        System.arraycopy(a, at, a, at + 1, n - at);
        a[at] = v;
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
     * Step-to-step noise, free of the series' trend and not hidden by heavy tails: from the
     * successive differences d (sd of d = sqrt 2 sigma for independent noise), the larger of the
     * MAD estimate and the one implied by the 90th percentile of |d| (2.326 sigma for normal
     * noise). A falling loss does not inflate it (a spread around the median would); noisy
     * per-batch losses (DPO, tiny batches), whose MAD is small but whose tail is wide, get a sigma
     * that makes their tail noise, not spikes.
     */
    public double noiseSigma() {
        if (count < 3) {
            return Double.NaN;
        }
        double[] d = new double[count - 1];
        for (int i = 0; i < count - 1; i++) {
            d[i] = recent(i) - recent(i + 1);
        }
        double[] sorted = d.clone();
        Arrays.sort(sorted);
        double med = median(sorted);
        double[] dev = new double[d.length];
        double[] abs = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            dev[i] = Math.abs(d[i] - med);
            abs[i] = Math.abs(d[i]);
        }
        Arrays.sort(dev);
        Arrays.sort(abs);
        double madSigma = MAD_TO_SIGMA * median(dev) / Math.sqrt(2);
        double tailSigma =
                abs[Math.min(abs.length - 1, (int) Math.floor(0.9 * abs.length))] / 2.326;
        return Math.max(madSigma, tailSigma);
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

    /**
     * The values in ascending order; read-only for callers (when full it is the maintained array
     * itself).
     */
    private double[] sorted() {
        double[] a = ascending();
        return count == CAPACITY ? a : Arrays.copyOf(a, count);
    }

    private double[] ascending() {
        if (ascending == null || ascendingOf != values) {
            ascending = Arrays.copyOf(values, CAPACITY);
            Arrays.sort(ascending, 0, count);
            ascendingOf = values;
        }
        return ascending;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
