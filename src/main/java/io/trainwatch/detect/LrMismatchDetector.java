package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonOutput;

import java.util.List;

/**
 * LR_MISMATCH (warning): the reported LR of a group differs from the declared schedule by more than
 * {@code lr_relative_tolerance} on {@code lr_mismatch_steps} consecutive logged steps. Trainers log the
 * LR of the step just taken or of the next one (HF changed this between versions), so a value matching
 * the schedule at s-1, s or s+1 counts as a match. Adaptive schedules (ReduceLROnPlateau) only need the
 * LR inside their allowed range. The last {@link #TRACE_CAPACITY} points are kept to diagnose the cause
 * ({@link LrTraceDiagnosis}); the diagnosis is refined once, as an update, when more points arrive.
 */
public class LrMismatchDetector {
    static final int TRACE_CAPACITY = 48;
    /** Points after the opening before the diagnosis is re-judged for its one update. */
    static final int REDIAGNOSE_AFTER_POINTS = 16;

    public AlertTrack track = new AlertTrack();
    public int mismatchStreak;
    public int matchStreak;
    /** Step of the first mismatch of the current streak. */
    public long streakStart = -1;
    public int traceGroup;
    public long[] traceSteps = new long[TRACE_CAPACITY];
    public double[] traceLr = new double[TRACE_CAPACITY];
    public int traceCount;
    public int traceNext;
    public int pointsSinceOpen;
    public String diagnosisKind;
    public double worstError;

    public LrMismatchDetector() {
    }

    public void check(StepContext c, List<Alert> out) {
        if (c.schedule == null || c.lr == null) {
            return;
        }
        double tol = c.th(Threshold.LR_RELATIVE_TOLERANCE);
        int groups = Math.min(c.lr.length, c.schedule.groups());
        int badGroup = -1;
        double err = 0;
        for (int g = 0; g < groups; g++) {
            double e = groupError(c, g, tol);
            if (e > 0 && (badGroup < 0 || e > err)) {
                badGroup = g;
                err = e;
            }
        }
        if (badGroup >= 0) {
            if (mismatchStreak == 0) {
                streakStart = c.step;
                if (!track.isOpen()) {
                    traceGroup = badGroup;
                }
            }
            mismatchStreak++;
            matchStreak = 0;
            worstError = Math.max(worstError, err);
        } else {
            mismatchStreak = 0;
            matchStreak++;
        }
        record(c.step, c.lr[Math.min(traceGroup, c.lr.length - 1)]);
        if (c.schedule.adaptive()) {
            if (!track.isOpen() && mismatchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                out.add(track.open(c, AlertKind.LR_MISMATCH, Severity.WARNING,
                        "Step " + c.step + ": the LR " + Numbers.fmt(c.lr[badGroup]) + " is outside what " + c.schedule.scheduler() + " allows ("
                                + Numbers.fmt(c.schedule.lowestLr(badGroup, c.step)) + " to " + Numbers.fmt(c.schedule.highestLr(badGroup, c.step)) + ").",
                        "an adaptive scheduler can only keep the LR or lower it by its factor down to min_lr; this LR was set by something else",
                        JsonOutput.object("group", badGroup, "actual_lr", c.lr[badGroup], "lowest_allowed", c.schedule.lowestLr(badGroup, c.step),
                                "highest_allowed", c.schedule.highestLr(badGroup, c.step)),
                        JsonOutput.object("action", "fix_scheduler", "change", "find what else sets the optimizer's lr (a second scheduler, a callback, a manual param_group update)")));
            } else if (track.isOpen() && matchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                out.add(track.resolve(c, AlertKind.LR_MISMATCH, "the LR is back inside the allowed range", JsonOutput.object("matching_steps", matchStreak)));
            }
            return;
        }
        if (!track.isOpen()) {
            if (mismatchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                LrTraceDiagnosis.Result d = diagnose(c, tol);
                diagnosisKind = d.kind();
                pointsSinceOpen = 0;
                out.add(track.open(c, AlertKind.LR_MISMATCH, Severity.WARNING, message(c, d), d.diagnosis(), evidence(c, d), suggestion(d)));
            }
            return;
        }
        pointsSinceOpen++;
        if (matchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
            out.add(track.resolve(c, AlertKind.LR_MISMATCH, "the LR matches the declared schedule again", JsonOutput.object("matching_steps", matchStreak)));
            worstError = 0;
            diagnosisKind = null;
            return;
        }
        if (!track.updated && pointsSinceOpen == REDIAGNOSE_AFTER_POINTS) {
            LrTraceDiagnosis.Result d = diagnose(c, tol);
            if (!d.kind().equals(diagnosisKind)) {
                diagnosisKind = d.kind();
                out.add(track.update(c, AlertKind.LR_MISMATCH, Severity.WARNING, message(c, d), d.diagnosis(), evidence(c, d), suggestion(d)));
            }
        }
    }

    /** Relative error of group g, 0 when it matches the schedule at s-1, s or s+1. */
    private static double groupError(StepContext c, int g, double tol) {
        double a = c.lr[g];
        double best = Double.POSITIVE_INFINITY;
        for (long s = Math.max(0, c.step - 1); s <= c.step + 1; s++) {
            double e = c.schedule.lr(g, s);
            if (LrTraceDiagnosis.match(a, e, tol)) {
                return 0;
            }
            best = Math.min(best, LrTraceDiagnosis.relativeError(a, e));
        }
        return best;
    }

    private void record(long step, double lr) {
        traceSteps[traceNext] = step;
        traceLr[traceNext] = lr;
        traceNext = (traceNext + 1) % TRACE_CAPACITY;
        traceCount = Math.min(traceCount + 1, TRACE_CAPACITY);
    }

    private LrTraceDiagnosis.Result diagnose(StepContext c, double tol) {
        // the points of the mismatch segment (from the streak start; the whole trace once open)
        int n = 0;
        long[] steps = new long[traceCount];
        double[] lrs = new double[traceCount];
        long from = track.isOpen() ? track.onsetStep - 2L * c.thInt(Threshold.LR_MISMATCH_STEPS) : streakStart;
        for (int i = 0; i < traceCount; i++) {
            int idx = (traceNext - traceCount + i + TRACE_CAPACITY) % TRACE_CAPACITY;
            if (traceSteps[idx] >= from) {
                steps[n] = traceSteps[idx];
                lrs[n] = traceLr[idx];
                n++;
            }
        }
        RunState r = c.run;
        return LrTraceDiagnosis.diagnose(c.schedule, Math.min(traceGroup, c.schedule.groups() - 1),
                java.util.Arrays.copyOf(steps, n), java.util.Arrays.copyOf(lrs, n), tol,
                r.stepsPerEpoch, r.gradAccumSteps, r.resumeSteps, r.resumeCount, r.peakLr, r.warmupEndStep);
    }

    private String message(StepContext c, LrTraceDiagnosis.Result d) {
        int g = Math.min(traceGroup, c.lr.length - 1);
        return "Step " + c.step + ": LR of group " + g + " is " + Numbers.fmt(c.lr[g]) + ", declared " + c.schedule.scheduler() + " says "
                + Numbers.fmt(c.schedule.lr(Math.min(g, c.schedule.groups() - 1), c.step)) + ": " + d.summary() + ".";
    }

    private String evidence(StepContext c, LrTraceDiagnosis.Result d) {
        int g = Math.min(traceGroup, c.schedule.groups() - 1);
        Object[] base = {"group", g, "actual_lr", c.lr[Math.min(traceGroup, c.lr.length - 1)], "declared_lr", c.schedule.lr(g, c.step),
                "mismatching_steps", mismatchStreak, "max_relative_error", worstError, "relative_tolerance", c.th(Threshold.LR_RELATIVE_TOLERANCE),
                "hypothesis", d.kind(), "hypothesis_fit", d.fit(), "declared_scheduler", c.schedule.scheduler()};
        Object[] all = java.util.Arrays.copyOf(base, base.length + d.numbers().length);
        System.arraycopy(d.numbers(), 0, all, base.length, d.numbers().length);
        return JsonOutput.object(all);
    }

    private static String suggestion(LrTraceDiagnosis.Result d) {
        Object[] base = {"action", "fix_scheduler", "change", d.change()};
        Object[] all = java.util.Arrays.copyOf(base, base.length + d.numbers().length);
        System.arraycopy(d.numbers(), 0, all, base.length, d.numbers().length);
        return JsonOutput.object(all);
    }
}
