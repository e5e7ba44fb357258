package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonOutput;

import java.util.List;

/**
 * STALL (info): after warmup, the smoothed loss (EMA) has not improved by {@code stall_min_improvement} of
 * the run's own loss range (post-warmup level minus best; 5% of the loss when the run never fell) for
 * {@code stall_window_steps} optimizer steps and at least {@code stall_min_points} logged steps, while
 * the LR is still meaningful (at least 5% of its peak) and the loss is not already ~0.
 */
public class StallDetector {
    static final double SMOOTHING = 0.05;
    static final double CONVERGED_LOSS = 1e-3;
    static final double MEANINGFUL_LR_FRACTION = 0.05;

    public AlertTrack track = new AlertTrack();
    public double smooth = Double.NaN;
    public double best = Double.POSITIVE_INFINITY;
    public long bestStep = -1;
    public int pointsSinceBest;
    /** Smoothed loss when warmup ended: the top of the run's own range. */
    public double startLevel = Double.NaN;

    public StallDetector() {
    }

    public void check(StepContext c, List<Alert> out) {
        if (!c.lossFinite()) {
            return;
        }
        smooth = Double.isNaN(smooth) ? c.loss : smooth + SMOOTHING * (c.loss - smooth);
        if (c.inWarmup || bestStep < 0) {
            best = smooth;
            bestStep = c.step;
            pointsSinceBest = 0;
            return;
        }
        if (Double.isNaN(startLevel)) {
            startLevel = smooth;
        }
        double range = Math.max(startLevel - best, 0.05 * Math.abs(best));
        if (smooth < best - c.th(Threshold.STALL_MIN_IMPROVEMENT) * range) {
            best = smooth;
            bestStep = c.step;
            pointsSinceBest = 0;
            if (track.isOpen()) {
                out.add(track.resolve(c, AlertKind.STALL, "the loss is improving again", JsonOutput.object("smoothed_loss", smooth)));
            }
            return;
        }
        pointsSinceBest++;
        double peak = c.run.peakLr;
        double lr = c.currentLr();
        boolean lrMeaningful = !Double.isFinite(peak) || !Double.isFinite(lr) || lr >= MEANINGFUL_LR_FRACTION * peak;
        if (!track.isOpen() && c.step - bestStep >= c.th(Threshold.STALL_WINDOW_STEPS) && pointsSinceBest >= c.thInt(Threshold.STALL_MIN_POINTS)
                && Math.abs(smooth) > CONVERGED_LOSS && lrMeaningful) {
            out.add(track.open(c, AlertKind.STALL, Severity.INFO,
                    "Step " + c.step + ": no progress for " + (c.step - bestStep) + " steps (smoothed loss " + Numbers.fmt(smooth) + ", best " + Numbers.fmt(best)
                            + " at step " + bestStep + ").",
                    "the loss has plateaued: the LR may be too high to descend further or too low to escape, or the model has reached its capacity on this data",
                    JsonOutput.object("smoothed_loss", smooth, "best_smoothed_loss", best, "best_step", bestStep, "steps_without_progress", c.step - bestStep,
                            "logged_steps_without_progress", pointsSinceBest, "lr", lr),
                    JsonOutput.object("action", "lower_lr", "lr_factor", 0.5, "new_lr", Numbers.round3(lr * 0.5),
                            "change", "halve the LR (as ReduceLROnPlateau would), or stop if the validation loss has stopped improving too")));
        }
    }
}
