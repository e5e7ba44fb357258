package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * STALL (info): after warmup, the loss level now (median of the last 16 losses) is no better than
 * it was {@code stall_window_steps} optimizer steps ago — better by less than {@code
 * stall_min_improvement} of the run's own loss range (post-warmup level minus the lowest level
 * seen; 5% of the loss if it never fell) and less than three standard errors of the level — over at
 * least {@code stall_min_points} logged steps, while the LR is still meaningful (5% of its peak)
 * and the loss is not already ~0. With hysteresis, so a loss creeping along the threshold gives one
 * alert, not many: it resolves only on twice the progress that was missing, and no new STALL opens
 * within a window of a resolve. Past levels are kept in a ring of {@link #CHECKPOINTS} checkpoints
 * spaced a sixteenth of the window apart, so the state stays bounded; the judgement is taken at
 * those checkpoints only.
 */
public class StallDetector {
    static final int CHECKPOINTS = 16;
    static final int LEVEL_POINTS = 16;
    static final double CONVERGED_LOSS = 1e-3;
    static final double MEANINGFUL_LR_FRACTION = 0.05;

    public AlertTrack track = new AlertTrack();
    public long[] checkpointSteps = new long[CHECKPOINTS];
    public double[] checkpointLevels = new double[CHECKPOINTS];
    public long[] checkpointPoints = new long[CHECKPOINTS];
    public int checkpointCount;
    public int checkpointNext;
    public long postWarmupPoints;
    public double startLevel = Double.NaN;
    public double lowestLevel = Double.POSITIVE_INFINITY;
    public long lastResolvedStep = -1;

    public StallDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(StallDetector other) {
        track.copyFrom(other.track);
        checkpointSteps = ArrayCopy.into(other.checkpointSteps, checkpointSteps);
        checkpointLevels = ArrayCopy.into(other.checkpointLevels, checkpointLevels);
        checkpointPoints = ArrayCopy.into(other.checkpointPoints, checkpointPoints);
        checkpointCount = other.checkpointCount;
        checkpointNext = other.checkpointNext;
        postWarmupPoints = other.postWarmupPoints;
        startLevel = other.startLevel;
        lowestLevel = other.lowestLevel;
        lastResolvedStep = other.lastResolvedStep;
    }

    public void check(StepContext c, List<Alert> out) {
        RobustWindow w = c.run.losses;
        if (!c.lossFinite() || c.inWarmup || w.size() < LEVEL_POINTS) {
            return;
        }
        postWarmupPoints++;
        long window = (long) c.th(Threshold.STALL_WINDOW_STEPS);
        long lastCheckpoint =
                checkpointCount == 0
                        ? Long.MIN_VALUE
                        : checkpointSteps[(checkpointNext - 1 + CHECKPOINTS) % CHECKPOINTS];
        // a windowed judgement: taken once per checkpoint spacing (window/16), not at every step
        if (checkpointCount > 0 && c.step < lastCheckpoint + Math.max(1, window / CHECKPOINTS)) {
            return;
        }
        double level = level(w, c.loss);
        if (Double.isNaN(startLevel)) {
            startLevel = level;
        }
        lowestLevel = Math.min(lowestLevel, level);
        int then = checkpointAtOrBefore(c.step - window);
        // read the checkpoint a window ago before this one is stored: the ring may overwrite
        // exactly that slot
        double before = then < 0 ? Double.NaN : checkpointLevels[then];
        long since = then < 0 ? -1 : checkpointSteps[then];
        long points = then < 0 ? 0 : postWarmupPoints - checkpointPoints[then];
        checkpointSteps[checkpointNext] = c.step;
        checkpointLevels[checkpointNext] = level;
        checkpointPoints[checkpointNext] = postWarmupPoints;
        checkpointNext = (checkpointNext + 1) % CHECKPOINTS;
        checkpointCount = Math.min(checkpointCount + 1, CHECKPOINTS);
        if (then < 0) {
            return;
        }
        double range = Math.max(startLevel - lowestLevel, 0.05 * Math.abs(lowestLevel));
        double standardError =
                1.2533
                        * c.lossNoise()
                        / Math.sqrt(LEVEL_POINTS); // sd of a median of n normal values
        double needed = Math.max(c.th(Threshold.STALL_MIN_IMPROVEMENT) * range, 3 * standardError);
        boolean progress = before - level >= needed;
        if (track.isOpen()) {
            if (before - level >= 2 * needed) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.STALL,
                                "the loss is improving again",
                                NamedValues.builder()
                                        .put("loss_level", level)
                                        .put("level_window_ago", before)
                                        .build()));
                lastResolvedStep = c.step;
            }
            return;
        }
        if (progress || (lastResolvedStep >= 0 && c.step - lastResolvedStep < window)) {
            return;
        }
        double peak = c.run.peakLr;
        double lr = c.currentLr();
        boolean lrMeaningful =
                !Double.isFinite(peak)
                        || !Double.isFinite(lr)
                        || lr >= MEANINGFUL_LR_FRACTION * peak;
        if (points >= c.thInt(Threshold.STALL_MIN_POINTS)
                && Math.abs(level) > CONVERGED_LOSS
                && lrMeaningful) {
            out.add(
                    track.open(
                            c,
                            AlertKind.STALL,
                            Severity.INFO,
                            "Step "
                                    + c.displayStep()
                                    + ": no progress for "
                                    + (c.step - since)
                                    + " steps (loss level "
                                    + Numbers.fmt(level)
                                    + ", was "
                                    + Numbers.fmt(before)
                                    + " at step "
                                    + c.display(since)
                                    + ").",
                            "the loss has plateaued: the LR may be too high to descend further or too low to escape, or the model has reached its capacity on this data",
                            NamedValues.builder()
                                    .put("loss_level", level)
                                    .put("level_window_ago", before)
                                    .put("window_start_step", since)
                                    .put("improvement", before - level)
                                    .put("improvement_needed", needed)
                                    .put("logged_steps_in_window", points)
                                    .put("lr", lr)
                                    .build(),
                            Suggestions.halveLr(lr)
                                    .put("change", TrainingFixes.HALVE_LR_AS_ON_PLATEAU)
                                    .build()));
        }
    }

    /** The newest checkpoint at or before {@code step}, or -1. */
    private int checkpointAtOrBefore(long step) {
        int best = -1;
        for (int i = 0; i < checkpointCount; i++) {
            if (checkpointSteps[i] <= step
                    && (best < 0 || checkpointSteps[i] > checkpointSteps[best])) {
                best = i;
            }
        }
        return best;
    }

    /** Median of the last LEVEL_POINTS - 1 window losses and the current one. */
    private static double level(RobustWindow w, double current) {
        double[] v = new double[LEVEL_POINTS];
        for (int i = 0; i < LEVEL_POINTS - 1; i++) {
            v[i] = w.recent(i);
        }
        v[LEVEL_POINTS - 1] = current;
        Arrays.sort(v);
        return (v[LEVEL_POINTS / 2 - 1] + v[LEVEL_POINTS / 2]) / 2;
    }
}
