package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The monitor operator parses each record once, keeps state per run and forgets a run once it has
 * been idle for the timeout; what it cannot judge as the run's event it dead-letters.
 */
class MonitorRunsFunctionTest {
    static final long IDLE_MILLIS = 600_000;
    static final Thresholds IDLE_TEN_MINUTES =
            Thresholds.DEFAULTS.with(Map.of("idle_timeout_minutes", 10.0));

    @Test
    void shouldClearStateOfIdleRunsSoTheStateCountReturnsToZero() throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(IDLE_TEN_MINUTES, 1, true));
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
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
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
            for (long s = 0; s < 10; s++) {
                h.setProcessingTime(s * 1000); // one step a second, no event time: arrival counts
                h.processElement(step("hung", s, 1.0), s);
                h.processElement(step("done", s, 1.0), s);
            }
            h.processElement(
                    keyed("{\"type\":\"run_end\",\"run_id\":\"done\",\"status\":\"completed\"}"),
                    10);
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
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
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
        // a step the codec refuses (a negative step number), made past the codec: the declared
        // schedule has no LR for it
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(Thresholds.DEFAULTS, 1, true)) {
                    @Override
                    TrainingEvent parse(RawRecord record) throws InvalidEventException {
                        TrainingEvent e = super.parse(record);
                        if (record.position == 42) {
                            e.step = -3;
                        }
                        return e;
                    }
                };
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
            h.processElement(
                    keyed(
                            "{\"type\":\"run_start\",\"run_id\":\"bad\",\"schedule\":"
                                    + "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":10,\"base_lrs\":[0.1]}}}"),
                    0);
            RawRecord negative =
                    RawRecord.ofKafka(
                            utf8("bad"),
                            utf8(
                                    "{\"type\":\"step\",\"run_id\":\"bad\",\"step\":3,\"loss\":1.0,\"lr\":0.1}"),
                            "trainwatch.events",
                            1,
                            42);
            negative.runId = "bad";
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
                                DeadLetter d = r.getValue();
                                assertThat(d.field).isEqualTo("(monitor)");
                                assertThat(d.reason).contains("-3");
                                assertThat(d.source).isEqualTo("trainwatch.events-1@42");
                                assertThat(JsonReader.parse(d.payload).path("run_id").asText())
                                        .isEqualTo("bad");
                            });
        }
    }

    /**
     * A record is parsed once, here: one that does not parse is dead-lettered as the parser refused
     * it (its raw payload, the field and the parser's reason, its source), creates no run state,
     * and leaves the run's other events judged.
     */
    @Test
    void shouldDeadLetterARecordThatDoesNotParseWithTheParsersErrorAndNoRunState()
            throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(IDLE_TEN_MINUTES, 1, true));
        String badLoss = "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":\"high\"}";
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
            RawRecord bytes = RawRecord.ofKafka(utf8("r"), utf8(badLoss), "events", 0, 7);
            bytes.runId = "r";
            h.processElement(bytes, 0);
            RawRecord line = new RawRecord(badLoss, "runs.jsonl", -1, 3);
            line.runId = "r";
            h.processElement(line, 0);
            assertThat(h.numKeyedStateEntries()).isZero();
            InvalidEventException expected =
                    catchThrowableOfType(
                            () -> new EventCodec().parse(badLoss), InvalidEventException.class);
            assertThat(h.getSideOutput(OutputTags.DEAD_LETTERS))
                    .extracting(StreamRecord::getValue)
                    .extracting(d -> d.payload, d -> d.field, d -> d.reason, d -> d.source)
                    .containsExactly(
                            tuple(badLoss, "loss", expected.getMessage(), "events-0@7"),
                            tuple(badLoss, "loss", expected.getMessage(), "runs.jsonl:3"));
            assertThat(expected.field()).isEqualTo("loss");

            h.processElement(step("r", 2, Double.NaN), 1);
            assertThat(h.extractOutputValues())
                    .extracting(a -> a.kind)
                    .containsExactly("NON_FINITE");
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);
        }
    }

    /**
     * A producer that keys by something else than the run_id (a host name, a job id): its events
     * would be judged in another run's state, so each is dead-lettered, naming both values.
     */
    @Test
    void shouldDeadLetterAnEventWhoseRunIdIsNotTheKeyItWasRoutedBy() throws Exception {
        MonitorRunsFunction fn =
                new MonitorRunsFunction(new MonitorConfig(IDLE_TEN_MINUTES, 1, true));
        String event = "{\"type\":\"step\",\"run_id\":\"run-7\",\"step\":1,\"loss\":NaN}";
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        fn, r -> r.runId, Types.STRING)) {
            RawRecord r = RawRecord.ofKafka(utf8("gpu-node-3"), utf8(event), "events", 1, 5);
            r.runId = "gpu-node-3"; // as KeyRecordsFunction routes it: by its key
            h.processElement(r, 0);
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(h.getSideOutput(OutputTags.DEAD_LETTERS))
                    .singleElement()
                    .satisfies(
                            rec -> {
                                DeadLetter d = rec.getValue();
                                assertThat(d.field).isEqualTo("run_id");
                                assertThat(d.reason)
                                        .startsWith("run_id: is \"run-7\"")
                                        .contains("Kafka key is \"gpu-node-3\"");
                                assertThat(d.payload).isEqualTo(event);
                                assertThat(d.source).isEqualTo("events-1@5");
                            });
        }
    }

    /**
     * A step of {@code run} as a line of a file, routed by its run_id as KeyRecordsFunction does.
     */
    static RawRecord step(String run, long step, double loss) {
        return keyed(
                String.format(
                        "{\"type\":\"step\",\"run_id\":\"%s\",\"step\":%d,\"loss\":%s}",
                        run, step, Double.isNaN(loss) ? "NaN" : Double.toString(loss)));
    }

    static RawRecord keyed(String json) {
        RawRecord r = new RawRecord(json, "test");
        try {
            r.runId = new EventCodec().runId(json);
        } catch (InvalidEventException e) {
            throw new AssertionError(e);
        }
        return r;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
