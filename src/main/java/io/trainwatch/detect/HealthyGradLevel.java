package io.trainwatch.detect;

import io.trainwatch.event.Numbers;

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
 * change for good is followed, an explosion of a few dozen steps is not. A Flink POJO.
 */
public class HealthyGradLevel {
    static final double ALPHA = 0.02;
    static final double OUTLIER_Z = 2.5;

    /** Sigmas above the mean of the suggested max_norm: a 97.7% quantile of a log-normal fit. */
    static final double CLIP_SIGMAS = 2;

    public LogEwma stats = new LogEwma();

    /** Norms left out as outliers or as part of a climb. */
    public long excluded;

    /** Norms left out because an incident was open. */
    public long frozen;

    /** The last step whose norm fed the level (-1: none): where a rewind goes back to. */
    public long lastHealthyStep = -1;

    public HealthyGradLevel() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(HealthyGradLevel other) {
        stats.copyFrom(other.stats);
        excluded = other.excluded;
        frozen = other.frozen;
        lastHealthyStep = other.lastHealthyStep;
    }

    /**
     * Offers the finite grad norm {@code g} of {@code step}; {@code incidentOpen}: an incident of
     * the run is open at this step. The first {@code minPoints} norms are taken as they come (there
     * is nothing yet to judge them against).
     */
    void offer(long step, double g, boolean incidentOpen, int minPoints, double growthRatio) {
        if (incidentOpen) {
            frozen++;
            return;
        }
        if (trusted(minPoints)) {
            double l = Math.log(Math.max(g, 1e-30));
            boolean outlier = stats.z(g) > OUTLIER_Z;
            boolean climbing = l > stats.lowestMean + 0.5 * Math.log(growthRatio);
            if (outlier || climbing) {
                excluded++;
                return;
            }
        }
        stats.add(g, ALPHA, minPoints, Double.POSITIVE_INFINITY);
        lastHealthyStep = step;
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
                + stats.count
                + " healthy grad norms before this (at least "
                + minPoints
                + " are needed to tell the run's healthy level)";
    }
}
