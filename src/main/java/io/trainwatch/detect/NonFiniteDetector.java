package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * NON_FINITE: NaN or infinite loss or grad norm. Critical (the run is losing work now), except a
 * GradScaler overflow. Says why, from what came just before:
 *
 * <ul>
 *   <li>GradScaler overflow (warning): no loss_scale reported, the loss finite, only the grad norm
 *       non-finite, with healthy gradients before. Under fp16/AMP the scaler skipped that optimizer
 *       step on purpose and lowered its scale: harmless if rare. Critical when it is not finite
 *       again at the next logged step, when the loss goes non-finite, or on the {@code
 *       fp16_overflow_escalate_count}-th overflow each within {@code incident_window_steps} of the
 *       last (the run keeps skipping steps);
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

    /** Step of the last GradScaler overflow without loss_scale (-1: none). */
    public long lastOverflowStep = -1;

    /** GradScaler overflows in a row, each within incident_window_steps of the one before. */
    public int recentOverflows;

    public NonFiniteDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(NonFiniteDetector other) {
        track.copyFrom(other.track);
        finiteStreak = other.finiteStreak;
        lastFiniteStep = other.lastFiniteStep;
        lastOverflowStep = other.lastOverflowStep;
        recentOverflows = other.recentOverflows;
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
            if (Severity.WARNING.wire().equals(track.severity)) {
                // an overflow warning, and again a non-finite step: not a lone skip
                Alert u = escalateOverflow(c, lossBad);
                if (u != null) {
                    out.add(u);
                }
            }
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
        boolean judged = before.length > 0 && r.gradStats.count >= 3;
        double maxZ = Double.NEGATIVE_INFINITY;
        for (double g : judged ? before : new double[0]) {
            maxZ = Math.max(maxZ, r.gradStats.z(g));
        }
        double last = before.length == 0 ? Double.NaN : before[before.length - 1];
        boolean climbing =
                judged
                        && before.length >= 3
                        && isIncreasing(before)
                        && last >= CLIMB_RATIO * r.gradStats.geometricMean();
        boolean explosion = judged && (maxZ > PRECURSOR_Z || climbing);
        // 2. a GradScaler overflow: only the gradient overflows, nothing led up to it
        if (gradBad && !lossBad && !explosion) {
            out.add(overflow(c, what, before, batchIds));
            return;
        }
        // 3. gradient explosion vs 4. suspect data, judged from the grad norms just before
        if (judged) {
            if (explosion) {
                // the threshold and the rewind point from before the instability: the healthy
                // level, and its last step
                int minPoints = c.thInt(Threshold.GRAD_MIN_POINTS);
                double clip = r.healthyGrad.maxNorm(minPoints);
                boolean hasNumber = !Double.isNaN(clip);
                long rewindBeforeClimb =
                        r.healthyGrad.lastHealthyStep >= 0
                                ? Math.min(rewindTo, r.healthyGrad.lastHealthyStep)
                                : rewindTo;
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
                                        .put("max_norm", hasNumber ? clip : null)
                                        .put(
                                                "statistic",
                                                hasNumber
                                                        ? r.healthyGrad.describe()
                                                        : r.healthyGrad.whyNoNumber(minPoints))
                                        .put("lr_factor", 0.5)
                                        .put("new_lr", Numbers.round3(c.currentLr() * 0.5))
                                        .put("rewind_to_step", rewindBeforeClimb)
                                        .put(
                                                "change",
                                                hasNumber
                                                        ? TrainingFixes
                                                                .clipGradNormHalveLrAndResume(
                                                                        clip,
                                                                        c.display(
                                                                                rewindBeforeClimb))
                                                        : TrainingFixes.clipGradNormAtAHealthyLevel(
                                                                        true)
                                                                + ", resume from step "
                                                                + c.display(rewindBeforeClimb))
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
                                    : "; the event carries no batch ids");
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

    /**
     * A GradScaler overflow without loss_scale: a warning, critical on the {@code
     * fp16_overflow_escalate_count}-th in a row each within {@code incident_window_steps} of the
     * last.
     */
    private Alert overflow(StepContext c, String what, double[] before, List<String> batchIds) {
        long window = c.thInt(Threshold.INCIDENT_WINDOW_STEPS);
        recentOverflows =
                lastOverflowStep >= 0 && c.step - lastOverflowStep <= window
                        ? recentOverflows + 1
                        : 1;
        lastOverflowStep = c.step;
        int escalateAt = c.thInt(Threshold.FP16_OVERFLOW_ESCALATE_COUNT);
        NamedValues evidence =
                lossAndGradNorm(c)
                        .put("recent_grad_norms", before)
                        .put("overflows_in_a_row", recentOverflows)
                        .put("window_steps", window)
                        .put("batch", batchIds)
                        .put("hint", FP16_HINT)
                        .build();
        if (recentOverflows >= escalateAt) {
            return track.open(
                    c,
                    AlertKind.NON_FINITE,
                    Severity.CRITICAL,
                    "Step "
                            + c.displayStep()
                            + ": "
                            + what
                            + " with a finite loss: GradScaler overflow number "
                            + recentOverflows
                            + ", each within "
                            + window
                            + " steps of the last: the run keeps skipping optimizer steps.",
                    "repeated GradScaler overflows: "
                            + recentOverflows
                            + " optimizer steps skipped, each within "
                            + window
                            + " steps of the one before; the gradients overflow fp16 too often for the loss scale to settle",
                    evidence,
                    Suggestions.halveLr(c.currentLr())
                            .put("change", TrainingFixes.trainInBf16OrHalveLrNoRewind())
                            .build());
        }
        return track.open(
                c,
                AlertKind.NON_FINITE,
                Severity.WARNING,
                "Step "
                        + c.displayStep()
                        + ": "
                        + what
                        + " with a finite loss ("
                        + Numbers.fmt(c.loss)
                        + "): GradScaler overflow: the step was skipped; harmless if rare.",
                GRAD_SCALER_OVERFLOW
                        + ": only the gradient is non-finite, the loss is finite and the gradients were healthy just before;"
                        + " under fp16/AMP the GradScaler skips such an optimizer step on purpose and lowers its loss scale",
                evidence,
                Suggestions.none()
                        .put("change", TrainingFixes.reportLossScaleIfOverflowsRepeat())
                        .build());
    }

    /** An overflow warning followed by another non-finite step: critical now. */
    private Alert escalateOverflow(StepContext c, boolean lossBad) {
        long rewindTo = Math.max(0, lastFiniteStep >= 0 ? lastFiniteStep : c.step - 1);
        String what = lossBad ? "loss is " + Numbers.fmt(c.loss) : "grad norm is still non-finite";
        return track.update(
                c,
                AlertKind.NON_FINITE,
                Severity.CRITICAL,
                "Step "
                        + c.displayStep()
                        + ": "
                        + what
                        + (lossBad
                                ? " after a GradScaler overflow: the model itself is non-finite now."
                                : " at the next logged step: not a lone GradScaler skip, the run keeps losing steps."),
                lossBad
                        ? "non-finite loss: the weights or activations overflowed after the gradients did"
                        : "gradients overflow step after step: the GradScaler cannot find a scale that fits",
                lossAndGradNorm(c).put("last_finite_step", lastFiniteStep).build(),
                lossBad
                        ? Suggestions.halveLr(c.currentLr())
                                .put("rewind_to_step", rewindTo)
                                .put("change", TrainingFixes.trainInBf16OrHalveLr(rewindTo))
                                .build()
                        : Suggestions.halveLr(c.currentLr())
                                .put("change", TrainingFixes.trainInBf16OrHalveLrNoRewind())
                                .build());
    }

    /** How the diagnosis of a GradScaler overflow starts (tests and the README quote it). */
    public static final String GRAD_SCALER_OVERFLOW =
            "GradScaler overflow: the step was skipped; harmless if rare";

    static final String FP16_HINT =
            "a non-finite grad norm with a finite loss is how fp16/AMP reports an overflow the GradScaler caught;"
                    + " report loss_scale with each step and trainwatch counts these skips instead of alerting";

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
