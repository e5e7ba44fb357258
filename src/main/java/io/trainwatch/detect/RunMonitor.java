package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.threshold.Threshold;
import io.trainwatch.threshold.Thresholds;

import java.util.ArrayList;
import java.util.List;

/**
 * Judges one run's events, one at a time: keeps the run's {@link RunState} up to date, asks every
 * detector about each step, and returns the alerts and the series point. Plain Java: the Flink
 * operator loads the state, calls {@link #onEvent}, and stores it back.
 *
 * <p>Contained: nothing one run sends can fail the caller. If judging an event throws (a bug, or an
 * input nobody foresaw), the run's state is put back as it was before the event, the event is
 * rejected (the caller dead-letters it) and one MONITOR_ERROR alert names the exception and the
 * event. After {@link #QUARANTINE_AFTER_ERRORS} such errors close together the run is quarantined:
 * its events are rejected, unjudged, until a new run_start starts it afresh. Other runs never
 * notice.
 */
public final class RunMonitor {
    /** Monitor errors on one run, none forgotten in between, that quarantine it. */
    public static final int QUARANTINE_AFTER_ERRORS = 3;

    /**
     * Cleanly judged events after which a run's earlier monitor errors no longer count towards
     * quarantine.
     */
    public static final long ERRORS_FORGOTTEN_AFTER_EVENTS = 100;

    /**
     * Dead-letter field of an event the monitor failed on, and of an event of a quarantined run.
     */
    public static final String MONITOR_FIELD = "(monitor)";

    public static final String QUARANTINE_FIELD = "run_id";
    private static final int MAX_ERROR_TEXT_CHARS = 300;
    private static final double SERIES_MEAN_ALPHA = 0.1;

    /**
     * What one event produced. {@code series} is null for events that are not steps and for steps
     * thinned out by --series-every; {@code rejection} is non-null when the event was not judged
     * (the caller dead-letters it).
     */
    public record Output(
            List<Alert> alerts,
            SeriesPoint series,
            Rejection rejection,
            IncidentBook.Withheld withheld) {
        static final Output NOTHING = new Output(List.of(), null, null);

        public Output(List<Alert> alerts, SeriesPoint series, Rejection rejection) {
            this(alerts, series, rejection, null);
        }

        /**
         * Alerts not sent: occurrences folded into an open incident and capped incidents (see
         * {@link IncidentBook}); counted by the job, read by tests.
         */
        public List<Alert> withheldAlerts() {
            return withheld == null ? List.of() : withheld.alerts;
        }

        /** Alerts folded into an open incident by this event. */
        public int folded() {
            return withheld == null ? 0 : withheld.folded;
        }

        /** New incidents over the run's cap by this event. */
        public int capped() {
            return withheld == null ? 0 : withheld.capped;
        }
    }

    /**
     * Why an event was not judged: the dead letter's field and reason, and the event as read
     * (format v1, for the dead letter's payload); {@code monitorError} true when judging it failed,
     * false for a quarantined run's event.
     */
    public record Rejection(String field, String reason, String payload, boolean monitorError) {}

    private final Thresholds jobThresholds;
    private final SeriesSampler seriesSampler;
    private final boolean series;

    /**
     * The run being judged as it was before the event, without its statistics ({@link
     * RunState#copyRunFrom}): put back if judging fails. Reused for every event.
     */
    private final RunState lastGood = new RunState();

    /**
     * @param seriesEvery N of {@code --series-every}: at most one series point per N steps of a run
     *     (see {@link SeriesSampler})
     * @param series false: no series point is built (nothing consumes them), {@link
     *     Output#series()} is always null
     */
    public RunMonitor(Thresholds jobThresholds, long seriesEvery, boolean series) {
        this.jobThresholds = jobThresholds;
        this.seriesSampler = new SeriesSampler(seriesEvery);
        this.series = series;
    }

    /** No deadline: see {@link #silenceDeadlineMillis}. */
    public static final long NO_DEADLINE = SilenceDetector.NONE;

    /**
     * Judges {@code e} outside a live job (replay, tests): no arrival time, so silences are seen
     * only as gaps between logged steps' times.
     */
    public Output onEvent(RunState state, TrainingEvent e) {
        return onEvent(state, e, NO_DEADLINE);
    }

    /**
     * Judges {@code e}, received at processing time {@code receivedMillis} ({@link #NO_DEADLINE} if
     * not live), updating {@code state}; never throws on what a run sends.
     */
    public Output onEvent(RunState state, TrainingEvent e, long receivedMillis) {
        if (state.quarantined) {
            if (e.type != EventType.RUN_START) {
                return new Output(
                        List.of(),
                        null,
                        new Rejection(
                                QUARANTINE_FIELD,
                                "run \""
                                        + e.runId
                                        + "\" is quarantined after "
                                        + state.monitorErrors
                                        + " monitor errors: its events are not judged until a new run_start",
                                payload(e),
                                false));
            }
            // a new start from a clean slate: the old state is what kept failing
            state.copyFrom(new RunState());
        }
        lastGood.copyRunFrom(state);
        try {
            Output out = judge(state, e, receivedMillis);
            for (Alert a : out.alerts()) {
                JsonWriter.alert(
                        a); // an alert that cannot be written must fail here, inside the guard, not
                // in a sink
            }
            if (state.recentMonitorErrors > 0
                    && ++state.eventsSinceMonitorError >= ERRORS_FORGOTTEN_AFTER_EVENTS) {
                state.recentMonitorErrors = 0;
            }
            return out;
        } catch (RuntimeException | StackOverflowError ex) {
            restart(state);
            return failed(state, e, ex);
        }
    }

    /**
     * Processing time after which the run counts as silent (its last step received longer ago than
     * its silence threshold), or {@link #NO_DEADLINE}: no step received live, run ended, already
     * alerted, or quarantined. The operator sets a timer there and calls {@link #onSilenceCheck}.
     */
    public long silenceDeadlineMillis(RunState state) {
        if (state.quarantined) {
            return NO_DEADLINE;
        }
        return state.silence.liveDeadlineMillis(state, thresholds(state));
    }

    /**
     * Live: at processing time {@code nowMillis}, RUN_SILENT if the run's last step was received
     * longer ago than its silence threshold and no run_end came. Never throws.
     */
    public Output onSilenceCheck(RunState state, long nowMillis) {
        if (state.quarantined) {
            return Output.NOTHING;
        }
        lastGood.copyRunFrom(state);
        try {
            Alert a = state.silence.checkLive(state, nowMillis, thresholds(state));
            if (a == null) {
                return Output.NOTHING;
            }
            IncidentBook.ownIncident(a);
            JsonWriter.alert(a);
            return new Output(List.of(a), null, null);
        } catch (RuntimeException | StackOverflowError ex) {
            restart(state); // nothing to dead-letter: the check is not an event
            return Output.NOTHING;
        }
    }

    /**
     * After an error while judging: the run is put back where it was before the event (what it
     * declared, its step, its counts) and its statistics and detectors start over. Saving the whole
     * state before every event to put it back exactly cost a fifth of the monitor's time (a run's
     * state is ~4 KB, mostly out of cache across thousands of runs); an error is a bug, and
     * statistics it left half-changed, or that made it fail, are better not kept.
     */
    private void restart(RunState state) {
        state.copyRunFrom(lastGood);
        state.restartStatistics();
    }

    /** The run's idle timeout: the job's, or the run's own {@code idle_timeout_minutes}. */
    public long idleTimeoutMillis(RunState state) {
        return thresholds(state).getInt(Threshold.IDLE_TIMEOUT_MINUTES) * 60_000L;
    }

    private Output failed(RunState state, TrainingEvent e, Throwable ex) {
        state.monitorErrors++;
        state.recentMonitorErrors++;
        state.eventsSinceMonitorError = 0;
        state.quarantined = state.recentMonitorErrors >= QUARANTINE_AFTER_ERRORS;
        if (state.runId == null) {
            state.runId = e.runId;
        }
        String error = errorText(ex);
        String event =
                e.type.wireName()
                        + (e.step >= 0 ? " event of step " + (e.step + state.stepBase) : " event");
        long step = e.step >= 0 ? e.step : Math.max(state.lastStep, 0);
        Alert a = new Alert();
        a.runId = e.runId;
        a.kind = AlertKind.MONITOR_ERROR.name();
        a.alertId = Alert.idFor(e.runId, a.kind, step);
        IncidentBook.ownIncident(a);
        a.severity = Severity.WARNING.wire();
        a.status = Alert.OPEN;
        a.incidentId = a.alertId; // its own incident: not subject to folding or the cap
        a.occurrences = 1;
        a.step = step;
        a.displayStep = step + state.stepBase;
        a.onsetStep = step;
        a.timeMillis = e.timeMillis;
        a.message =
                "trainwatch could not judge the "
                        + event
                        + " ("
                        + error
                        + "): the event was dead-lettered and "
                        + (state.quarantined
                                ? "after "
                                        + state.recentMonitorErrors
                                        + " such errors the run is quarantined: its events are dead-lettered unjudged until a new run_start."
                                : "the run is judged on from where it was before that event, its statistics started over.");
        a.diagnosis =
                "an error in trainwatch itself, or an input it does not handle; the training run is not at fault";
        a.evidence =
                NamedValues.builder()
                        .put("exception", ex.getClass().getName())
                        .put("error", error)
                        .put("at", topFrame(ex))
                        .put("event_type", e.type.wireName())
                        .put("event_step", e.step)
                        .put("monitor_errors", state.monitorErrors)
                        .put("quarantined", state.quarantined)
                        .build();
        a.suggestion =
                Suggestions.none()
                        .put(
                                "change",
                                "nothing to change in the training run; report this alert and the dead-lettered event to the trainwatch maintainers")
                        .build();
        return new Output(
                List.of(a),
                null,
                new Rejection(
                        MONITOR_FIELD,
                        "trainwatch failed judging this event: "
                                + error
                                + (state.quarantined ? "; the run is now quarantined" : ""),
                        payload(e),
                        true));
    }

    /**
     * The event as format v1 JSON; its plain description should even that fail, so the dead letter
     * still says what it was.
     */
    private static String payload(TrainingEvent e) {
        try {
            return JsonWriter.event(e);
        } catch (RuntimeException ex) {
            return String.valueOf(e);
        }
    }

    private static String errorText(Throwable ex) {
        String s =
                ex.getClass().getSimpleName()
                        + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
        return s.length() > MAX_ERROR_TEXT_CHARS ? s.substring(0, MAX_ERROR_TEXT_CHARS) + "..." : s;
    }

    private static String topFrame(Throwable ex) {
        StackTraceElement[] trace = ex.getStackTrace();
        return trace.length == 0 ? "" : trace[0].toString();
    }

    private Output judge(RunState state, TrainingEvent e, long receivedMillis) {
        if (state.runId == null) {
            // once: the state is keyed by run, and storing a fresh reference per event into a
            // long-lived object costs the GC
            state.runId = e.runId;
        }
        if (e.type == EventType.RUN_START) {
            startRun(state, e);
            return Output.NOTHING;
        }
        if (e.type == EventType.RUN_END) {
            state.ended = true;
            state.endStatus = e.status;
            List<Alert> alerts = new ArrayList<>(1);
            state.silence.onRunEnd(state, e.status, thresholds(state), alerts);
            alerts.forEach(IncidentBook::ownIncident);
            return alerts.isEmpty() ? Output.NOTHING : new Output(alerts, null, null);
        }
        return onStep(state, e, receivedMillis);
    }

    private void startRun(RunState state, TrainingEvent e) {
        if (state.schedule != null && !state.schedule.equals(e.schedule)) {
            state.lrMismatch.redeclared = true;
        }
        state.schedule = e.schedule;
        state.thresholds = e.thresholds;
        state.gradClip = e.gradClip;
        state.gradAccumSteps = e.gradAccumSteps;
        state.stepsPerEpoch = e.stepsPerEpoch;
        // like the rest of the declaration, each run_start says it anew (absent: 0)
        state.stepBase = e.stepBase == null ? 0 : e.stepBase;
        state.ended = false;
        DeclaredSchedule s = state.schedule;
        if (s == null) {
            state.warmupEndStep = -1;
            state.peakLr = Double.NaN;
            return;
        }
        // computed once per schedule object; in the job, the runs that declare the same spec share
        // one (see job.DeclaredScheduleType)
        DeclaredSchedule.Warmup warmup = s.warmup();
        state.warmupEndStep = warmup.endStep();
        state.peakLr = warmup.peakLr();
    }

    private Output onStep(RunState state, TrainingEvent e, long receivedMillis) {
        long step = e.step;
        boolean resumed = state.stepsSeen > 0 && step <= state.lastStep;
        if (resumed) {
            state.recordResume(step);
        }
        Thresholds th = thresholds(state);
        DeclaredSchedule schedule = state.schedule;
        double[] scheduled = null;
        boolean inWarmup;
        if (schedule != null) {
            // where the scheduler really is: behind the optimizer by the steps it skipped (fp16
            // overflow under HF)
            long scheduleStep = e.schedulerLag == null ? step : step - e.schedulerLag;
            scheduled = new double[schedule.groups()];
            for (int g = 0; g < scheduled.length; g++) {
                scheduled[g] =
                        schedule.adaptive()
                                ? schedule.highestLr(g, scheduleStep)
                                : schedule.lr(g, scheduleStep);
            }
            inWarmup = scheduleStep < state.warmupEndStep;
        } else {
            inWarmup = reportedLrRising(state, e);
        }
        double loss = e.loss == null ? Double.NaN : e.loss;
        StepContext c =
                new StepContext(
                        e.runId,
                        step,
                        e.timeMillis,
                        e,
                        loss,
                        e.gradNorm,
                        e.lr,
                        schedule,
                        scheduled,
                        inWarmup,
                        state.warmupEndStep,
                        th,
                        state);
        List<Alert> alerts = new ArrayList<>(2);
        state.nonFinite.check(c, alerts);
        state.lrMismatch.check(c, alerts);
        state.spikes.check(c, alerts);
        state.gradExplosion.check(c, alerts);
        state.divergence.check(c, alerts);
        state.stall.check(c, alerts);
        state.vanishing.check(c, alerts);
        state.silence.check(c, receivedMillis, alerts);
        state.slowdown.check(c, alerts);
        updateStatistics(state, e, th);
        IncidentBook.Withheld withheld = null;
        if (!alerts.isEmpty() || state.incidents.isOpen()) {
            // the common step raises nothing and has no incident to fall quiet: skipped
            withheld = new IncidentBook.Withheld();
            alerts = state.incidents.apply(c, alerts, withheld);
        }
        if (!series) {
            return new Output(alerts, null, null, withheld);
        }
        boolean keep =
                seriesSampler.keep(
                        state,
                        step,
                        resumed,
                        !alerts.isEmpty()
                                || (withheld != null && !withheld.alerts.isEmpty())
                                || c.isPossibleOnset());
        return new Output(
                alerts,
                keep ? series(state, e, scheduled, th.getInt(Threshold.GRAD_MIN_POINTS)) : null,
                null,
                withheld);
    }

    /** Without a declared schedule, warmup lasts while the reported LR keeps rising. */
    private static boolean reportedLrRising(RunState state, TrainingEvent e) {
        if (e.lr == null || e.lr.length == 0 || state.reportedLrStoppedRising) {
            return false;
        }
        boolean rising =
                Double.isNaN(state.lastLr0) || e.lr[0] > state.lastLr0 || (state.stepsSeen == 0);
        if (!rising && state.stepsSeen > 0) {
            state.reportedLrStoppedRising = true;
        }
        return rising && !state.reportedLrStoppedRising;
    }

    private static void updateStatistics(RunState state, TrainingEvent e, Thresholds th) {
        state.stepsSeen++;
        state.lastStep = e.step;
        state.maxStep = Math.max(state.maxStep, e.step);
        if (e.loss != null && Double.isFinite(e.loss)) {
            state.losses.add(e.loss);
            state.lossMean =
                    Double.isNaN(state.lossMean)
                            ? e.loss
                            : state.lossMean + SERIES_MEAN_ALPHA * (e.loss - state.lossMean);
        }
        if (e.gradNorm != null && Double.isFinite(e.gradNorm)) {
            double g = e.gradNorm;
            LogEwma st = state.gradStats;
            int minPoints = th.getInt(Threshold.GRAD_MIN_POINTS);
            // ZClip-style: an outlier barely moves the baseline, so one spike (or an explosion)
            // cannot hide itself
            st.add(
                    g,
                    th.get(Threshold.GRAD_EMA_ALPHA),
                    minPoints,
                    th.get(Threshold.GRAD_Z_THRESHOLD));
            state.gradLogs.add(Math.log(Math.max(g, 1e-30)));
            state.healthyGrad.offer(
                    e.step,
                    g,
                    state.instabilityOpen(),
                    minPoints,
                    th.get(Threshold.GRAD_GROWTH_RATIO));
        }
        if (e.lossScale != null && Double.isFinite(e.lossScale)) {
            trackLossScale(state, e.lossScale);
        }
        if (e.lr != null && e.lr.length > 0) {
            state.lastLr0 = e.lr[0];
        }
    }

    /**
     * A GradScaler starts deliberately high (2^16) and halves on every overflow until it finds its
     * level, so a run's first reductions come in a row and mean nothing; once the scale has held
     * for this many reported steps, a reduction means gradients overflow anew.
     */
    static final int LOSS_SCALE_SETTLED_STEPS = 10;

    private static void trackLossScale(RunState state, double scale) {
        Double last = state.lastLossScale;
        if (last != null && scale < last) {
            state.lossScaleSteadySteps = 0;
            if (state.lossScaleSettled) {
                state.lossScaleDrops++;
            }
        } else {
            if (last != null && scale > last) {
                state.lossScaleDrops = 0; // it grew back: the overflows were passing
            }
            if (++state.lossScaleSteadySteps >= LOSS_SCALE_SETTLED_STEPS) {
                state.lossScaleSettled = true;
            }
        }
        state.maxLossScale = Math.max(state.maxLossScale, scale);
        state.lastLossScale = scale;
    }

    private static SeriesPoint series(
            RunState state, TrainingEvent e, double[] scheduled, int minGradPoints) {
        SeriesPoint p = new SeriesPoint();
        p.runId = e.runId;
        p.step = e.step;
        p.timeMillis = e.timeMillis;
        p.actualLr = e.lr;
        p.scheduledLr = scheduled;
        p.loss = e.loss;
        p.lossMean = Double.isNaN(state.lossMean) ? null : state.lossMean;
        p.gradNorm = e.gradNorm;
        // the healthy level's threshold: it holds through an explosion instead of climbing with it
        double clip = state.healthyGrad.maxNorm(minGradPoints);
        p.suggestedClip = Double.isNaN(clip) ? null : clip;
        return p;
    }

    /**
     * The job's thresholds with the run's own overrides (checked on arrival): built once per run
     * (and again after a restore).
     */
    private Thresholds thresholds(RunState state) {
        if (state.thresholds == null) {
            return jobThresholds;
        }
        if (state.runThresholdsOf != state.thresholds) {
            state.runThresholds = state.thresholds.applyTo(jobThresholds);
            state.runThresholdsOf = state.thresholds;
        }
        return state.runThresholds;
    }
}
