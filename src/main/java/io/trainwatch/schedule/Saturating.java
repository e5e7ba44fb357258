package io.trainwatch.schedule;

/**
 * Products of an LR and a growth factor ({@code gamma^k} with gamma &gt; 1, as an LR range test
 * declares with ExponentialLR): past enough steps torch's LR becomes inf; trainwatch answers the
 * largest finite double instead, so every LR it gives is finite. Where both are finite the result
 * is the plain product, bit for bit.
 */
final class Saturating {
    private Saturating() {}

    /**
     * {@code lr * factor} for {@code lr} finite and &gt;= 0 and {@code factor} &gt;= 0 (possibly
     * +inf), at most {@link Double#MAX_VALUE}; an LR of 0 stays 0 whatever the factor, as torch's
     * repeated multiplication keeps it.
     */
    static double times(double lr, double factor) {
        double p = lr * factor;
        if (p <= Double.MAX_VALUE) {
            return p;
        }
        return lr == 0 || factor == 0 ? 0.0 : Double.MAX_VALUE; // NaN is 0 * inf
    }
}
