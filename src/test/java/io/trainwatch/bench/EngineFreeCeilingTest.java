package io.trainwatch.bench;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.job.MonitorConfig;
import io.trainwatch.job.MonitorRunsFunction;
import io.trainwatch.job.RawRecord;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The ceiling judges records as the job does, with no engine: counts, runs and alerts. */
class EngineFreeCeilingTest {
    static final MonitorConfig NO_SERIES = new MonitorConfig(Thresholds.DEFAULTS, 1, false);
    static final long NOW_MILLIS = 1_700_000_000_000L;

    @Test
    void shouldJudgeEveryEventOfEveryRunAndCountTheAlertOfANaN() {
        EngineFreeCeiling ceiling = new EngineFreeCeiling(NO_SERIES);
        List<byte[]> records = benchRecords(3, 40, 1, 30);
        for (byte[] r : records) {
            ceiling.accept(r, NOW_MILLIS);
        }
        EngineFreeCeiling.Result result = ceiling.result(2.0, 1.0);
        assertThat(result.records()).isEqualTo(records.size()).isEqualTo(3 + 3 * 40);
        assertThat(result.judged()).isEqualTo(result.records());
        assertThat(result.rejected()).isZero();
        assertThat(result.runs()).isEqualTo(3);
        // run 1's NaN loss: a NON_FINITE incident opens, and resolves when the run is quiet again
        assertThat(result.alerts()).isEqualTo(2);
        assertThat(result.rate()).isEqualTo(records.size() / 2.0);
        assertThat(result.steadyRate()).isEqualTo(records.size() / 1.0);
    }

    @Test
    void shouldRejectWhatTheJobWouldDeadLetterWithoutJudgingIt() {
        EngineFreeCeiling ceiling = new EngineFreeCeiling(NO_SERIES);
        ceiling.accept("not json".getBytes(StandardCharsets.UTF_8), NOW_MILLIS);
        ceiling.accept(new byte[0], NOW_MILLIS);
        ceiling.accept(bytes(BenchEvents.start(7)), NOW_MILLIS);
        EngineFreeCeiling.Result result = ceiling.result(1.0, 1.0);
        assertThat(result.records()).isEqualTo(3);
        assertThat(result.rejected()).isEqualTo(2);
        assertThat(result.judged()).isEqualTo(1);
        assertThat(result.runs()).isEqualTo(1);
    }

    /** The bench compares the two counts: the same events, judged at the same time, agree. */
    @Test
    void shouldCountTheAlertsTheJobsMonitorOperatorEmits() throws Exception {
        List<byte[]> records = benchRecords(4, 60, 2, 45);
        EngineFreeCeiling ceiling = new EngineFreeCeiling(NO_SERIES);
        EventCodec codec = new EventCodec();
        List<Alert> jobAlerts = new ArrayList<>();
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Alert> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        new MonitorRunsFunction(NO_SERIES), r -> r.runId, Types.STRING)) {
            h.setProcessingTime(NOW_MILLIS);
            for (byte[] r : records) {
                ceiling.accept(r, NOW_MILLIS);
                RawRecord keyed = RawRecord.ofKafka(r, "bench.events", 0, 0);
                keyed.runId = codec.runId(r);
                h.processElement(keyed, 0);
            }
            jobAlerts.addAll(h.extractOutputValues());
        }
        assertThat(jobAlerts).isNotEmpty();
        assertThat(ceiling.result(1.0, 1.0).alerts()).isEqualTo(jobAlerts.size());
    }

    /**
     * Each run's start, then {@code steps} steps of each run in turn, one a second (the bench's own
     * time stamps are the clock's when made: steps made faster could look like a slowdown); run
     * nanRun's loss is NaN at nanStep.
     */
    private static List<byte[]> benchRecords(int runs, int steps, int nanRun, int nanStep) {
        List<byte[]> records = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            records.add(bytes(BenchEvents.start(r)));
        }
        for (long s = 0; s < steps; s++) {
            for (int r = 0; r < runs; r++) {
                String step = BenchEvents.step(r, s, r == nanRun && s == nanStep);
                records.add(
                        bytes(
                                step.replaceFirst(
                                        "\"time\":\\d+", "\"time\":" + (NOW_MILLIS + s * 1000))));
            }
        }
        return records;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
