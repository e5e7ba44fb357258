package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * NON_FINITE (critical): NaN or infinite loss or grad norm. Says why, from what came just before:
 *
 * <ul>
 *   <li>fp16 loss-scale collapse: loss_scale reported and falling (the GradScaler keeps halving it
 *       after it had settled, or it is below 1);
 *   <li>not alerted: a GradScaler skip — loss_scale reported, the loss finite, only the gradients
 *       overflow, and the scale has not collapsed. That is how a GradScaler finds its scale (the
 *       optimizer step is skipped, the scale halved); the run counts the skips.
 *   <li>gradient explosion: the grad norms before were outliers of their own history or climbing;
 *   <li>suspect data: gradients were healthy right up to this step, so the batch is the prime
 *       suspect (named when the event carries batch ids);
 *   <li>unknown cause when no grad norm was ever reported.
 * </ul>
 *
 * Resolved after {@code non_finite_resolve_steps} finite steps in a row.
 */
public class NonFiniteDetector {
    /** z-score (log space) of a grad norm that counts as "outlying" before a NaN. */
    static final double PRECURSOR_Z = 3.0;

    /** Last grad norms looked at for a climb before the NaN. */
    static final int PRECURSOR_STEPS = 5;

    /** A climb: the last norm before the NaN is this many times the run's geometric mean. */
    static final double CLIMB_RATIO = 3.0;

    public AlertTrack track = new AlertTrack();
    public int finiteStreak;
    public long lastFiniteStep = -1;

    public NonFiniteDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(NonFiniteDetector other) {
        track.copyFrom(other.track);
        finiteStreak = other.finiteStreak;
        lastFiniteStep = other.lastFiniteStep;
    }

    /**
     * A loss scale below this shrinks the gradients: they overflow fp16 unscaled, the scaler has
     * nothing left to try.
     */
    static final double COLLAPSED_LOSS_SCALE = 1.0;

    /**
     * Reductions of a settled loss scale, without it growing back in between, that make a collapse.
     */
    static final int COLLAPSE_REDUCTIONS = 3;

    public void check(StepContext c, List<Alert> out) {
        boolean lossBad = !c.lossFinite();
        boolean gradBad = c.gradNorm != null && !Double.isFinite(c.gradNorm);
        Double scale = c.event == null ? null : c.event.lossScale;
        RunState r = c.run;
        boolean collapsed =
                scale != null
                        && (scale < COLLAPSED_LOSS_SCALE
                                || (r.lossScaleDrops >= COLLAPSE_REDUCTIONS
                                        && r.maxLossScale > 0
                                        && scale < r.maxLossScale));
        if (gradBad && !lossBad && scale != null) {
            r.gradScalerSkips++; // the GradScaler skips this optimizer step
            if (!collapsed) {
                return; // how a GradScaler finds its scale: not a NaN in the model
            }
        }
        if (!lossBad && !gradBad) {
            lastFiniteStep = c.step;
            if (track.isOpen() && ++finiteStreak >= c.thInt(Threshold.NON_FINITE_RESOLVE_STEPS)) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.NON_FINITE,
                                "loss and grad norm finite again for " + finiteStreak + " steps",
                                NamedValues.builder().put("finite_steps", finiteStreak).build()));
                finiteStreak = 0;
            }
            return;
        }
        finiteStreak = 0;
        if (track.isOpen()) {
            return; // one alert per condition
        }
        String what =
                (lossBad ? "loss is " + Numbers.fmt(c.loss) : "")
                        + (lossBad && gradBad ? " and " : "")
                        + (gradBad ? "grad norm is " + Numbers.fmt(c.gradNorm) : "");
        double[] before = recentGrads(r);
        List<String> batchIds =
                c.event != null && c.event.batch != null ? Arrays.asList(c.event.batch) : null;
        String batches = batchIds != null ? String.join(", ", batchIds) : null;
        long rewindTo = Math.max(0, lastFiniteStep >= 0 ? lastFiniteStep : c.step - 1);

        // 1. fp16 loss-scale collapse
        if (collapsed) {
            String diag =
                    "fp16 loss-scale collapse: the loss scale fell from "
                            + Numbers.fmt(r.maxLossScale)
                            + " to "
                            + Numbers.fmt(scale)
                            + (r.lossScaleDrops > 0
                                    ? " over "
                                            + r.lossScaleDrops
                                            + " reductions since it had settled"
                                    : "")
                            + ", so gradients overflow even after scaling ("
                            + r.gradScalerSkips
                            + " optimizer steps skipped by the GradScaler so far)";
            out.add(
                    track.open(
                            c,
                            AlertKind.NON_FINITE,
                            Severity.CRITICAL,
                            "Step "
                                    + c.displayStep()
                                    + ": "
                                    + what
                                    + " after the fp16 loss scale collapsed to "
                                    + Numbers.fmt(scale)
                                    + ".",
                            diag,
                            lossAndGradNorm(c)
                                    .put("loss_scale", scale)
                                    .put("max_loss_scale", r.maxLossScale)
                                    .put("loss_scale_reductions", r.lossScaleDrops)
                                    .put("grad_scaler_skips", r.gradScalerSkips)
                                    .put("recent_grad_norms", before)
                                    .build(),
                            Suggestions.halveLr(c.currentLr())
                                    .put("rewind_to_step", rewindTo)
                                    .put(
                                            "change",
                                            TrainingFixes.trainInBf16OrHalveLr(c.display(rewindTo)))
                                    .build()));
            return;
        }
        // 2. gradient explosion vs 3. suspect data, judged from the grad norms just before
        if (before.length > 0 && r.gradStats.count >= 3) {
            double maxZ = Double.NEGATIVE_INFINITY;
            for (double g : before) {
                maxZ = Math.max(maxZ, r.gradStats.z(g));
            }
            double last = before[before.length - 1];
            boolean climbing =
                    before.length >= 3
                            && isIncreasing(before)
                            && last >= CLIMB_RATIO * r.gradStats.geometricMean();
            double clip = Numbers.round3(r.gradStats.upperQuantile(2));
            if (maxZ > PRECURSOR_Z || climbing) {
                String diag =
                        "gradient explosion: the grad norm was "
                                + (climbing ? "climbing" : "outlying")
                                + " in the steps before ("
                                + join(before)
                                + "; run geometric mean "
                                + Numbers.fmt(r.gradStats.geometricMean())
                                + ", max z "
                                + Numbers.fmt(maxZ)
                                + ")";
                out.add(
                        track.open(
                                c,
                                AlertKind.NON_FINITE,
                                Severity.CRITICAL,
                                "Step "
                                        + c.displayStep()
                                        + ": "
                                        + what
                                        + " after the grad norm "
                                        + (climbing ? "climbed" : "spiked")
                                        + " to "
                                        + Numbers.fmt(last)
                                        + ".",
                                diag,
                                gradsBefore(c, before, maxZ)
                                        .put("climbing", climbing)
                                        .put("grad_clip", r.gradClip)
                                        .build(),
                                NamedValues.builder()
                                        .put("action", "clip_grad_norm")
                                        .put("max_norm", clip)
                                        .put(
                                                "statistic",
                                                "exp(EMA mean + 2 EMA std) of log grad norm over "
                                                        + r.gradStats.count
                                                        + " steps")
                                        .put("lr_factor", 0.5)
                                        .put("new_lr", Numbers.round3(c.currentLr() * 0.5))
                                        .put("rewind_to_step", rewindTo)
                                        .put(
                                                "change",
                                                TrainingFixes.clipGradNormHalveLrAndResume(
                                                        clip, c.display(rewindTo)))
                                        .build()));
                return;
            }
            String diag =
                    "suspect data: gradients were healthy right up to this step (last norms "
                            + join(before)
                            + ", all within z "
                            + Numbers.fmt(PRECURSOR_Z)
                            + " of the run's history)"
                            + (batches != null
                                    ? "; the batch of step " + c.displayStep() + " is " + batches
                                    : "; the event carries no batch ids")
                            + (!lossBad
                                    ? "; only the gradient is non-finite while the loss is finite: under fp16/AMP this is a GradScaler overflow"
                                            + " (the optimizer step is skipped and the loss scale halved), harmless if rare; report loss_scale with each step and"
                                            + " trainwatch tells the two apart"
                                    : "");
            out.add(
                    track.open(
                            c,
                            AlertKind.NON_FINITE,
                            Severity.CRITICAL,
                            "Step "
                                    + c.displayStep()
                                    + ": "
                                    + what
                                    + " with healthy gradients just before: suspect this step's batch"
                                    + (batches != null ? " (" + batches + ")" : "")
                                    + ".",
                            diag,
                            gradsBefore(c, before, maxZ).put("batch", batchIds).build(),
                            Suggestions.skipBatches(
                                            batches != null ? "inspect_batch" : "rewind_and_skip",
                                            rewindTo,
                                            batchIds != null ? batchIds : thisStep(c))
                                    .put(
                                            "change",
                                            TrainingFixes.inspectSuspectBatch(
                                                    c.displayStep(), batches, c.display(rewindTo)))
                                    .build()));
            return;
        }
        out.add(
                track.open(
                        c,
                        AlertKind.NON_FINITE,
                        Severity.CRITICAL,
                        "Step " + c.displayStep() + ": " + what + ".",
                        "cause undetermined: no grad norm was reported before this step, so a gradient explosion cannot be told from bad data",
                        lossAndGradNorm(c).put("last_finite_step", lastFiniteStep).build(),
                        Suggestions.skipBatches("rewind_and_skip", rewindTo, thisStep(c))
                                .put(
                                        "change",
                                        TrainingFixes.resumeSkippingThisBatch(c.display(rewindTo)))
                                .build()));
    }

    /** Evidence of every cause starts with the two numbers looked at. */
    private static NamedValues.Builder lossAndGradNorm(StepContext c) {
        return NamedValues.builder().put("loss", c.loss).put("grad_norm", c.gradNorm);
    }

    /** Evidence of a cause judged from the grad norms before the non-finite step. */
    private static NamedValues.Builder gradsBefore(StepContext c, double[] before, double maxZ) {
        return lossAndGradNorm(c)
                .put("recent_grad_norms", before)
                .put("grad_norm_geometric_mean", c.run.gradStats.geometricMean())
                .put("max_z", maxZ);
    }

    /** What to skip when the event named no batch. */
    private static List<String> thisStep(StepContext c) {
        return List.of("step " + c.step);
    }

    private static double[] recentGrads(RunState r) {
        int n = Math.min(PRECURSOR_STEPS, r.gradLogs.size());
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[n - 1 - i] = Math.exp(r.gradLogs.recent(i));
        }
        return out;
    }

    private static boolean isIncreasing(double[] v) {
        for (int i = 1; i < v.length; i++) {
            if (v[i] <= v[i - 1]) {
                return false;
            }
        }
        return true;
    }

    private static String join(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : ", ").append(Numbers.fmt(d));
        }
        return b.toString();
    }
}
