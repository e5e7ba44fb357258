package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonOutput;

import java.util.List;

/**
 * VANISHING_GRADIENTS (warning): after warmup the grad norm falls below {@code vanishing_ratio} of its
 * post-warmup reference (geometric mean) for {@code vanishing_steps} logged steps while the loss has not
 * improved (still at least 90% of its reference). A collapsing grad norm with a collapsing loss is
 * convergence, not this.
 */
public class VanishingGradientDetector {
    static final double LOSS_NOT_IMPROVED_FRACTION = 0.9;

    public AlertTrack track = new AlertTrack();
    public double refGrad = Double.NaN;
    public double refLoss = Double.NaN;
    public int lowStreak;
    public int calm;

    public VanishingGradientDetector() {
    }

    public void check(StepContext c, List<Alert> out) {
        if (c.gradNorm == null || Double.isNaN(c.gradNorm) || c.inWarmup || c.run.gradStats.count < c.thInt(Threshold.GRAD_MIN_POINTS)
                || c.run.losses.size() < c.thInt(Threshold.SPIKE_MIN_POINTS)) {
            return;
        }
        if (Double.isNaN(refGrad)) {
            refGrad = c.run.gradStats.geometricMean();
            refLoss = c.run.losses.median();
            return;
        }
        double lossNow = c.run.losses.median();
        boolean low = c.gradNorm < c.th(Threshold.VANISHING_RATIO) * refGrad && Math.abs(lossNow) >= LOSS_NOT_IMPROVED_FRACTION * Math.abs(refLoss);
        if (low) {
            lowStreak++;
            calm = 0;
        } else {
            lowStreak = 0;
            if (track.isOpen() && ++calm >= 5) {
                out.add(track.resolve(c, AlertKind.VANISHING_GRADIENTS, "grad norm recovered", JsonOutput.object("grad_norm", c.gradNorm)));
                calm = 0;
            }
        }
        if (!track.isOpen() && lowStreak >= c.thInt(Threshold.VANISHING_STEPS)) {
            out.add(track.open(c.withStep(c.step - lowStreak + 1), AlertKind.VANISHING_GRADIENTS, Severity.WARNING,
                    "Step " + c.step + ": grad norm " + Numbers.fmt(c.gradNorm) + " is " + Numbers.fmt(c.gradNorm / refGrad) + "x its post-warmup level "
                            + Numbers.fmt(refGrad) + " while the loss (" + Numbers.fmt(lossNow) + ") is not improving.",
                    "vanishing gradients: the model has stopped learning (saturated or dead activations, frozen parameters, or an LR/scale that zeroes updates)",
                    JsonOutput.object("grad_norm", c.gradNorm, "reference_grad_norm", refGrad, "loss_median", lossNow, "reference_loss", refLoss, "low_steps", lowStreak),
                    JsonOutput.object("action", "stop", "change", "stop and inspect: check for dead ReLUs/saturated activations, parameters with requires_grad=False, "
                            + "a loss scale or LR that zeroes the updates; restart from a checkpoint before step " + (c.step - lowStreak + 1))));
        }
    }
}
