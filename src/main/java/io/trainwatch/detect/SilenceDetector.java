package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;
import io.trainwatch.threshold.Thresholds;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * RUN_SILENT (critical): a run with no run_end whose steps stop for longer than its silence
 * threshold, max({@code silent_min_minutes}, {@code silent_interval_factor} × the run's own median
 * interval between logged steps). Two ways to see it:
 *
 * <ul>
 *   <li>live ({@link #checkLive}): the monitor operator's processing-time timer finds no step
 *       received for that long; the alert names the last step and its time. The next step resolves
 *       it; a run_end cancels (resolves) it.
 *   <li>in the stream ({@link #check}): two consecutive logged steps whose event times lie further
 *       apart than that were a silence that is already over (a log replayed, or a backlog the live
 *       job reads quickly): it opens and resolves at once. A past gap is a real past silence,
 *       whether read from a file or late from Kafka, so replay and live report it the same way.
 * </ul>
 *
 * Without event {@code time}, a run's past gaps cannot be seen (no alert); live, the arrival times
 * still measure its silence. A log that simply ends without run_end raises nothing in replay: the
 * file may be cut, or the run still going.
 */
public class SilenceDetector {
    /** Intervals seen before the run's own median interval counts in its threshold. */
    static final int MIN_INTERVALS = 3;

    static final long NONE = Long.MIN_VALUE;

    public AlertTrack track = new AlertTrack();

    /** Milliseconds between consecutive logged steps (event time, else arrival). */
    public RobustWindow intervals = new RobustWindow();

    public long lastStep = -1;

    /** Event time of the last step, or {@link #NONE}. */
    public long lastTimeMillis = NONE;

    /** Processing time the last step was received (live only), or {@link #NONE}. */
    public long lastArrivalMillis = NONE;

    public SilenceDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(SilenceDetector other) {
        track.copyFrom(other.track);
        intervals.copyFrom(other.intervals);
        lastStep = other.lastStep;
        lastTimeMillis = other.lastTimeMillis;
        lastArrivalMillis = other.lastArrivalMillis;
    }

    /**
     * The run's silence threshold in milliseconds. Until the run's rhythm is known (fewer than
     * {@link #MIN_INTERVALS} intervals) it is factor × the floor: a run that logs every 40 minutes
     * must not be called silent before its second step.
     */
    long thresholdMillis(Thresholds th) {
        long min = (long) (th.get(Threshold.SILENT_MIN_MINUTES) * 60_000);
        double factor = th.get(Threshold.SILENT_INTERVAL_FACTOR);
        if (intervals.size() < MIN_INTERVALS) {
            return (long) Math.min(factor * min, Long.MAX_VALUE / 4.0);
        }
        double own = factor * intervals.median();
        return Math.max(min, own >= Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 : (long) own);
    }

    /**
     * Processing time after which the run is silent (live), or {@link #NONE} when it cannot be: no
     * step received yet, ended, or already alerted.
     */
    long liveDeadlineMillis(RunState run, Thresholds th) {
        if (run.ended || track.isOpen() || lastArrivalMillis == NONE) {
            return NONE;
        }
        return lastArrivalMillis + thresholdMillis(th);
    }

    /**
     * A step arrived ({@code arrivalMillis} its processing time, or {@link #NONE} outside the live
     * job): resolves a live silence, reports a past gap, and learns the interval.
     */
    public void check(StepContext c, long arrivalMillis, List<Alert> out) {
        long threshold = thresholdMillis(c.thresholds);
        Long time = c.timeMillis;
        long gap = time != null && lastTimeMillis != NONE ? time - lastTimeMillis : NONE;
        long arrivalGap =
                arrivalMillis != NONE && lastArrivalMillis != NONE
                        ? arrivalMillis - lastArrivalMillis
                        : NONE;
        if (track.isOpen()) {
            long silent = gap != NONE ? gap : arrivalGap;
            out.add(
                    track.resolve(
                            c,
                            AlertKind.RUN_SILENT,
                            "Step "
                                    + c.displayStep()
                                    + ": steps are back"
                                    + (silent == NONE
                                            ? ""
                                            : " after " + minutes(silent) + " without one")
                                    + ".",
                            evidence(silent, threshold).build()));
        } else if (gap != NONE && gap > threshold && lastStep >= 0) {
            StepContext at = StepContext.at(c.runId, lastStep, lastTimeMillis, c.thresholds, c.run);
            Alert past = openAlert(at, gap, threshold, false);
            // its onset is the last step before the gap; it is raised now, at this step
            past.step = c.step;
            past.displayStep = c.displayStep();
            past.timeMillis = c.timeMillis;
            out.add(past);
            out.add(
                    track.resolve(
                            c,
                            AlertKind.RUN_SILENT,
                            "Step "
                                    + c.displayStep()
                                    + ": the run resumed after "
                                    + minutes(gap)
                                    + " without a step.",
                            evidence(gap, threshold).build()));
        }
        // every interval, silences too: the median shrugs off the odd long one, and a run that
        // turns out to log sparsely learns its rhythm
        long interval = gap != NONE ? gap : arrivalGap;
        if (interval > 0) {
            intervals.add(interval);
        }
        lastStep = c.step;
        lastTimeMillis = time == null ? NONE : time;
        lastArrivalMillis = arrivalMillis;
    }

    /**
     * Live: at processing time {@code nowMillis}, the run is silent when its last step was received
     * longer ago than its threshold. Null when it is not (or already alerted, or ended).
     */
    Alert checkLive(RunState run, long nowMillis, Thresholds th) {
        long deadline = liveDeadlineMillis(run, th);
        if (deadline == NONE || nowMillis <= deadline || lastStep < 0) {
            return null;
        }
        StepContext at =
                StepContext.at(
                        run.runId,
                        lastStep,
                        lastTimeMillis == NONE ? null : lastTimeMillis,
                        th,
                        run);
        return openAlert(at, nowMillis - lastArrivalMillis, thresholdMillis(th), true);
    }

    /** run_end: the run finished, so an open silence was not a hang after all. */
    void onRunEnd(RunState run, String status, Thresholds th, List<Alert> out) {
        if (!track.isOpen()) {
            return;
        }
        StepContext at =
                StepContext.at(
                        run.runId,
                        lastStep,
                        lastTimeMillis == NONE ? null : lastTimeMillis,
                        th,
                        run);
        out.add(
                track.resolve(
                        at,
                        AlertKind.RUN_SILENT,
                        "The run ended"
                                + (status == null ? "" : " (" + status + ")")
                                + " after step "
                                + at.displayStep()
                                + ": the silence was not a hang.",
                        NamedValues.builder().put("run_end_status", status).build()));
    }

    private Alert openAlert(StepContext at, long silent, long threshold, boolean live) {
        String when = at.timeMillis == null ? "" : " (" + Instant.ofEpochMilli(at.timeMillis) + ")";
        return track.open(
                at,
                AlertKind.RUN_SILENT,
                Severity.CRITICAL,
                (live ? "No step for " : "No step was logged for ")
                        + minutes(silent)
                        + " after step "
                        + at.displayStep()
                        + when
                        + ", and no run_end"
                        + (live ? "" : " (a past gap in the log)")
                        + "; the run's silence threshold is "
                        + minutes(threshold)
                        + ". Check for a hung collective (NCCL), an OOM-killed process, or a preempted node.",
                "the trainer stopped sending steps without ending: a collective waiting on a dead or stuck rank, the process killed (out of memory), or the node preempted",
                evidence(silent, threshold)
                        .put("last_step", at.step)
                        .put(
                                "last_step_time",
                                at.timeMillis == null
                                        ? null
                                        : Instant.ofEpochMilli(at.timeMillis).toString())
                        .put("seen", live ? "live" : "gap between logged steps")
                        .build(),
                NamedValues.builder()
                        .put("action", "check_run")
                        .put("change", TrainingFixes.CHECK_SILENT_RUN)
                        .build());
    }

    private NamedValues.Builder evidence(long silent, long threshold) {
        return NamedValues.builder()
                .put("silent_minutes", silent == NONE ? null : Numbers.round3(silent / 60_000.0))
                .put("threshold_minutes", Numbers.round3(threshold / 60_000.0))
                .put(
                        "median_interval_s",
                        intervals.size() == 0 ? null : Numbers.round3(intervals.median() / 1000.0));
    }

    static String minutes(long millis) {
        double m = millis / 60_000.0;
        return String.format(Locale.ROOT, m < 10 ? "%.1f min" : "%.0f min", m);
    }
}
