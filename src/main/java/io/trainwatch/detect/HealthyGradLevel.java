package io.trainwatch.detect;

import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;

/**
 * The run's grad-norm level from its healthy history alone: the statistic every clip threshold
 * trainwatch suggests comes from. A threshold computed from statistics that the explosion itself
 * feeds climbs with the explosion; so, as ZClip and AdaGC keep their statistics on healthy values,
 * three kinds of step never reach this level:
 *
 * <ul>
 *   <li>the steps of an open incident (a grad explosion, a non-finite step, a loss spike, a warmup
 *       spike, divergence): the level is frozen from the onset until the incident resolves;
 *   <li>outliers: a norm more than {@value #OUTLIER_Z} sigmas above the level (ZClip's threshold);
 *   <li>a climb: a norm above the level's own low times the square root of {@code
 *       grad_growth_ratio}, half the way (in log space) to what the detector calls sustained
 *       growth. A slow climb that no single step shows as an outlier cannot carry the level with
 *       it.
 * </ul>
 *
 * It moves slowly ({@value #ALPHA} per step, about 50 steps of memory), so a run whose gradients
 * change for good is followed, an explosion of a few dozen steps is not.
 *
 * <p>Its start is robust: the first {@code grad_min_points} norms are held back and the level
 * starts from those within the same two rules of their median (OUTLIER_Z robust sigmas, half the
 * growth ratio), so a run whose LR is too high from its first steps, climbing before anything can
 * judge it, does not start with its climb as the healthy level. A Flink POJO.
 */
public class HealthyGradLevel {
    static final double ALPHA = 0.02;
    static final double OUTLIER_Z = 2.5;
    static final int DEFAULT_MIN_POINTS = (int) Threshold.GRAD_MIN_POINTS.defaultValue();

    /** Sigmas above the mean of the suggested max_norm: a 97.7% quantile of a log-normal fit. */
    static final double CLIP_SIGMAS = 2;

    public LogEwma stats = new LogEwma();

    /** Norms left out as outliers or as part of a climb. */
    public long excluded;

    /** Norms left out because an incident was open. */
    public long frozen;

    /** The last step whose norm fed the level (-1: none): where a rewind goes back to. */
    public long lastHealthyStep = -1;

    /**
     * The first norms' logs and steps, held back until there are enough to start from (sized for
     * the default grad_min_points); null after.
     */
    public double[] firstLogs = new double[DEFAULT_MIN_POINTS];

    public long[] firstSteps = new long[DEFAULT_MIN_POINTS];

    public int firstCount;

    public HealthyGradLevel() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(HealthyGradLevel other) {
        stats.copyFrom(other.stats);
        excluded = other.excluded;
        frozen = other.frozen;
        lastHealthyStep = other.lastHealthyStep;
        firstLogs = ArrayCopy.into(other.firstLogs, firstLogs);
        firstSteps = ArrayCopy.into(other.firstSteps, firstSteps);
        firstCount = other.firstCount;
    }

    /**
     * Offers the finite grad norm {@code g} of {@code step}; {@code incidentOpen}: an incident of
     * the run is open at this step. The first {@code minPoints} norms are held back and judged
     * against each other once all have come.
     */
    void offer(long step, double g, boolean incidentOpen, int minPoints, double growthRatio) {
        if (incidentOpen) {
            frozen++;
            return;
        }
        if (!trusted(minPoints)) {
            holdBack(step, g, minPoints, growthRatio);
            return;
        }
        double l = Math.log(Math.max(g, 1e-30));
        boolean outlier = stats.z(g) > OUTLIER_Z;
        boolean climbing = l > stats.lowestMean + 0.5 * Math.log(growthRatio);
        if (outlier || climbing) {
            excluded++;
            return;
        }
        stats.add(g, ALPHA, minPoints, Double.POSITIVE_INFINITY);
        lastHealthyStep = step;
    }

    private void holdBack(long step, double g, int minPoints, double growthRatio) {
        if (firstLogs == null || firstLogs.length != minPoints) {
            firstLogs = new double[minPoints];
            firstSteps = new long[minPoints];
            firstCount = 0;
        }
        firstLogs[firstCount] = Math.log(Math.max(g, 1e-30));
        firstSteps[firstCount] = step;
        if (++firstCount < minPoints) {
            return;
        }
        double[] sorted = firstLogs.clone();
        Arrays.sort(sorted);
        double median = median(sorted);
        double[] deviations = new double[minPoints];
        for (int i = 0; i < minPoints; i++) {
            deviations[i] = Math.abs(firstLogs[i] - median);
        }
        Arrays.sort(deviations);
        double sigma = Math.max(1.4826 * median(deviations), 0.05);
        double limit = median + Math.min(OUTLIER_Z * sigma, 0.5 * Math.log(growthRatio));
        int kept = 0;
        for (int i = 0; i < minPoints; i++) {
            if (firstLogs[i] <= limit) {
                kept++;
            }
        }
        // the warm start of the level, over the kept norms only; counted as minPoints: trusted
        for (int i = 0; i < minPoints; i++) {
            if (firstLogs[i] <= limit) {
                stats.add(Math.exp(firstLogs[i]), 1.0, kept, Double.POSITIVE_INFINITY);
                lastHealthyStep = firstSteps[i];
            } else {
                excluded++;
            }
        }
        stats.count = minPoints;
        stats.lowestMean = stats.mean;
        firstLogs = null;
        firstSteps = null;
        firstCount = 0;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    boolean trusted(int minPoints) {
        return stats.count >= minPoints;
    }

    /**
     * The suggested max_norm, exp(mean + 2 std) of the healthy log grad norms; NaN while fewer than
     * {@code minPoints} healthy norms were seen (no number is better than an invented one).
     */
    double maxNorm(int minPoints) {
        return trusted(minPoints) ? Numbers.round3(stats.upperQuantile(CLIP_SIGMAS)) : Double.NaN;
    }

    /** exp(mean + k std) of the healthy history: a tighter threshold for k below 2. */
    double upperQuantile(double k) {
        return stats.upperQuantile(k);
    }

    /** The healthy geometric mean, the level itself. */
    double geometricMean() {
        return stats.geometricMean();
    }

    /** Where the suggested number came from, for the suggestion's {@code statistic}. */
    String describe() {
        return "exp(mean + 2 std) of log grad norm over "
                + stats.count
                + " healthy steps (healthy geometric mean "
                + Numbers.fmt(geometricMean())
                + "; "
                + excluded
                + " outlying or climbing norms and "
                + frozen
                + " steps of open incidents left out)";
    }

    /** Why there is no number, for a suggestion that cannot carry one. */
    String whyNoNumber(int minPoints) {
        return "no threshold: only "
                + (trusted(minPoints) ? stats.count : firstCount)
                + " healthy grad norms before this (at least "
                + minPoints
                + " are needed to tell the run's healthy level)";
    }
}
