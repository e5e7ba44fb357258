package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

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
                                JsonWriter.object("finite_steps", finiteStreak)));
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
        String batches =
                c.event != null && c.event.batch != null ? String.join(", ", c.event.batch) : null;
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
                                    + c.step
                                    + ": "
                                    + what
                                    + " after the fp16 loss scale collapsed to "
                                    + Numbers.fmt(scale)
                                    + ".",
                            diag,
                            JsonWriter.object(
                                    "loss",
                                    c.loss,
                                    "grad_norm",
                                    c.gradNorm,
                                    "loss_scale",
                                    scale,
                                    "max_loss_scale",
                                    r.maxLossScale,
                                    "loss_scale_reductions",
                                    r.lossScaleDrops,
                                    "grad_scaler_skips",
                                    r.gradScalerSkips,
                                    "recent_grad_norms",
                                    before),
                            JsonWriter.object(
                                    "action",
                                    "lower_lr",
                                    "lr_factor",
                                    0.5,
                                    "new_lr",
                                    Numbers.round3(c.currentLr() * 0.5),
                                    "rewind_to_step",
                                    rewindTo,
                                    "change",
                                    TrainingFixes.trainInBf16OrHalveLr(rewindTo))));
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
                                        + c.step
                                        + ": "
                                        + what
                                        + " after the grad norm "
                                        + (climbing ? "climbed" : "spiked")
                                        + " to "
                                        + Numbers.fmt(last)
                                        + ".",
                                diag,
                                JsonWriter.object(
                                        "loss",
                                        c.loss,
                                        "grad_norm",
                                        c.gradNorm,
                                        "recent_grad_norms",
                                        before,
                                        "grad_norm_geometric_mean",
                                        r.gradStats.geometricMean(),
                                        "max_z",
                                        maxZ,
                                        "climbing",
                                        climbing,
                                        "grad_clip",
                                        r.gradClip),
                                JsonWriter.object(
                                        "action",
                                        "clip_grad_norm",
                                        "max_norm",
                                        clip,
                                        "statistic",
                                        "exp(EMA mean + 2 EMA std) of log grad norm over "
                                                + r.gradStats.count
                                                + " steps",
                                        "lr_factor",
                                        0.5,
                                        "new_lr",
                                        Numbers.round3(c.currentLr() * 0.5),
                                        "rewind_to_step",
                                        rewindTo,
                                        "change",
                                        TrainingFixes.clipGradNormHalveLrAndResume(
                                                clip, rewindTo))));
                return;
            }
            String diag =
                    "suspect data: gradients were healthy right up to this step (last norms "
                            + join(before)
                            + ", all within z "
                            + Numbers.fmt(PRECURSOR_Z)
                            + " of the run's history)"
                            + (batches != null
                                    ? "; the batch of step " + c.step + " is " + batches
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
                                    + c.step
                                    + ": "
                                    + what
                                    + " with healthy gradients just before: suspect this step's batch"
                                    + (batches != null ? " (" + batches + ")" : "")
                                    + ".",
                            diag,
                            JsonWriter.object(
                                    "loss",
                                    c.loss,
                                    "grad_norm",
                                    c.gradNorm,
                                    "recent_grad_norms",
                                    before,
                                    "grad_norm_geometric_mean",
                                    r.gradStats.geometricMean(),
                                    "max_z",
                                    maxZ,
                                    "batch",
                                    c.event == null ? null : c.event.batch),
                            JsonWriter.object(
                                    "action",
                                    batches != null ? "inspect_batch" : "rewind_and_skip",
                                    "rewind_to_step",
                                    rewindTo,
                                    "skip_batches",
                                    c.event == null || c.event.batch == null
                                            ? new String[] {"step " + c.step}
                                            : c.event.batch,
                                    "change",
                                    TrainingFixes.inspectSuspectBatch(c.step, batches, rewindTo))));
            return;
        }
        out.add(
                track.open(
                        c,
                        AlertKind.NON_FINITE,
                        Severity.CRITICAL,
                        "Step " + c.step + ": " + what + ".",
                        "cause undetermined: no grad norm was reported before this step, so a gradient explosion cannot be told from bad data",
                        JsonWriter.object(
                                "loss",
                                c.loss,
                                "grad_norm",
                                c.gradNorm,
                                "last_finite_step",
                                lastFiniteStep),
                        JsonWriter.object(
                                "action",
                                "rewind_and_skip",
                                "rewind_to_step",
                                rewindTo,
                                "skip_batches",
                                new String[] {"step " + c.step},
                                "change",
                                TrainingFixes.resumeSkippingThisBatch(rewindTo))));
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
