package io.trainwatch.detect;

import io.trainwatch.detect.lr.LrDiagnosis;
import io.trainwatch.detect.lr.Reading;
import io.trainwatch.detect.lr.RelativeMatch;
import io.trainwatch.detect.lr.SchedulerFixes;
import io.trainwatch.detect.lr.Trace;
import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.Arrays;
import java.util.List;

/**
 * LR_MISMATCH (warning): the reported LR of a group differs from the declared schedule by more than
 * {@code lr_relative_tolerance} on {@code lr_mismatch_steps} consecutive logged steps. Trainers log
 * the LR of the step just taken or of the next one (HF changed this between versions), so a value
 * matching the schedule at s-1, s or s+1 counts as a match. Adaptive schedules (ReduceLROnPlateau)
 * only need the LR inside their allowed range. The last {@link #TRACE_CAPACITY} points are kept to
 * diagnose the cause ({@link LrDiagnosis}). Early on several wiring bugs can explain the same few
 * points (a 2x stretch, a longer warmup and a 0.5x base LR look alike during a linear warmup), so
 * the trace is judged again every {@link #REDIAGNOSE_AFTER_POINTS} points, and the one update is
 * sent when a single reading wins and it differs from what was said.
 */
public class LrMismatchDetector {
    static final int TRACE_CAPACITY = 48;

    /**
     * The diagnosis is judged again every this many points after the opening, for its one update.
     */
    static final int REDIAGNOSE_AFTER_POINTS = 16;

    /** ... for at most this many points. */
    static final int REDIAGNOSE_FOR_POINTS = 320;

    public AlertTrack track = new AlertTrack();
    public int mismatchStreak;
    public int matchStreak;

    /** Step of the first mismatch of the current streak. */
    public long streakStart = -1;

    public int traceGroup;
    public long[] traceSteps = new long[TRACE_CAPACITY];

    /** Arrival order of each trace point (steps repeat after a resume, arrival order does not). */
    public long[] traceSeq = new long[TRACE_CAPACITY];

    public long seq;
    public long streakStartSeq = -1;
    public long openSeq = -1;
    public double[] traceLr = new double[TRACE_CAPACITY];
    public int traceCount;
    public int traceNext;
    public int pointsSinceOpen;

    /** Kind and numbers of the diagnosis sent (see {@link Reading#signature}). */
    public String diagnosisKind;

    /** The main number of the diagnosis sent (offset, factor, resume step), NaN if none. */
    public double sentNumber = Double.NaN;

    // since the mismatch began: range of the actual and of the declared LR of the trace group
    public double segActualMin;
    public double segActualMax;
    public double segDeclaredMin;
    public double segDeclaredMax;
    public double worstError;

    /**
     * Set by a run_start that declares another schedule: the next step starts this detector afresh
     * (see {@link #check}).
     */
    public boolean redeclared;

    public LrMismatchDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(LrMismatchDetector other) {
        track.copyFrom(other.track);
        mismatchStreak = other.mismatchStreak;
        matchStreak = other.matchStreak;
        streakStart = other.streakStart;
        traceGroup = other.traceGroup;
        traceSteps = ArrayCopy.into(other.traceSteps, traceSteps);
        traceSeq = ArrayCopy.into(other.traceSeq, traceSeq);
        seq = other.seq;
        streakStartSeq = other.streakStartSeq;
        openSeq = other.openSeq;
        traceLr = ArrayCopy.into(other.traceLr, traceLr);
        traceCount = other.traceCount;
        traceNext = other.traceNext;
        pointsSinceOpen = other.pointsSinceOpen;
        diagnosisKind = other.diagnosisKind;
        sentNumber = other.sentNumber;
        segActualMin = other.segActualMin;
        segActualMax = other.segActualMax;
        segDeclaredMin = other.segDeclaredMin;
        segDeclaredMax = other.segDeclaredMax;
        worstError = other.worstError;
        redeclared = other.redeclared;
    }

    public void check(StepContext c, List<Alert> out) {
        if (redeclared) {
            // nothing traced against the old schedule says anything about the new one: an open
            // alert is closed, the
            // trace and streaks start over
            if (track.isOpen()) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.LR_MISMATCH,
                                "the run declared its schedule anew (run_start): the LR is judged against the new one from here",
                                NamedValues.builder()
                                        .put("redeclared_before_step", c.step)
                                        .build()));
            }
            copyFrom(new LrMismatchDetector());
        }
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
            if (mismatchStreak == 0 && !track.isOpen()) {
                segActualMin = Double.POSITIVE_INFINITY;
                segActualMax = Double.NEGATIVE_INFINITY;
                segDeclaredMin = Double.POSITIVE_INFINITY;
                segDeclaredMax = Double.NEGATIVE_INFINITY;
            }
            if (mismatchStreak == 0) {
                streakStart = c.step;
                streakStartSeq = seq;
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
        double traced = c.lr[Math.min(traceGroup, c.lr.length - 1)];
        record(
                c.scheduleStep,
                traced); // the trace is the scheduler's: diagnoses fit schedules to it
        if (!c.schedule.adaptive() && (mismatchStreak > 0 || track.isOpen())) {
            double declared =
                    c.schedule.lr(Math.min(traceGroup, c.schedule.groups() - 1), c.scheduleStep);
            segActualMin = Math.min(segActualMin, traced);
            segActualMax = Math.max(segActualMax, traced);
            segDeclaredMin = Math.min(segDeclaredMin, declared);
            segDeclaredMax = Math.max(segDeclaredMax, declared);
        }
        if (c.schedule.adaptive()) {
            if (!track.isOpen() && mismatchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                out.add(
                        track.open(
                                c,
                                AlertKind.LR_MISMATCH,
                                Severity.WARNING,
                                "Step "
                                        + c.displayStep()
                                        + ": the LR "
                                        + Numbers.fmt(c.lr[badGroup])
                                        + " is outside what "
                                        + c.schedule.scheduler()
                                        + " allows ("
                                        + Numbers.fmt(c.schedule.lowestLr(badGroup, c.scheduleStep))
                                        + " to "
                                        + Numbers.fmt(
                                                c.schedule.highestLr(badGroup, c.scheduleStep))
                                        + ").",
                                "an adaptive scheduler can only keep the LR or lower it by its factor down to min_lr; this LR was set by something else",
                                NamedValues.builder()
                                        .put("group", badGroup)
                                        .put("actual_lr", c.lr[badGroup])
                                        .put(
                                                "lowest_allowed",
                                                c.schedule.lowestLr(badGroup, c.scheduleStep))
                                        .put(
                                                "highest_allowed",
                                                c.schedule.highestLr(badGroup, c.scheduleStep))
                                        .build(),
                                fixScheduler(SchedulerFixes.FIND_OTHER_LR_SETTER).build()));
            } else if (track.isOpen() && matchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                out.add(
                        track.resolve(
                                c,
                                AlertKind.LR_MISMATCH,
                                "the LR is back inside the allowed range",
                                matching()));
            }
            return;
        }
        if (!track.isOpen()) {
            if (mismatchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
                Reading d = diagnose(c, tol);
                diagnosisKind = d.signature();
                sentNumber = firstNumber(d);
                pointsSinceOpen = 0;
                openSeq = streakStartSeq;
                out.add(
                        track.open(
                                c,
                                AlertKind.LR_MISMATCH,
                                Severity.WARNING,
                                message(c, d),
                                d.diagnosis(),
                                evidence(c, d),
                                suggestion(d)));
            }
            return;
        }
        pointsSinceOpen++;
        if (matchStreak >= c.thInt(Threshold.LR_MISMATCH_STEPS)) {
            out.add(
                    track.resolve(
                            c,
                            AlertKind.LR_MISMATCH,
                            "the LR matches the declared schedule again",
                            matching()));
            worstError = 0;
            diagnosisKind = null;
            return;
        }
        if (!track.updated
                && pointsSinceOpen % REDIAGNOSE_AFTER_POINTS == 0
                && pointsSinceOpen <= REDIAGNOSE_FOR_POINTS) {
            Reading d = diagnose(c, tol);
            // update when a different reading now explains the trace better than the one sent, and
            // says something
            // materially different (another kind, or its number off by more than 10%)
            boolean sameReading =
                    diagnosisKind != null
                            && (d.signature().equals(diagnosisKind)
                                    || d.tied().contains(diagnosisKind));
            if (!sameReading && materiallyDifferent(d, diagnosisKind, sentNumber)) {
                sentNumber = firstNumber(d);
                diagnosisKind = d.signature();
                out.add(
                        track.update(
                                c,
                                AlertKind.LR_MISMATCH,
                                Severity.WARNING,
                                message(c, d),
                                d.diagnosis(),
                                evidence(c, d),
                                suggestion(d)));
            }
        }
    }

    private static double firstNumber(Reading d) {
        for (int i = 0; i < d.numbers().size(); i++) {
            if (d.numbers().value(i) instanceof Number n) {
                return n.doubleValue();
            }
        }
        return Double.NaN;
    }

    private static boolean materiallyDifferent(Reading d, String sentSignature, double sentNumber) {
        if (sentSignature == null || !sentSignature.startsWith(d.kind().hypothesis + "[")) {
            return true; // another kind
        }
        double now = firstNumber(d);
        if (Double.isNaN(now) || Double.isNaN(sentNumber)) {
            return !d.signature().equals(sentSignature);
        }
        return Math.abs(now - sentNumber) > 0.1 * Math.max(Math.abs(now), Math.abs(sentNumber));
    }

    /**
     * Relative error of group g, 0 when it matches the schedule at s-1, s or s+1 (adaptive: lies in
     * its range).
     */
    private static double groupError(StepContext c, int g, double tol) {
        double a = c.lr[g];
        if (c.schedule.adaptive()) {
            double lo = c.schedule.lowestLr(g, c.scheduleStep) * (1 - tol);
            double hi = c.schedule.highestLr(g, c.scheduleStep) * (1 + tol);
            return a >= lo - 1e-12 && a <= hi + 1e-12
                    ? 0
                    : RelativeMatch.error(a, a < lo ? lo : hi);
        }
        double best = Double.POSITIVE_INFINITY;
        for (long s = Math.max(0, c.scheduleStep - 1); s <= c.scheduleStep + 1; s++) {
            double e = c.schedule.lr(g, s);
            if (RelativeMatch.matches(a, e, tol)) {
                return 0;
            }
            best = Math.min(best, RelativeMatch.error(a, e));
        }
        return best;
    }

    private void record(long step, double lr) {
        traceSeq[traceNext] = seq++;
        traceSteps[traceNext] = step;
        traceLr[traceNext] = lr;
        traceNext = (traceNext + 1) % TRACE_CAPACITY;
        traceCount = Math.min(traceCount + 1, TRACE_CAPACITY);
    }

    private Reading diagnose(StepContext c, double tol) {
        // the points of the mismatch segment (from the streak start; the whole trace once open)
        int n = 0;
        long[] steps = new long[traceCount];
        double[] lrs = new double[traceCount];
        long from = track.isOpen() ? openSeq : streakStartSeq;
        for (int i = 0; i < traceCount; i++) {
            int idx = (traceNext - traceCount + i + TRACE_CAPACITY) % TRACE_CAPACITY;
            if (traceSeq[idx] >= from) {
                steps[n] = traceSteps[idx];
                lrs[n] = traceLr[idx];
                n++;
            }
        }
        RunState r = c.run;
        return LrDiagnosis.diagnose(
                new Trace(
                        c.schedule,
                        Math.min(traceGroup, c.schedule.groups() - 1),
                        Arrays.copyOf(steps, n),
                        Arrays.copyOf(lrs, n),
                        tol,
                        r.stepsPerEpoch,
                        r.gradAccumSteps,
                        Arrays.copyOf(r.resumeSteps, Math.min(r.resumeCount, r.resumeSteps.length)),
                        r.peakLr,
                        r.warmupEndStep,
                        RelativeMatch.matches(segActualMin, segActualMax, tol),
                        !RelativeMatch.matches(segDeclaredMin, segDeclaredMax, tol / 2),
                        r.stepBase));
    }

    private String message(StepContext c, Reading d) {
        int g = Math.min(traceGroup, c.lr.length - 1);
        return "Step "
                + c.displayStep()
                + ": LR of group "
                + g
                + " is "
                + Numbers.fmt(c.lr[g])
                + ", declared "
                + c.schedule.scheduler()
                + " says "
                + Numbers.fmt(c.schedule.lr(Math.min(g, c.schedule.groups() - 1), c.scheduleStep))
                + ": "
                + d.summary()
                + ".";
    }

    /**
     * The reading's numbers come last; one the base names too (UNEXPLAINED's max_relative_error)
     * replaces the base's value in its place.
     */
    private NamedValues evidence(StepContext c, Reading d) {
        int g = Math.min(traceGroup, c.schedule.groups() - 1);
        return NamedValues.builder()
                .put("group", g)
                .put("actual_lr", c.lr[Math.min(traceGroup, c.lr.length - 1)])
                .put("declared_lr", c.schedule.lr(g, c.scheduleStep))
                .put("mismatching_steps", mismatchStreak)
                .put("max_relative_error", worstError)
                .put("relative_tolerance", c.th(Threshold.LR_RELATIVE_TOLERANCE))
                .put("hypothesis", d.kind().hypothesis)
                .put("hypothesis_fit", d.fit())
                .put("declared_scheduler", c.schedule.scheduler())
                .putAll(d.numbers())
                .build();
    }

    private static NamedValues suggestion(Reading d) {
        return fixScheduler(d.change()).putAll(d.numbers()).build();
    }

    private static NamedValues.Builder fixScheduler(String change) {
        return NamedValues.builder().put("action", "fix_scheduler").put("change", change);
    }

    private NamedValues matching() {
        return NamedValues.builder().put("matching_steps", matchStreak).build();
    }
}
