package io.trainwatch.bench;

import io.trainwatch.job.RawRecord;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The floor keys by the Kafka record's key, not the payload, and counts per run in keyed state. */
class FlinkFloorTest {
    @Test
    void shouldKeyByTheRecordKeyWithoutReadingThePayload() {
        RawRecord r =
                RawRecord.ofKafka(
                        BenchEvents.key(42).getBytes(StandardCharsets.UTF_8),
                        "not json at all".getBytes(StandardCharsets.UTF_8),
                        "bench.events",
                        1,
                        7);
        assertThat(new FlinkFloor.RunKey().getKey(r)).isEqualTo("run-00042");
    }

    @Test
    void shouldCountARecordWithoutAKeyUnderTheEmptyRun() {
        RawRecord r = RawRecord.ofKafka(new byte[0], "bench.events", 0, 0);
        assertThat(new FlinkFloor.RunKey().getKey(r)).isEmpty();
    }

    @Test
    void shouldCountEachRunsRecordsInItsOwnState() throws Exception {
        try (KeyedOneInputStreamOperatorTestHarness<String, RawRecord, Long> h =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        new FlinkFloor.CountPerRun(), new FlinkFloor.RunKey(), Types.STRING)) {
            for (int run : new int[] {0, 1, 0, 2, 0, 1}) {
                h.processElement(record(run), 0);
            }
            // each record's run count so far
            assertThat(h.extractOutputValues()).containsExactly(1L, 1L, 2L, 1L, 3L, 2L);
            assertThat(h.numKeyedStateEntries()).isEqualTo(3);
        }
    }

    private static RawRecord record(int run) {
        return RawRecord.ofKafka(
                BenchEvents.key(run).getBytes(StandardCharsets.UTF_8),
                BenchEvents.step(run, 0, false).getBytes(StandardCharsets.UTF_8),
                "bench.events",
                0,
                0);
    }
}
