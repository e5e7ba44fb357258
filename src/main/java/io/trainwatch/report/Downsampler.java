package io.trainwatch.report;

import java.util.Arrays;
import java.util.function.DoublePredicate;

/**
 * Chooses which points of one series are worth drawing at a given width, so a chart of a million
 * steps weighs what a chart of a thousand does. The x range is cut into buckets (one per pixel); in
 * each bucket the first, last, lowest and highest finite points are kept, so spikes, staircases and
 * the line's shape survive.
 *
 * <p>Never dropped: points whose x is {@code forced} (the steps that carry alerts) and non-finite
 * points, of which each bucket keeps its first and last (NaN and infinite values break the line and
 * are drawn as markers; a bucket full of NaNs needs one marker, not hundreds). A step lower than
 * the one before (a resume from a checkpoint) starts a new pass with its own buckets, and the line
 * breaks there.
 *
 * <p>The line joins two kept points only if no non-finite point lay between them in the input and
 * no resume separates them: {@link Reduced#breakBefore} says where to lift the pen.
 */
public final class Downsampler {
    private Downsampler() {}

    /** Indexes into the input to draw, in input order, and whether the line breaks before each. */
    public record Reduced(int[] indexes, boolean[] breakBefore) {
        public int size() {
            return indexes.length;
        }
    }

    /**
     * @param xs x of each point (steps); a decrease starts a new pass
     * @param ys y of each point; NaN and ±Infinity are gaps
     * @param n how many points of the arrays are used
     * @param minX left edge of the plot
     * @param maxX right edge of the plot
     * @param buckets how many buckets the x range is cut into (the plot width in pixels)
     * @param forced x values whose points are always kept
     */
    public static Reduced reduce(
            double[] xs,
            double[] ys,
            int n,
            double minX,
            double maxX,
            int buckets,
            DoublePredicate forced) {
        if (buckets < 1) {
            throw new IllegalArgumentException("buckets must be >= 1, got " + buckets);
        }
        boolean[] keep = new boolean[n];
        int[] pass = new int[n];
        int passStart = 0;
        int passId = 0;
        for (int i = 1; i <= n; i++) {
            if (i == n || xs[i] < xs[i - 1]) {
                Arrays.fill(pass, passStart, i, passId++);
                reducePass(xs, ys, passStart, i, minX, maxX, buckets, forced, keep);
                passStart = i;
            }
        }
        int kept = 0;
        for (boolean k : keep) {
            kept += k ? 1 : 0;
        }
        int[] indexes = new int[kept];
        boolean[] breakBefore = new boolean[kept];
        int out = 0;
        int prev = -1;
        boolean gapSincePrev = false;
        for (int i = 0; i < n; i++) {
            boolean finite = Double.isFinite(ys[i]);
            if (!keep[i]) {
                gapSincePrev |= !finite;
                continue;
            }
            indexes[out] = i;
            breakBefore[out] =
                    prev < 0
                            || gapSincePrev
                            || !finite
                            || !Double.isFinite(ys[prev])
                            || pass[prev] != pass[i];
            out++;
            prev = i;
            gapSincePrev = false;
        }
        return new Reduced(indexes, breakBefore);
    }

    private static void reducePass(
            double[] xs,
            double[] ys,
            int from,
            int to,
            double minX,
            double maxX,
            int buckets,
            DoublePredicate forced,
            boolean[] keep) {
        double width = maxX > minX ? maxX - minX : 1;
        int i = from;
        while (i < to) {
            int bucket = bucket(xs[i], minX, width, buckets);
            int j = i + 1;
            // within a pass x never decreases, so a bucket's points are contiguous
            while (j < to && bucket(xs[j], minX, width, buckets) == bucket) {
                j++;
            }
            int firstGap = -1;
            int lastGap = -1;
            for (int k = i; k < j; k++) {
                if (forced.test(xs[k])) {
                    keep[k] = true;
                }
                if (!Double.isFinite(ys[k])) {
                    if (firstGap < 0) {
                        firstGap = k;
                    }
                    lastGap = k;
                }
            }
            if (firstGap < 0) {
                keepExtremes(ys, i, j, keep);
            } else {
                keepExtremes(ys, i, firstGap, keep);
                keep[firstGap] = true;
                keep[lastGap] = true;
                keepExtremes(ys, lastGap + 1, j, keep);
            }
            i = j;
        }
    }

    private static int bucket(double x, double minX, double width, int buckets) {
        int b = (int) Math.floor((x - minX) / width * buckets);
        return Math.max(0, Math.min(buckets - 1, b));
    }

    /** Keeps the first, last, lowest and highest finite points of [from, to). */
    private static void keepExtremes(double[] ys, int from, int to, boolean[] keep) {
        int first = -1;
        int last = -1;
        int min = -1;
        int max = -1;
        for (int k = from; k < to; k++) {
            double y = ys[k];
            if (!Double.isFinite(y)) {
                continue;
            }
            if (first < 0) {
                first = min = max = k;
            }
            last = k;
            if (y < ys[min]) {
                min = k;
            }
            if (y > ys[max]) {
                max = k;
            }
        }
        if (first >= 0) {
            keep[first] = keep[last] = keep[min] = keep[max] = true;
        }
    }
}
