package io.trainwatch.event;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The run_id a record is routed by ({@link EventCodec#runId}) is the one the full parser reads:
 * found by the scan when it is sure ({@link RunIdScan}), from the full parse otherwise, with the
 * full parser's error when there is none.
 */
class EventCodecRunIdTest {
    private static final EventCodec CODEC = new EventCodec();
    static final String STEP_REST = "\"type\":\"step\",\"step\":1,\"loss\":0.5";

    @Test
    void shouldFindThePlainRunIdWithoutParsing() throws Exception {
        String step = "{\"type\":\"step\",\"run_id\":\"gpt-7b/lr=3e-4\",\"step\":1,\"loss\":0.5}";
        assertScanned(step, "gpt-7b/lr=3e-4");
        // every event the simulator writes, every type, without a full parse
        for (String line : EventCodecFastPathTest.simulatedLines()) {
            assertThat(RunIdScan.find(utf8(line))).as(line).isNotNull();
            assertAgrees(line);
        }
    }

    @Test
    void shouldReadThroughJsonWhitespaceAnywhere() throws Exception {
        assertScanned(
                " \r\n\t{ \"type\" :\"step\" ,\n\t\"run_id\"\r\n:\t\"r-1\"  ,\"step\":1,\"loss\":0.5 }\n",
                "r-1");
    }

    @Test
    void shouldSkipEscapedQuotesAndBackslashesInOtherStrings() throws Exception {
        assertScanned(
                "{\"note\":\"a \\\"run_id\\\": \\\"evil\\\" \\\\\",\"run_id\":\"good\","
                        + STEP_REST
                        + "}",
                "good");
        assertScanned("{\"n\\\"\":\"\\\\\",\"run_id\":\"good\"," + STEP_REST + "}", "good");
    }

    @Test
    void shouldDecodeEscapesInTheRunIdAndInItsName() throws Exception {
        assertScanned("{\"run_id\":\"a\\\"b\\\\c\\/d\"," + STEP_REST + "}", "a\"b\\c/d");
        assertScanned(
                "{\"run_id\":\"\\u00e9t\\u00E9-\\ud83d\\ude80\"," + STEP_REST + "}", "été-🚀");
        assertScanned("{\"run\\u005fid\":\"spelled\"," + STEP_REST + "}", "spelled");
        // an escape the id rules refuse, and one JSON refuses: the full parser's errors
        assertRefused("{\"run_id\":\"a\\nb\"," + STEP_REST + "}", "run_id", "U+000A at index 1");
        assertRefused("{\"run_id\":\"a\\u00zz\"," + STEP_REST + "}", "(payload)", "not valid JSON");
        assertRefused("{\"run_id\":\"\\ud800\"," + STEP_REST + "}", "run_id", "unpaired surrogate");
    }

    @Test
    void shouldCountOnlyTheOutermostObjectsRunId() throws Exception {
        assertScanned(
                "{\"meta\":{\"run_id\":\"inner\",\"deeper\":[{\"run_id\":\"x\"}]},"
                        + "\"tags\":[\"run_id\",\"run_id\"],\"run_id\":\"outer\","
                        + STEP_REST
                        + "}",
                "outer");
        assertRefused(
                "{\"meta\":{\"run_id\":\"inner\"},\"tags\":[{\"run_id\":\"x\"}]," + STEP_REST + "}",
                "run_id",
                "is required (a non-empty string)");
        // a value that spells the key is not the key
        assertRefused("{\"a\":\"run_id\"," + STEP_REST + "}", "run_id", "is required");
    }

    @Test
    void shouldGiveTheFullParsersErrorWhenThereIsNoStringRunId() {
        assertRefused("{" + STEP_REST + "}", "run_id", "is required (a non-empty string)");
        assertRefused("{\"run_id\":null," + STEP_REST + "}", "run_id", "is required");
        assertRefused(
                "{\"run_id\":7," + STEP_REST + "}", "run_id", "must be a string, got number 7");
        assertRefused(
                "{\"run_id\":[\"r\"]," + STEP_REST + "}", "run_id", "must be a string, got array");
        assertRefused(
                "{\"run_id\":{\"id\":\"r\"}," + STEP_REST + "}", "run_id", "must be a string");
        assertRefused("{\"run_id\":\" \"," + STEP_REST + "}", "run_id", "must not be empty");
        assertRefused(
                "{\"run_id\":\"" + "r".repeat(300) + "\"," + STEP_REST + "}",
                "run_id",
                "longer than 256");
        assertRefused("[{\"run_id\":\"r\"}]", "(payload)", "must be a JSON object, got array");
        assertRefused("{\"run_id\":\"r\"", "(payload)", "not valid JSON");
        assertRefused("", "(payload)", "empty record");
        assertThatThrownBy(() -> CODEC.runId((String) null))
                .isInstanceOf(InvalidEventException.class);
        assertThatThrownBy(() -> CODEC.runId((byte[]) null))
                .isInstanceOf(InvalidEventException.class);
    }

    /** The full parser keeps the last of repeated keys; the scan leaves repeats to it. */
    @Test
    void shouldTakeTheLastOfRepeatedRunIdsAsTheFullParserDoes() throws Exception {
        String twice = "{\"run_id\":\"first\"," + STEP_REST + ",\"run_id\":\"last\"}";
        assertThat(CODEC.parse(twice).runId).isEqualTo("last");
        assertThat(RunIdScan.find(twice)).isNull();
        assertThat(CODEC.runId(twice)).isEqualTo("last");
        assertThat(CODEC.runId(utf8(twice))).isEqualTo("last");
        assertRefused(
                "{\"run_id\":\"first\"," + STEP_REST + ",\"run_id\":5}",
                "run_id",
                "must be a string");
        assertAgrees("{\"run_id\":5," + STEP_REST + ",\"run_id\":\"last\"}");
    }

    @Test
    void shouldReadANonAsciiRunIdFromItsBytesAndLeaveBrokenUtf8ToTheFullParser() throws Exception {
        assertScanned("{\"run_id\":\"実験-1\"," + STEP_REST + "}", "実験-1");
        byte[] broken = utf8("{\"run_id\":\"ab\"," + STEP_REST + "}");
        broken[12] = (byte) 0xFF; // the b
        assertThat(RunIdScan.find(broken)).isNull();
        // the full parser reads the bad byte as U+FFFD, and accepts that
        assertThat(CODEC.runId(broken)).isEqualTo("a\uFFFD").isEqualTo(CODEC.parse(broken).runId);
    }

    /**
     * A run_id found in a record the full parser refuses for another reason is only a route: the
     * record is refused behind the keyBy with the same error.
     */
    @Test
    void shouldRouteARecordThatIsRefusedForAnotherFieldByItsRunId() throws Exception {
        String badLoss = "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":\"high\"}";
        assertThat(CODEC.runId(badLoss)).isEqualTo("r");
        assertThatThrownBy(() -> CODEC.parse(badLoss)).hasMessageStartingWith("loss:");
    }

    @Test
    void shouldRefuseAnEventRoutedByAnotherKeyNamingBoth() throws Exception {
        TrainingEvent e = CODEC.parse("{\"run_id\":\"run-7\"," + STEP_REST + "}");
        EventCodec.requireRoutedBy(e, "run-7");
        assertThatThrownBy(() -> EventCodec.requireRoutedBy(e, "host\u0000-3"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessage(
                        "run_id: is \"run-7\" but the record's Kafka key is \"host\\u0000-3\": a"
                                + " run's events must be keyed by its run_id, or sent without a key")
                .extracting(t -> ((InvalidEventException) t).field())
                .isEqualTo("run_id");
        String longKey = "k".repeat(10_000);
        assertThatThrownBy(() -> EventCodec.requireRoutedBy(e, longKey))
                .satisfies(t -> assertThat(t.getMessage()).hasSizeLessThan(500));
    }

    /**
     * Whatever the record, damaged anywhere: the route is the full parser's run_id, or its error,
     * or (only for a record it refuses anyway) a valid id the scan found.
     */
    @Test
    void shouldAgreeWithTheFullParserOnEveryPrefixAndEveryDeletionOfATrickyRecord() {
        String tricky =
                "{\"meta\":{\"run_id\":\"in\\\"ner\",\"a\":[1,{\"run_id\":2}]},\"s\":\"}]\\\\\","
                        + "\"run\\u005fid\":\"out\\u00e9r\",\"type\":\"step\",\"step\":3,\"loss\":NaN}";
        for (int i = 0; i <= tricky.length(); i++) {
            assertAgrees(tricky.substring(0, i));
            if (i < tricky.length()) {
                assertAgrees(tricky.substring(0, i) + tricky.substring(i + 1));
            }
        }
    }

    @Test
    void shouldAgreeWithTheFullParserOnHostileRecords() {
        long seed = FuzzSettings.seed();
        int records = FuzzSettings.records(10_000);
        int scanned = 0;
        for (HostileEvents.Generated g : new HostileEvents(seed).generate(records)) {
            if (g.utf8() != null) {
                assertAgrees(g.utf8(), g.kind() + " (seed " + seed + ")");
            } else {
                assertAgrees(g.text());
            }
            byte[] bytes = g.utf8() != null ? g.utf8() : utf8(g.text());
            scanned +=
                    bytes.length <= EventCodec.MAX_EVENT_CHARS && RunIdScan.find(bytes) != null
                            ? 1
                            : 0;
        }
        System.out.printf(
                "EventCodecRunIdTest: seed %d, %d hostile records, %d routed without a parse%n",
                seed, records, scanned);
        // most are events of the generator's runs, with their run_id as it is
        assertThat(scanned).isGreaterThan(records / 2);
    }

    private static void assertScanned(String raw, String runId) throws Exception {
        assertThat(RunIdScan.find(raw)).as("scan of %s", raw).isEqualTo(runId);
        assertThat(RunIdScan.find(utf8(raw))).as("scan of the bytes of %s", raw).isEqualTo(runId);
        assertAgrees(raw);
    }

    private static void assertRefused(String raw, String field, String reasonPart) {
        for (Object outcome :
                List.of(outcome(() -> CODEC.runId(raw)), outcome(() -> CODEC.runId(utf8(raw))))) {
            assertThat(outcome).as(raw).isInstanceOf(Refused.class);
            Refused r = (Refused) outcome;
            assertThat(r.field).as(raw).isEqualTo(field);
            assertThat(r.message).as(raw).contains(reasonPart);
        }
        assertAgrees(raw);
    }

    /** The text, and its UTF-8 bytes as Kafka hands them over. */
    private static void assertAgrees(String raw) {
        Object parsed = outcome(() -> CODEC.parse(raw));
        assertRoute(parsed, outcome(() -> CODEC.runId(raw)), RunIdScan.find(raw), raw);
        assertAgrees(utf8(raw), raw);
    }

    private static void assertAgrees(byte[] utf8, String what) {
        Object parsed = outcome(() -> CODEC.parse(utf8));
        String scanned = utf8.length > EventCodec.MAX_EVENT_CHARS ? null : RunIdScan.find(utf8);
        assertRoute(parsed, outcome(() -> CODEC.runId(utf8)), scanned, "bytes of " + what);
    }

    private static void assertRoute(Object parsed, Object route, String scanned, String what) {
        String abbreviated = what.length() > 300 ? what.substring(0, 300) + "..." : what;
        if (parsed instanceof TrainingEvent e) {
            assertThat(route).as("route of the accepted %s", abbreviated).isEqualTo(e.runId);
        } else if (route instanceof String id) {
            // refused, routed anyway: only by a valid id the scan is sure of
            assertThat(scanned).as("route of the refused %s", abbreviated).isEqualTo(id);
            assertThat(EventCodec.idProblem(id)).isNull();
        } else {
            assertThat(route).as("error of %s", abbreviated).isEqualTo(parsed);
        }
    }

    private record Refused(String field, String message) {}

    private interface Call {
        Object run() throws InvalidEventException;
    }

    private static Object outcome(Call c) {
        try {
            return c.run();
        } catch (InvalidEventException e) {
            return new Refused(e.field(), e.getMessage());
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
