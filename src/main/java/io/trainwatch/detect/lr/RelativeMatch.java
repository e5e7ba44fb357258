package io.trainwatch.detect.lr;

/** How an LR is compared with the declared one: relative to the larger of the two. */
public final class RelativeMatch {
    private RelativeMatch() {}

    /** |a - e| relative to the larger of the two (so an expected 0 gives 1, not infinity). */
    public static double error(double actual, double expected) {
        double scale = Math.max(Math.abs(actual), Math.abs(expected));
        return scale == 0 ? 0 : Math.abs(actual - expected) / scale;
    }

    public static boolean matches(double actual, double expected, double tol) {
        return Math.abs(actual - expected)
                <= 1e-12 + tol * Math.max(Math.abs(actual), Math.abs(expected));
    }
}
