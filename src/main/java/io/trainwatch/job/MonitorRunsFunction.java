package io.trainwatch.job;

import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.detect.Thresholds;
import io.trainwatch.event.Alert;
import io.trainwatch.event.TrainingEvent;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by run: loads the run's {@link RunState}, lets {@link RunMonitor} judge the event, stores the state
 * back, emits alerts (main output) and the series point (side output). A run with no event for the idle
 * timeout has its state cleared by a processing-time timer. Timers are coalesced to {@link #TIMER_GRANULARITY_MILLIS}
 * boundaries (registering the same time again is free), so a busy run does not churn the timer queue per event.
 */
public class MonitorRunsFunction extends KeyedProcessFunction<String, TrainingEvent, Alert> {
    public static final String ALERTS = "alerts-emitted";
    public static final String RUNS = "runs-started";
    /** Wall-clock time of the last event judged (the latest over subtasks): where processing ended. */
    public static final String LAST_EVENT_MILLIS = "last-event-millis";
    static final long TIMER_GRANULARITY_MILLIS = 60_000;

    private final Thresholds thresholds;
    private final long idleTimeoutMillis;
    private final int seriesEvery;
    private final boolean series;
    private transient RunMonitor monitor;
    private transient ValueState<RunState> state;
    private transient Counter alertsMetric;
    private transient LongCounter alerts;
    private transient LongCounter runs;
    private transient LongMaximum lastEvent;

    public MonitorRunsFunction(Thresholds thresholds, long idleTimeoutMillis) {
        this(thresholds, idleTimeoutMillis, 1);
    }

    /** @param seriesEvery at most one series point per this many steps of a run (see {@code SeriesSampler}) */
    public MonitorRunsFunction(Thresholds thresholds, long idleTimeoutMillis, int seriesEvery) {
        this(thresholds, idleTimeoutMillis, seriesEvery, true);
    }

    /** @param series false when no sink takes the series side output: the points are not built */
    public MonitorRunsFunction(Thresholds thresholds, long idleTimeoutMillis, int seriesEvery, boolean series) {
        this.thresholds = thresholds;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.seriesEvery = seriesEvery;
        this.series = series;
    }

    @Override
    public void open(OpenContext openContext) {
        monitor = new RunMonitor(thresholds, seriesEvery, series);
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("run-state", RunState.class));
        alertsMetric = getRuntimeContext().getMetricGroup().counter(ALERTS);
        alerts = getRuntimeContext().getLongCounter(ALERTS);
        runs = getRuntimeContext().getLongCounter(RUNS);
        lastEvent = new LongMaximum();
        getRuntimeContext().addAccumulator(LAST_EVENT_MILLIS, lastEvent);
    }

    @Override
    public void processElement(TrainingEvent event, Context ctx, Collector<Alert> out) throws Exception {
        RunState run = state.value();
        if (run == null) {
            run = new RunState();
            runs.add(1);
        }
        RunMonitor.Output result = monitor.onEvent(run, event);
        long now = ctx.timerService().currentProcessingTime();
        lastEvent.add(now);
        run.idleDeadlineMillis = now + idleTimeoutMillis;
        // one timer per granularity slot, registered once (a timer-set insert per event cost ~10% of this operator);
        // the deadline itself is checked when it fires
        long slot = ((run.idleDeadlineMillis / TIMER_GRANULARITY_MILLIS) + 1) * TIMER_GRANULARITY_MILLIS;
        if (slot != run.idleTimerMillis) {
            ctx.timerService().registerProcessingTimeTimer(slot);
            run.idleTimerMillis = slot;
        }
        state.update(run);
        for (Alert a : result.alerts()) {
            out.collect(a);
            alerts.add(1);
            alertsMetric.inc();
        }
        if (result.series() != null) {
            ctx.output(OutputTags.SERIES, result.series());
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        RunState run = state.value();
        if (run != null && timestamp >= run.idleDeadlineMillis) {
            state.clear();
        }
    }
}
