package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * DIVERGENCE (critical): after warmup, the loss level (median of the last 3 losses, so a single
 * spike does not count) is back {@code divergence_fraction} of the way from its best to where it
 * stood after warmup, clear of the run's own noise (6 noise sigmas), and still rising (10% above
 * its level 2 logged steps earlier and 4% above the previous one), on {@code divergence_steps}
 * logged steps in a row. A spike that plateaus is not rising; a slow over-fitting drift (0.05 to
 * 0.19 on a run that started at 5.5) is far below the run's own range. Suggests halving the LR and
 * rewinding to the best step.
 */
public class DivergenceDetector {
    static final int LEVEL_POINTS = 3;
    static final double NOISE_SIGMAS = 6;
    static final double RISING_RATIO = 1.1;

    /**
     * And above the previous level: a jump that then plateaus (a sustained spike) is not a rise.
     */
    static final double STILL_RISING_RATIO = 1.04;

    static final int CALM_POINTS_TO_RESOLVE = 5;

    public AlertTrack track = new AlertTrack();
    public double refLevel = Double.NaN;
    public double best = Double.POSITIVE_INFINITY;
    public long bestStep = -1;
    public int above;
    public int calm;

    /** The two previous levels, to see the trend. */
    public double level1 = Double.NaN;

    public double level2 = Double.NaN;

    public DivergenceDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(DivergenceDetector other) {
        track.copyFrom(other.track);
        refLevel = other.refLevel;
        best = other.best;
        bestStep = other.bestStep;
        above = other.above;
        calm = other.calm;
        level1 = other.level1;
        level2 = other.level2;
    }

    public void check(StepContext c, List<Alert> out) {
        RobustWindow w = c.run.losses;
        if (!c.lossFinite() || w.size() < LEVEL_POINTS) {
            return;
        }
        double level = recentLevel(w, c.loss);
        double twoBack = level2;
        level2 = level1;
        level1 = level;
        if (c.inWarmup) {
            return;
        }
        if (Double.isNaN(refLevel)) {
            refLevel = level;
        }
        if (level < best) {
            best = level;
            bestStep = c.step;
        }
        double span = Math.max(refLevel - best, 0.25 * Math.abs(best));
        double rangeThreshold = best + c.th(Threshold.DIVERGENCE_FRACTION) * span;
        // the noise is only needed once the level is above the range-based threshold
        double threshold =
                level > rangeThreshold || track.isOpen()
                        ? Math.max(rangeThreshold, best + NOISE_SIGMAS * c.lossNoise())
                        : rangeThreshold;
        double oneBack = level2;
        boolean rising =
                !Double.isNaN(twoBack)
                        && level > RISING_RATIO * twoBack
                        && level > STILL_RISING_RATIO * oneBack;
        if (level > threshold && (rising || track.isOpen())) {
            above++;
            calm = 0;
        } else {
            above = 0;
            calm = level < best + 0.5 * (threshold - best) ? calm + 1 : 0;
        }
        if (!track.isOpen() && above >= c.thInt(Threshold.DIVERGENCE_STEPS)) {
            long rewind = Math.max(0, bestStep);
            out.add(
                    track.open(
                            c,
                            AlertKind.DIVERGENCE,
                            Severity.CRITICAL,
                            "Step "
                                    + c.displayStep()
                                    + ": loss level "
                                    + Numbers.fmt(level)
                                    + " has climbed from its best "
                                    + Numbers.fmt(best)
                                    + " (step "
                                    + c.display(bestStep)
                                    + ") past "
                                    + Numbers.fmt(threshold)
                                    + " and keeps rising.",
                            "divergence: the loss is rising steadily after warmup (not a single spike), typically an LR too high for this phase of training",
                            NamedValues.builder()
                                    .put("loss_level", level)
                                    .put("best_level", best)
                                    .put("best_step", bestStep)
                                    .put("post_warmup_level", refLevel)
                                    .put("threshold", threshold)
                                    .put("steps_above", above)
                                    .put("level_two_steps_before", twoBack)
                                    .put("lr", c.currentLr())
                                    .build(),
                            Suggestions.halveLr(c.currentLr())
                                    .put("rewind_to_step", rewind)
                                    .put(
                                            "change",
                                            TrainingFixes.resumeWithHalvedLr(c.display(rewind)))
                                    .build()));
        } else if (track.isOpen() && calm >= CALM_POINTS_TO_RESOLVE) {
            out.add(
                    track.resolve(
                            c,
                            AlertKind.DIVERGENCE,
                            "loss back near its best",
                            NamedValues.builder()
                                    .put("loss_level", level)
                                    .put("best_level", best)
                                    .build()));
            calm = 0;
        }
    }

    /** Median of the last LEVEL_POINTS - 1 window losses and the current one. */
    static double recentLevel(RobustWindow w, double current) {
        double[] v = new double[LEVEL_POINTS];
        for (int i = 0; i < LEVEL_POINTS - 1; i++) {
            v[i] = w.recent(i);
        }
        v[LEVEL_POINTS - 1] = current;
        Arrays.sort(v);
        return v[LEVEL_POINTS / 2];
    }
}
