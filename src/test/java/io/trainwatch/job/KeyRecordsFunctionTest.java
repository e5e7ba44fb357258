package io.trainwatch.job;

import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Each record is routed by its Kafka key, or by the run_id in its payload; one with neither is
 * dead-lettered as the parser refuses it. Records pass on as they came, unparsed.
 */
class KeyRecordsFunctionTest {
    static final String STEP = "{\"type\":\"step\",\"run_id\":\"run-1\",\"step\":4,\"loss\":0.5}";

    @Test
    void shouldRouteAKafkaRecordByItsKeyWithoutReadingThePayload() throws Exception {
        KeyRecordsFunction fn = new KeyRecordsFunction();
        try (OneInputStreamOperatorTestHarness<RawRecord, RawRecord> h =
                ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
            // not JSON at all: the monitor parses it, and dead-letters it there
            RawRecord r = RawRecord.ofKafka(utf8("run-9"), utf8("not json"), "events", 0, 1);
            h.processElement(r, 0);
            assertThat(h.extractOutputValues())
                    .singleElement()
                    .satisfies(
                            out -> {
                                assertThat(out.runId).isEqualTo("run-9");
                                assertThat(out.utf8).isEqualTo(utf8("not json"));
                                assertThat(out.source()).isEqualTo("events-0@1");
                            });
            assertThat(h.getSideOutput(OutputTags.DEAD_LETTERS)).isNull();
        }
    }

    @Test
    void shouldRouteARecordWithoutAKeyByTheRunIdInItsPayload() throws Exception {
        KeyRecordsFunction fn = new KeyRecordsFunction();
        try (OneInputStreamOperatorTestHarness<RawRecord, RawRecord> h =
                ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
            h.processElement(RawRecord.ofKafka(utf8(STEP), "events", 0, 1), 0);
            // an empty key is no run_id (they are never empty): taken as no key
            h.processElement(RawRecord.ofKafka(new byte[0], utf8(STEP), "events", 0, 2), 0);
            h.processElement(new RawRecord(STEP.replace("run-1", "run-é"), "runs.jsonl", -1, 3), 0);
            assertThat(h.extractOutputValues())
                    .extracting(r -> r.runId, RawRecord::source)
                    .containsExactly(
                            tuple("run-1", "events-0@1"),
                            tuple("run-1", "events-0@2"),
                            tuple("run-é", "runs.jsonl:3"));
            assertThat(count(fn, KeyRecordsFunction.READ)).isEqualTo(3);
            assertThat(count(fn, KeyRecordsFunction.DEAD_LETTERED)).isZero();
        }
    }

    /**
     * Only a record with no run_id to route it by stops here: with the full parser's exact error,
     * its raw payload and its source; read counts it, and dead-lettered.
     */
    @Test
    void shouldDeadLetterARecordWithoutARunIdWithTheParsersError() throws Exception {
        List<String> noRunId =
                List.of(
                        "{\"type\":\"step\",\"step\":1,\"loss\":0.5,\"meta\":{\"run_id\":\"inner\"}}",
                        "{\"type\":\"step\",\"run_id\":5,\"step\":1,\"loss\":0.5}",
                        "{\"type\":\"step\",\"run_id\":\"\",\"step\":1,\"loss\":0.5}",
                        "[\"run_id\",\"r\"]",
                        "not json",
                        "");
        KeyRecordsFunction fn = new KeyRecordsFunction();
        try (OneInputStreamOperatorTestHarness<RawRecord, RawRecord> h =
                ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
            for (int i = 0; i < noRunId.size(); i++) {
                h.processElement(RawRecord.ofKafka(utf8(noRunId.get(i)), "events", 1, i), 0);
            }
            h.processElement(new RawRecord(noRunId.get(1), "runs.jsonl", -1, 8), 0);
            h.processElement(RawRecord.ofKafka(utf8(STEP), "events", 1, 9), 0);

            assertThat(h.extractOutputValues()).extracting(r -> r.runId).containsExactly("run-1");
            List<DeadLetter> dead =
                    h.getSideOutput(OutputTags.DEAD_LETTERS).stream()
                            .map(StreamRecord::getValue)
                            .toList();
            assertThat(dead).hasSize(noRunId.size() + 1);
            for (int i = 0; i < noRunId.size(); i++) {
                InvalidEventException expected = parserError(noRunId.get(i));
                assertThat(dead.get(i))
                        .extracting(d -> d.payload, d -> d.field, d -> d.reason, d -> d.source)
                        .containsExactly(
                                noRunId.get(i),
                                expected.field(),
                                expected.getMessage(),
                                "events-1@" + i);
            }
            assertThat(dead)
                    .extracting(d -> d.reason)
                    .startsWith(
                            "run_id: is required (a non-empty string)",
                            "run_id: must be a string, got number 5",
                            "run_id: must not be empty",
                            "(payload): must be a JSON object, got array [\"run_id\",\"r\"]");
            assertThat(dead.get(noRunId.size()).source).isEqualTo("runs.jsonl:8");
            assertThat(count(fn, KeyRecordsFunction.READ)).isEqualTo(noRunId.size() + 2);
            assertThat(count(fn, KeyRecordsFunction.DEAD_LETTERED)).isEqualTo(noRunId.size() + 1);
        }
    }

    private static InvalidEventException parserError(String raw) {
        return catchThrowableOfType(
                () -> new EventCodec().parse(raw.getBytes(StandardCharsets.UTF_8)),
                InvalidEventException.class);
    }

    private static long count(KeyRecordsFunction fn, String name) {
        return fn.getRuntimeContext().getLongCounter(name).getLocalValue();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
