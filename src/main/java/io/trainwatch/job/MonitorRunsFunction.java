package io.trainwatch.job;

import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.TrainingEvent;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by run ({@link RawRecord#runId}): parses the record once ({@link EventCodec}), loads the
 * run's {@link RunState}, lets {@link RunMonitor} judge the event, stores the state back, emits
 * alerts (main output), the series point and, for a record that is not an event of this run or an
 * event the monitor rejected, a dead letter (side outputs). A record that does not parse, or whose
 * run_id is not the key it was routed by, is dead-lettered without touching the run's state. A run
 * with no event for its idle timeout has its state cleared by a processing-time timer. Timers are
 * coalesced to {@link #TIMER_GRANULARITY_MILLIS} boundaries (registering the same time again is
 * free), so a busy run does not churn the timer queue per event.
 */
public class MonitorRunsFunction extends KeyedProcessFunction<String, RawRecord, Alert> {
    /**
     * Events judged (the dead letters of {@link KeyRecordsFunction} and of this function make up
     * the rest of events-read).
     */
    public static final String ACCEPTED = "events-accepted";

    public static final String ALERTS = "alerts-emitted";
    public static final String RUNS = "runs-started";

    /** Events the monitor failed on (each dead-lettered, with a MONITOR_ERROR alert). */
    public static final String MONITOR_ERRORS = "monitor-errors";

    /** Events of quarantined runs, dead-lettered unjudged. */
    public static final String QUARANTINED = "events-quarantined";

    /** Alerts folded into an open incident instead of being sent (see detect.IncidentBook). */
    public static final String ALERTS_FOLDED = "alerts-folded";

    /** New incidents over a run's max_incidents_per_hour: counted, not sent. */
    public static final String INCIDENTS_CAPPED = "incidents-capped";

    /**
     * Wall-clock time of the last event judged (the latest over subtasks): where processing ended.
     */
    public static final String LAST_EVENT_MILLIS = "last-event-millis";

    static final long TIMER_GRANULARITY_MILLIS = 60_000;

    private final MonitorConfig config;
    private transient EventCodec codec;
    private transient RunMonitor monitor;
    private transient ValueState<RunState> state;
    private transient Count accepted;
    private transient Count alerts;
    private transient Count deadLettered;
    private transient Count monitorErrors;
    private transient Count quarantined;
    private transient Count alertsFolded;
    private transient Count incidentsCapped;
    private transient LongCounter runs;
    private transient LongMaximum lastEvent;

    public MonitorRunsFunction(MonitorConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        codec = new EventCodec();
        monitor = new RunMonitor(config.thresholds(), config.seriesEvery(), config.series());
        TrainwatchTypes.register(); // this JVM may be a TaskManager: RunState's type is read here
        state =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("run-state", RunState.class));
        accepted = new Count(ACCEPTED);
        alerts = new Count(ALERTS);
        deadLettered = new Count(KeyRecordsFunction.DEAD_LETTERED);
        monitorErrors = new Count(MONITOR_ERRORS);
        quarantined = new Count(QUARANTINED);
        alertsFolded = new Count(ALERTS_FOLDED);
        incidentsCapped = new Count(INCIDENTS_CAPPED);
        runs = getRuntimeContext().getLongCounter(RUNS);
        lastEvent = new LongMaximum();
        getRuntimeContext().addAccumulator(LAST_EVENT_MILLIS, lastEvent);
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<Alert> out)
            throws Exception {
        TrainingEvent event;
        try {
            event = parse(record);
            EventCodec.requireRoutedBy(event, ctx.getCurrentKey());
        } catch (InvalidEventException e) {
            deadLetter(ctx, record.text(), e.field(), e.getMessage(), record.source());
            return;
        } catch (RuntimeException | StackOverflowError e) {
            // a codec bug must not take the job down either: the record is kept, with what went
            // wrong
            deadLetter(ctx, record.text(), "(payload)", "unexpected error: " + e, record.source());
            return;
        }
        RunState run = state.value();
        if (run == null) {
            run = new RunState();
            runs.add(1);
        }
        long now = ctx.timerService().currentProcessingTime();
        RunMonitor.Output result = monitor.onEvent(run, event, now);
        lastEvent.add(now);
        run.idleDeadlineMillis = now + monitor.idleTimeoutMillis(run);
        // one timer per granularity slot, registered once (a timer-set insert per event cost ~10%
        // of this operator);
        // the deadline itself is checked when it fires
        long slot = slotAfter(run.idleDeadlineMillis);
        if (slot != run.idleTimerMillis) {
            ctx.timerService().registerProcessingTimeTimer(slot);
            run.idleTimerMillis = slot;
        }
        // the same for the silence check (RUN_SILENT): a run that keeps stepping moves its slot
        // once a granularity, and the check at a slot finds it not silent
        long silence = monitor.silenceDeadlineMillis(run);
        if (silence != RunMonitor.NO_DEADLINE) {
            // a minute slot, finer only for a threshold under 10 minutes (the demo's seconds)
            long granularity =
                    Math.max(1_000, Math.min(TIMER_GRANULARITY_MILLIS, (silence - now) / 10));
            long silenceSlot = (silence / granularity + 1) * granularity;
            if (silenceSlot != run.silenceTimerMillis && silenceSlot != run.idleTimerMillis) {
                ctx.timerService().registerProcessingTimeTimer(silenceSlot);
                run.silenceTimerMillis = silenceSlot;
            }
        }
        state.update(run);
        for (Alert a : result.alerts()) {
            out.collect(a);
            alerts.add();
        }
        alertsFolded.add(result.folded());
        incidentsCapped.add(result.capped());
        if (result.series() != null) {
            ctx.output(OutputTags.SERIES, result.series());
        }
        RunMonitor.Rejection rejected = result.rejection();
        if (rejected == null) {
            accepted.add();
            return;
        }
        deadLetter(ctx, rejected.payload(), rejected.field(), rejected.reason(), record.source());
        (rejected.monitorError() ? monitorErrors : quarantined).add();
    }

    /** The event in the record; an overridable seam for tests that need an event no codec makes. */
    TrainingEvent parse(RawRecord record) throws InvalidEventException {
        return record.utf8 != null ? codec.parse(record.utf8) : codec.parse(record.payload);
    }

    private void deadLetter(
            Context ctx, String payload, String field, String reason, String source) {
        ctx.output(OutputTags.DEAD_LETTERS, DeadLetter.of(payload, field, reason, source));
        deadLettered.add();
    }

    /** The first timer slot strictly after {@code millis}. */
    private static long slotAfter(long millis) {
        return ((millis / TIMER_GRANULARITY_MILLIS) + 1) * TIMER_GRANULARITY_MILLIS;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        RunState run = state.value();
        if (run == null) {
            return;
        }
        // the clock, not the timer's time: timers a bounded job fires when its input ends must not
        // find silences that never happened
        long now = ctx.timerService().currentProcessingTime();
        RunMonitor.Output silent = monitor.onSilenceCheck(run, now);
        for (Alert a : silent.alerts()) {
            out.collect(a);
            alerts.add();
        }
        if (timestamp >= run.idleDeadlineMillis) {
            state.clear();
        } else if (!silent.alerts().isEmpty()) {
            state.update(run);
        }
    }

    /**
     * One count, visible both ways: a metric for a live job, an accumulator for the summary of a
     * bounded one.
     */
    private final class Count {
        private final Counter metric;
        private final LongCounter accumulator;

        Count(String name) {
            MetricGroup group = getRuntimeContext().getMetricGroup();
            metric = group.counter(name);
            accumulator = getRuntimeContext().getLongCounter(name);
        }

        void add() {
            metric.inc();
            accumulator.add(1);
        }

        void add(int n) {
            if (n > 0) {
                metric.inc(n);
                accumulator.add(n);
            }
        }
    }
}
