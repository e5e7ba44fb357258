package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The monitor operator keeps state per run and forgets a run once it has been idle for the timeout.
 */
class MonitorRunsFunctionTest {
    static final long IDLE_MILLIS = 600_000;
    static final Thresholds IDLE_TEN_MINUTES =
            Thresholds.DEFAULTS.with(Map.of("idle_timeout_minutes", 10.0));

    @Test
    void shouldClearStateOfIdleRunsSoTheStateCountReturnsToZero() throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(IDLE_TEN_MINUTES, 1, true));
        try (KeyedOneInputStreamOperatorTestHarness<String, TrainingEvent, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, e -> e.runId, Types.STRING)) {
            h.setProcessingTime(0);
            for (String run : new String[] {"a", "b", "c"}) {
                for (long s = 0; s < 5; s++) {
                    h.processElement(step(run, s, 1.0), s);
                }
            }
            assertThat(h.numKeyedStateEntries()).isEqualTo(3); // one run state per run
            h.setProcessingTime(IDLE_MILLIS / 2);
            h.processElement(step("c", 5, 1.0), 5); // c stays alive
            h.setProcessingTime(IDLE_MILLIS + MonitorRunsFunction.TIMER_GRANULARITY_MILLIS);
            assertThat(h.numKeyedStateEntries()).isEqualTo(1); // only c is left
            h.setProcessingTime(2 * IDLE_MILLIS + 2 * MonitorRunsFunction.TIMER_GRANULARITY_MILLIS);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void shouldRaiseRunSilentOnceByTheClockResolveItWhenStepsReturnAndNotAfterRunEnd()
            throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(Thresholds.DEFAULTS, 1, true));
        long minute = 60_000;
        try (KeyedOneInputStreamOperatorTestHarness<String, TrainingEvent, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, e -> e.runId, Types.STRING)) {
            for (long s = 0; s < 10; s++) {
                h.setProcessingTime(s * 1000); // one step a second, no event time: arrival counts
                h.processElement(step("hung", s, 1.0), s);
                h.processElement(step("done", s, 1.0), s);
            }
            TrainingEvent end = new TrainingEvent();
            end.type = EventType.RUN_END;
            end.runId = "done";
            end.status = "completed";
            h.processElement(end, 10);
            long last = 9_000;
            h.setProcessingTime(last + 14 * minute);
            assertThat(h.extractOutputValues()).isEmpty();
            h.setProcessingTime(last + 15 * minute + MonitorRunsFunction.TIMER_GRANULARITY_MILLIS);
            assertThat(h.extractOutputValues())
                    .extracting(
                            a -> a.runId, a -> a.kind, a -> a.severity, a -> a.status, a -> a.step)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(
                                    "hung", "RUN_SILENT", "critical", "open", 9L));
            h.setProcessingTime(last + 60 * minute);
            assertThat(h.extractOutputValues()).hasSize(1); // once
            h.processElement(step("hung", 10, 1.0), 11);
            assertThat(h.extractOutputValues())
                    .extracting(a -> a.kind, a -> a.status)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("RUN_SILENT", "open"),
                            org.assertj.core.groups.Tuple.tuple("RUN_SILENT", "resolved"));
            h.setProcessingTime(last + 24 * 60 * minute);
            // "hung" stopped again after step 10, and is called silent again; "done" never
            assertThat(h.extractOutputValues())
                    .extracting(a -> a.runId, a -> a.step)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("hung", 9L),
                            org.assertj.core.groups.Tuple.tuple("hung", 10L),
                            org.assertj.core.groups.Tuple.tuple("hung", 10L));
        }
    }

    @Test
    void shouldEmitNonFiniteAlertThroughTheOperator() throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(IDLE_TEN_MINUTES, 1, true));
        try (KeyedOneInputStreamOperatorTestHarness<String, TrainingEvent, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, e -> e.runId, Types.STRING)) {
            h.processElement(step("r", 0, Double.NaN), 0);
            assertThat(h.extractOutputValues())
                    .extracting(a -> a.kind, a -> a.severity, a -> a.status)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("NON_FINITE", "critical", "open"));
            assertThat(h.getSideOutput(OutputTags.SERIES)).hasSize(1);
        }
    }

    @Test
    void shouldDeadLetterAnEventTheMonitorFailsOnAndGoOn() throws Exception {
        // a step the codec refuses (a negative step number), built past the codec: the declared
        // schedule has no LR for it
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(Thresholds.DEFAULTS, 1, true));
        try (KeyedOneInputStreamOperatorTestHarness<String, TrainingEvent, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, e -> e.runId, Types.STRING)) {
            TrainingEvent start = new TrainingEvent();
            start.type = EventType.RUN_START;
            start.runId = "bad";
            start.schedule =
                    ScheduleSpec.parse(
                            "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":10,\"base_lrs\":[0.1]}}");
            h.processElement(start, 0);
            TrainingEvent negative = step("bad", -3, 1.0);
            negative.lr = new double[] {0.1};
            negative.origin = "trainwatch.events";
            negative.partition = 1;
            negative.position = 42;
            h.processElement(negative, 1);
            h.processElement(step("bad", 0, Double.NaN), 1);
            h.processElement(step("good", 0, Double.NaN), 2);
            assertThat(h.extractOutputValues())
                    .extracting(a -> a.runId + " " + a.kind)
                    .containsExactly("bad MONITOR_ERROR", "bad NON_FINITE", "good NON_FINITE");
            assertThat(h.getSideOutput(OutputTags.DEAD_LETTERS))
                    .singleElement()
                    .satisfies(
                            r -> {
                                io.trainwatch.event.DeadLetter d = r.getValue();
                                assertThat(d.field).isEqualTo("(monitor)");
                                assertThat(d.reason).contains("-3");
                                assertThat(d.source).isEqualTo("trainwatch.events-1@42");
                                assertThat(
                                                io.trainwatch.event.JsonReader.parse(d.payload)
                                                        .path("run_id")
                                                        .asText())
                                        .isEqualTo("bad");
                            });
        }
    }

    private static TrainingEvent step(String run, long step, double loss) {
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.STEP;
        e.runId = run;
        e.step = step;
        e.loss = loss;
        return e;
    }
}
