package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * VANISHING_GRADIENTS (warning): after warmup the grad norm falls below {@code vanishing_ratio} of
 * its running geometric mean (a slow EMA, so it still remembers the healthy level) for {@code
 * vanishing_steps} logged steps while the loss is not improving (the median of the last 5 losses
 * not below its value when the norm collapsed by more than 10% and two noise sigmas). The reference
 * stops following the norm once it falls below a tenth of it, so a vanishing norm cannot drag its
 * own reference down. A collapsing grad norm with a collapsing loss is convergence, not this.
 */
public class VanishingGradientDetector {
    static final double LOSS_NOT_IMPROVED_FRACTION = 0.9;
    static final double FREEZE_RATIO = 0.1;

    public AlertTrack track = new AlertTrack();
    public double refGrad = Double.NaN;
    public double refLoss = Double.NaN;
    public int lowStreak;

    /**
     * First logged step of the current low streak: the alert's step (with sparse logging, not step
     * - lowStreak + 1).
     */
    public long lowStartStep = -1;

    public int calm;

    public VanishingGradientDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(VanishingGradientDetector other) {
        track.copyFrom(other.track);
        refGrad = other.refGrad;
        refLoss = other.refLoss;
        lowStreak = other.lowStreak;
        lowStartStep = other.lowStartStep;
        calm = other.calm;
    }

    public void check(StepContext c, List<Alert> out) {
        if (c.gradNorm == null
                || Double.isNaN(c.gradNorm)
                || c.inWarmup
                || c.run.gradStats.count < c.thInt(Threshold.GRAD_MIN_POINTS)
                || c.run.losses.size() < c.thInt(Threshold.SPIKE_MIN_POINTS)) {
            return;
        }
        RobustWindow w = c.run.losses;
        double[] last = {w.recent(0), w.recent(1), w.recent(2), w.recent(3), c.loss};
        Arrays.sort(last);
        double lossNow = last[2];
        // the references follow the healthy run and freeze as soon as the norm collapses below a
        // tenth of its level
        if (Double.isNaN(refGrad) || (!track.isOpen() && c.gradNorm >= FREEZE_RATIO * refGrad)) {
            refGrad = c.run.gradStats.geometricMean();
            refLoss = lossNow;
        }
        // "not improving": not clearly below the reference, by more than 10% and more than the
        // run's own noise
        boolean low =
                c.gradNorm < c.th(Threshold.VANISHING_RATIO) * refGrad
                        && lossNow
                                > refLoss
                                        - Math.max(
                                                (1 - LOSS_NOT_IMPROVED_FRACTION)
                                                        * Math.abs(refLoss),
                                                2 * c.lossNoise());
        if (low) {
            lowStreak++;
            if (lowStreak == 1) {
                lowStartStep = c.step;
                c.markPossibleOnset(); // the alert is reported at this step
            }
            calm = 0;
        } else {
            lowStreak = 0;
            if (track.isOpen() && ++calm >= 5) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.VANISHING_GRADIENTS,
                                "grad norm recovered",
                                NamedValues.builder().put("grad_norm", c.gradNorm).build()));
                calm = 0;
            }
        }
        if (!track.isOpen() && lowStreak >= c.thInt(Threshold.VANISHING_STEPS)) {
            // a state restored from before lowStartStep existed has none: count back as if every
            // step was logged
            long onset = lowStartStep >= 0 ? lowStartStep : c.step - lowStreak + 1;
            out.add(
                    track.open(
                            c.withStep(onset),
                            AlertKind.VANISHING_GRADIENTS,
                            Severity.WARNING,
                            "Step "
                                    + c.displayStep()
                                    + ": grad norm "
                                    + Numbers.fmt(c.gradNorm)
                                    + " is "
                                    + Numbers.fmt(c.gradNorm / refGrad)
                                    + "x its post-warmup level "
                                    + Numbers.fmt(refGrad)
                                    + " while the loss ("
                                    + Numbers.fmt(lossNow)
                                    + ") is not improving.",
                            "vanishing gradients: the model has stopped learning (saturated or dead activations, frozen parameters, or an LR/scale that zeroes updates)",
                            NamedValues.builder()
                                    .put("grad_norm", c.gradNorm)
                                    .put("reference_grad_norm", refGrad)
                                    .put("loss_median", lossNow)
                                    .put("reference_loss", refLoss)
                                    .put("low_steps", lowStreak)
                                    .build(),
                            NamedValues.builder()
                                    .put("action", "stop")
                                    .put(
                                            "change",
                                            TrainingFixes.inspectVanishingGradients(
                                                    c.display(onset)))
                                    .build()));
        }
    }
}
