package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.List;

/**
 * GRAD_EXPLOSION: a grad norm that is an outlier of the run's own recent history — z of its log
 * above {@code grad_z_threshold} against the median and MAD of the last 32 log grad norms (a steady
 * climb cannot widen them the way it widens an EMA variance) and at least {@code grad_min_ratio}
 * times their median — or sustained growth of the ZClip-style EMA of log grad norm ({@code
 * grad_growth_ratio} times its low). One outlier is a warning; outliers on 3 logged steps in a row,
 * or sustained growth, make it critical. The suggested max_norm is exp(mean + 2 std) of the log
 * grad norm of the run's healthy steps ({@link HealthyGradLevel}, a 97.7% quantile), chosen once at
 * the incident's onset; with clipping already on and the norm staying far above it, a tighter one;
 * none while the healthy history is too short.
 */
public class GradExplosionDetector {
    static final int SUSTAINED_POINTS = 3;

    /**
     * Floor of the log-space sigma: a perfectly steady norm should not make a 10% wiggle an
     * outlier.
     */
    static final double LOG_SIGMA_FLOOR = 0.05;

    static final int CALM_POINTS_TO_RESOLVE = 5;

    public AlertTrack track = new AlertTrack();
    public int outlierStreak;
    public int calmStreak;
    public double worstNorm;

    /** The open incident's suggested max_norm (NaN: the evidence gave none), and its source. */
    public double incidentMaxNorm = Double.NaN;

    public String incidentStatistic;

    public GradExplosionDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(GradExplosionDetector other) {
        track.copyFrom(other.track);
        outlierStreak = other.outlierStreak;
        calmStreak = other.calmStreak;
        worstNorm = other.worstNorm;
        incidentMaxNorm = other.incidentMaxNorm;
        incidentStatistic = other.incidentStatistic;
    }

    /**
     * The incident's max_norm from the run's healthy grad-norm level: exp(mean + 2 std) of its log;
     * with clipping already on and the norm far above it, the tighter of the current threshold and
     * exp(mean + 1 std). None while the healthy history is too short to tell.
     */
    private void chooseMaxNorm(StepContext c, double g, int minPoints) {
        HealthyGradLevel healthy = c.run.healthyGrad;
        Double clip = c.run.gradClip;
        if (!healthy.trusted(minPoints)) {
            incidentMaxNorm = Double.NaN;
            incidentStatistic = healthy.whyNoNumber(minPoints);
        } else if (clip != null && g > 10 * clip) {
            incidentMaxNorm = Numbers.round3(Math.min(clip, healthy.upperQuantile(1)));
            incidentStatistic =
                    "min(current max_norm, exp(mean + 1 std) of the healthy log grad norm): clipping at "
                            + Numbers.fmt(clip)
                            + " is on but the norm is "
                            + Numbers.fmt(g / clip)
                            + "x above it; "
                            + healthy.describe();
        } else {
            incidentMaxNorm = healthy.maxNorm(minPoints);
            incidentStatistic = healthy.describe();
        }
    }

    private static Double healthyLevel(StepContext c, int minPoints) {
        return c.run.healthyGrad.trusted(minPoints) ? c.run.healthyGrad.geometricMean() : null;
    }

    public void check(StepContext c, List<Alert> out) {
        if (!c.gradFinite()) {
            return;
        }
        LogEwma st = c.run.gradStats;
        RobustWindow recent = c.run.gradLogs;
        if (st.count < c.thInt(Threshold.GRAD_MIN_POINTS)
                || recent.size() < c.thInt(Threshold.GRAD_MIN_POINTS)) {
            return;
        }
        double g = c.gradNorm;
        double logMedian = c.gradLogMedian();
        double ratio = g / Math.exp(logMedian);
        // the ratio test is cheap; the spread is only needed for a norm that passes it
        double z =
                ratio > c.th(Threshold.GRAD_MIN_RATIO)
                        ? (Math.log(g) - logMedian) / c.gradLogSigma(LOG_SIGMA_FLOOR)
                        : 0;
        boolean outlier =
                z > c.th(Threshold.GRAD_Z_THRESHOLD) && ratio > c.th(Threshold.GRAD_MIN_RATIO);
        boolean grown =
                Double.isFinite(st.lowestMean)
                        && st.mean - st.lowestMean > Math.log(c.th(Threshold.GRAD_GROWTH_RATIO));
        if (!outlier && !grown) {
            outlierStreak = 0;
            if (track.isOpen() && ++calmStreak >= CALM_POINTS_TO_RESOLVE) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.GRAD_EXPLOSION,
                                "grad norm back within its usual range for "
                                        + calmStreak
                                        + " steps",
                                NamedValues.builder()
                                        .put("grad_norm", g)
                                        .put("recent_median", Math.exp(logMedian))
                                        .build()));
                calmStreak = 0;
                worstNorm = 0;
                incidentMaxNorm = Double.NaN;
                incidentStatistic = null;
            }
            return;
        }
        calmStreak = 0;
        outlierStreak = outlier ? outlierStreak + 1 : outlierStreak;
        worstNorm = Math.max(worstNorm, g);
        boolean sustained = grown || outlierStreak >= SUSTAINED_POINTS;
        int minPoints = c.thInt(Threshold.GRAD_MIN_POINTS);
        if (!track.isOpen()) {
            // one threshold per incident, set at its onset from the healthy level (which the
            // incident's own steps do not feed)
            chooseMaxNorm(c, g, minPoints);
        }
        double maxNorm = incidentMaxNorm;
        boolean hasNumber = !Double.isNaN(maxNorm);
        NamedValues evidence =
                NamedValues.builder()
                        .put("grad_norm", g)
                        .put("z_score", z)
                        .put("ratio_to_recent_median", ratio)
                        .put("recent_median", Math.exp(logMedian))
                        .put("recent_log_sigma", c.gradLogSigma(LOG_SIGMA_FLOOR))
                        .put("ema_geometric_mean", st.geometricMean())
                        .put("outlier_steps_in_a_row", outlierStreak)
                        .put("sustained_growth", grown)
                        .put("grad_clip", c.run.gradClip)
                        .put("healthy_geometric_mean", healthyLevel(c, minPoints))
                        .put("loss", c.loss)
                        .build();
        NamedValues suggestion =
                NamedValues.builder()
                        .put("action", "clip_grad_norm")
                        .put("max_norm", hasNumber ? maxNorm : null)
                        .put("statistic", incidentStatistic)
                        .put("lr_factor", sustained ? 0.5 : null)
                        .put("new_lr", sustained ? Numbers.round3(c.currentLr() * 0.5) : null)
                        .put(
                                "change",
                                hasNumber
                                        ? TrainingFixes.clipGradNorm(maxNorm, sustained)
                                        : TrainingFixes.clipGradNormAtAHealthyLevel(sustained))
                        .build();
        String what =
                grown
                        ? "the grad norm has grown "
                                + Numbers.fmt(Math.exp(st.mean - st.lowestMean))
                                + "x over the run (now "
                                + Numbers.fmt(g)
                                + ")"
                        : "grad norm "
                                + Numbers.fmt(g)
                                + " is "
                                + Numbers.fmt(ratio)
                                + "x its recent median (z "
                                + Numbers.fmt(z)
                                + ")";
        if (!track.isOpen()) {
            out.add(
                    track.open(
                            c,
                            AlertKind.GRAD_EXPLOSION,
                            sustained ? Severity.CRITICAL : Severity.WARNING,
                            "Step " + c.displayStep() + ": " + what + ".",
                            sustained
                                    ? "gradient explosion: the grad norm stays far above its history"
                                    : "gradient spike: one step's grad norm far above the run's history",
                            evidence,
                            suggestion));
        } else if (sustained && "warning".equals(track.severity)) {
            Alert a =
                    track.update(
                            c,
                            AlertKind.GRAD_EXPLOSION,
                            Severity.CRITICAL,
                            "Step "
                                    + c.displayStep()
                                    + ": "
                                    + what
                                    + ", for "
                                    + outlierStreak
                                    + " steps in a row.",
                            "gradient explosion: the grad norm stays far above its history",
                            evidence,
                            suggestion);
            if (a != null) {
                out.add(a);
            }
        }
    }
}
