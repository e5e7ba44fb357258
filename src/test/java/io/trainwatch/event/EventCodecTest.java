package io.trainwatch.event;

import io.trainwatch.SharedData;
import io.trainwatch.detect.RealRuns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class EventCodecTest {
    private final EventCodec codec = new EventCodec();

    @Test
    void shouldAcceptWhatPythonJsonDumpsWrites() throws Exception {
        TrainingEvent e =
                codec.parse(
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":NaN,\"grad_norm\":Infinity,\"loss_scale\":-Infinity,\"lr\":[1e-4,2e-5]}");
        assertThat(e.loss).isNaN();
        assertThat(e.gradNorm).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(e.lossScale).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(e.lr).containsExactly(1e-4, 2e-5);
    }

    @Test
    void shouldAcceptNanAndInfStrings() throws Exception {
        TrainingEvent e =
                codec.parse(
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":\"nan\",\"grad_norm\":\"inf\"}");
        assertThat(e.loss).isNaN();
        assertThat(e.gradNorm).isInfinite();
    }

    @Test
    void shouldReadTimeAsIsoOrEpochMillisOrSeconds() throws Exception {
        assertThat(
                        codec.parse(
                                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":\"2026-11-21T09:30:00Z\"}")
                                .timeMillis)
                .isEqualTo(1795253400000L);
        assertThat(
                        codec.parse(
                                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":1795253400000}")
                                .timeMillis)
                .isEqualTo(1795253400000L);
        assertThat(
                        codec.parse(
                                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":1795253400.5}")
                                .timeMillis)
                .isEqualTo(1795253400500L);
    }

    @Test
    void shouldIgnoreUnknownFieldsAndTakeIntegralFloatSteps() throws Exception {
        TrainingEvent e =
                codec.parse(
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":12.0,\"loss\":0.5,\"tokens\":123,\"lr\":0.1,\"batch\":[7,\"b8\"]}");
        assertThat(e.step).isEqualTo(12);
        assertThat(e.lr).containsExactly(0.1);
        assertThat(e.batch).containsExactly("7", "b8");
    }

    @Test
    void shouldAcceptRunStartWithValidScheduleAndRunEnd() throws Exception {
        TrainingEvent s =
                codec.parse(
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":37,"
                                + "\"num_training_steps\":1218,\"base_lrs\":[2e-5]}},\"grad_clip\":1.0,\"grad_accum_steps\":4,\"thresholds\":{\"spike_mad_k\":6}}");
        assertThat(s.schedule.scheduler()).isEqualTo("cosine");
        assertThat(s.schedule.spec())
                .isEqualTo(
                        "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":37,\"num_training_steps\":1218,\"base_lrs\":[2.0E-5]}}");
        assertThat(s.gradAccumSteps).isEqualTo(4);
        assertThat(s.thresholds.asMap()).containsExactly(java.util.Map.entry("spike_mad_k", 6.0));
        TrainingEvent end =
                codec.parse(
                        "{\"type\":\"run_end\",\"run_id\":\"r\",\"step\":99,\"status\":\"failed\"}");
        assertThat(end.status).isEqualTo("failed");
    }

    static List<Arguments> malformed() {
        return List.of(
                Arguments.of("broken JSON", "{\"type\":\"step\",", "(payload)"),
                Arguments.of("not an object", "[1,2]", "(payload)"),
                Arguments.of("empty", "   ", "(payload)"),
                Arguments.of(
                        "10 MB line",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":\""
                                + "x".repeat(10 * 1024 * 1024)
                                + "\"}",
                        "(payload)"),
                Arguments.of(
                        "nested 10000 deep", "[".repeat(10_000) + "]".repeat(10_000), "(payload)"),
                Arguments.of(
                        "nested object 100 deep",
                        "{\"a\":".repeat(100) + "1" + "}".repeat(100),
                        "(payload)"),
                Arguments.of("missing type", "{\"run_id\":\"r\",\"step\":1,\"loss\":1}", "type"),
                Arguments.of("unknown type", "{\"type\":\"epoch\",\"run_id\":\"r\"}", "type"),
                Arguments.of(
                        "missing run_id", "{\"type\":\"step\",\"step\":1,\"loss\":1}", "run_id"),
                Arguments.of(
                        "numeric run_id",
                        "{\"type\":\"step\",\"run_id\":7,\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "empty run_id",
                        "{\"type\":\"step\",\"run_id\":\" \",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "negative step",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":-1,\"loss\":1}",
                        "step"),
                Arguments.of(
                        "string step",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":\"1\",\"loss\":1}",
                        "step"),
                Arguments.of(
                        "fractional step",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1.5,\"loss\":1}",
                        "step"),
                Arguments.of(
                        "missing step", "{\"type\":\"step\",\"run_id\":\"r\",\"loss\":1}", "step"),
                Arguments.of(
                        "missing loss", "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1}", "loss"),
                Arguments.of(
                        "loss as word",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":\"high\"}",
                        "loss"),
                Arguments.of(
                        "loss as object",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":{\"v\":1}}",
                        "loss"),
                Arguments.of(
                        "negative lr",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"lr\":[0.1,-0.1]}",
                        "lr[1]"),
                Arguments.of(
                        "NaN lr",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"lr\":NaN}",
                        "lr"),
                Arguments.of(
                        "empty lr list",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"lr\":[]}",
                        "lr"),
                Arguments.of(
                        "bad time",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":\"yesterday\"}",
                        "time"),
                Arguments.of(
                        "batch as object",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"batch\":{\"id\":1}}",
                        "batch"),
                Arguments.of(
                        "bad schedule",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":0,\"base_lrs\":[0.1]}}}",
                        "schedule.params.step_size"),
                Arguments.of(
                        "unknown threshold",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_k\":3}}",
                        "thresholds.spike_k"),
                Arguments.of(
                        "zero accumulation",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"grad_accum_steps\":0}",
                        "grad_accum_steps"),
                Arguments.of(
                        "negative clip",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"grad_clip\":-1}",
                        "grad_clip"),
                Arguments.of(
                        "unknown status",
                        "{\"type\":\"run_end\",\"run_id\":\"r\",\"status\":\"ok\"}",
                        "status"),
                Arguments.of(
                        "negative threshold",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_mad_k\":-1}}",
                        "thresholds.spike_mad_k"),
                Arguments.of(
                        "zero mismatch steps",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"lr_mismatch_steps\":0}}",
                        "thresholds.lr_mismatch_steps"),
                Arguments.of(
                        "fractional count",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_min_points\":3.5}}",
                        "thresholds.spike_min_points"),
                Arguments.of(
                        "threshold as text",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_mad_k\":\"8\"}}",
                        "thresholds.spike_mad_k"),
                Arguments.of(
                        "NaN threshold",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_mad_k\":NaN}}",
                        "thresholds.spike_mad_k"),
                Arguments.of(
                        "fraction above 1",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"grad_ema_alpha\":1.5}}",
                        "thresholds.grad_ema_alpha"),
                Arguments.of(
                        "thresholds as list",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":[1]}",
                        "thresholds"),
                Arguments.of(
                        "step past 2^53",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":9007199254740992,\"loss\":1}",
                        "step"),
                Arguments.of(
                        "step of Long.MAX",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":9223372036854775807,\"loss\":1}",
                        "step"),
                Arguments.of(
                        "run_end step past 2^53",
                        "{\"type\":\"run_end\",\"run_id\":\"r\",\"step\":9007199254740992}",
                        "step"),
                Arguments.of(
                        "time past year 9999",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":1e17}",
                        "time"),
                Arguments.of(
                        "ISO time past year 9999",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":\"+10000-01-01T00:00:00Z\"}",
                        "time"),
                Arguments.of(
                        "ISO time before 1970",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"time\":\"1969-12-31T23:59:59Z\"}",
                        "time"),
                Arguments.of(
                        "NUL in run_id",
                        "{\"type\":\"step\",\"run_id\":\"a\\u0000b\",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "bidi override in run_id",
                        "{\"type\":\"step\",\"run_id\":\"run\\u202eevil\",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "zero-width space in run_id",
                        "{\"type\":\"step\",\"run_id\":\"run\\u200b\",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "unpaired surrogate in run_id",
                        "{\"type\":\"step\",\"run_id\":\"run\\ud800\",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "newline in run_id",
                        "{\"type\":\"step\",\"run_id\":\"run\\n2\",\"step\":1,\"loss\":1}",
                        "run_id"),
                Arguments.of(
                        "control char in batch id",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"batch\":[\"ok\",\"b\\u0007\"]}",
                        "batch[1]"),
                Arguments.of(
                        "negative grad norm",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"grad_norm\":-0.5}",
                        "grad_norm"),
                Arguments.of(
                        "-Infinity grad norm",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"grad_norm\":-Infinity}",
                        "grad_norm"),
                Arguments.of(
                        "optimizer as object",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"optimizer\":{\"lr\":1}}",
                        "optimizer"),
                Arguments.of(
                        "unpaired surrogate in optimizer",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"optimizer\":\"Adam\\ud800\"}",
                        "optimizer"),
                Arguments.of(
                        "NUL in optimizer",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"optimizer\":\"Adam\\u0000\"}",
                        "optimizer"),
                Arguments.of(
                        "unpaired surrogate in a schedule note",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"StepLR\","
                                + "\"params\":{\"step_size\":5,\"base_lrs\":[0.1]},\"note\":\"x\\udc00\"}}",
                        "schedule.note"),
                Arguments.of(
                        "scheduler stepping period that overflows",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"StepLR\","
                                + "\"params\":{\"step_size\":5,\"base_lrs\":[0.1]},\"interval\":\"epoch\",\"steps_per_epoch\":4294967296,\"frequency\":4294967296}}",
                        "schedule.frequency"),
                Arguments.of(
                        "scheduler lag beyond the step",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":1,\"scheduler_lag\":4}",
                        "scheduler_lag"),
                Arguments.of(
                        "negative scheduler lag",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":1,\"scheduler_lag\":-1}",
                        "scheduler_lag"),
                Arguments.of(
                        "fractional scheduler lag",
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":1,\"scheduler_lag\":1.5}",
                        "scheduler_lag"),
                Arguments.of(
                        "scheduler stepping period past the last step",
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"StepLR\","
                                + "\"params\":{\"step_size\":5,\"base_lrs\":[0.1]},\"scheduler_step_every\":9007199254740992}}",
                        "schedule.scheduler_step_every"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void shouldRejectMalformedEventNamingTheField(String name, String payload, String field) {
        InvalidEventException e =
                catchThrowableOfType(InvalidEventException.class, () -> codec.parse(payload));
        assertThat(e).as(name + " must be rejected").isNotNull();
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.getMessage()).startsWith(field + ": ").hasSizeLessThan(600);
    }

    @Test
    void shouldReadTheSchedulerLagAndWriteItBack() throws Exception {
        TrainingEvent e =
                codec.parse(
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":30,\"loss\":1,\"loss_scale\":8192,\"scheduler_lag\":4}");
        assertThat(e.schedulerLag).isEqualTo(4L);
        assertThat(codec.parse(JsonWriter.event(e)).schedulerLag).isEqualTo(4L);
        InvalidEventException bad =
                catchThrowableOfType(
                        InvalidEventException.class,
                        () ->
                                codec.parse(
                                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":1,\"scheduler_lag\":4}"));
        assertThat(bad.getMessage())
                .isEqualTo(
                        "scheduler_lag: must be an integer from 0 to the step (3): the optimizer steps the LR scheduler"
                                + " skipped so far, got 4");
    }

    @Test
    void shouldReadTheStepBaseOfARunStartAndWriteItBack() throws Exception {
        TrainingEvent hf = codec.parse("{\"type\":\"run_start\",\"run_id\":\"r\",\"step_base\":1}");
        assertThat(hf.stepBase).isEqualTo(1);
        assertThat(JsonWriter.event(hf)).contains("\"step_base\":1");
        assertThat(codec.parse(JsonWriter.event(hf))).isEqualTo(hf);
        assertThat(
                        codec.parse("{\"type\":\"run_start\",\"run_id\":\"r\",\"step_base\":0.0}")
                                .stepBase)
                .isZero();
        TrainingEvent unsaid = codec.parse("{\"type\":\"run_start\",\"run_id\":\"r\"}");
        assertThat(unsaid.stepBase).isNull();
        assertThat(JsonWriter.event(unsaid)).doesNotContain("step_base");
    }

    @Test
    void shouldNameTheStepBaseItsValueAndWhatIsAllowed() {
        for (String[] bad :
                new String[][] {
                    {"2", "got 2"},
                    {"-1", "got -1"},
                    {"0.5", "got number 0.5"},
                    {"\"1\"", "got string \"1\""}
                }) {
            InvalidEventException e =
                    catchThrowableOfType(
                            InvalidEventException.class,
                            () ->
                                    codec.parse(
                                            "{\"type\":\"run_start\",\"run_id\":\"r\",\"step_base\":"
                                                    + bad[0]
                                                    + "}"));
            assertThat(e).as(bad[0]).isNotNull();
            assertThat(e.field()).isEqualTo("step_base");
            assertThat(e.getMessage())
                    .isEqualTo(
                            "step_base: must be 0 (the run's logs number steps as the events do) or 1 (they count"
                                    + " steps done, as HF's global_step = step + 1), "
                                    + bad[1]);
        }
    }

    @Test
    void shouldNameTheThresholdItsValueAndItsRange() {
        InvalidEventException e =
                catchThrowableOfType(
                        InvalidEventException.class,
                        () ->
                                codec.parse(
                                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_mad_k\":-1}}"));
        assertThat(e.getMessage())
                .isEqualTo("thresholds.spike_mad_k: must be a finite number > 0, got -1");
        e =
                catchThrowableOfType(
                        InvalidEventException.class,
                        () ->
                                codec.parse(
                                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"lr_mismatch_steps\":\"3\"}}"));
        assertThat(e.getMessage())
                .isEqualTo(
                        "thresholds.lr_mismatch_steps: must be an integer from 1 to 1000000000, got string \"3\"");
    }

    @Test
    void shouldAcceptTheLargestStepTimeAndIdsThatAreMerelyUnusual() throws Exception {
        TrainingEvent e =
                codec.parse(
                        "{\"type\":\"step\",\"run_id\":\"ümlaut-日本-😀\",\"step\":9007199254740991,\"loss\":-1.5,"
                                + "\"grad_norm\":NaN,\"time\":\"9999-12-31T23:59:59.999Z\",\"batch\":[\"shard/1\"]}");
        assertThat(e.step).isEqualTo(EventCodec.MAX_STEP);
        assertThat(e.runId).isEqualTo("ümlaut-日本-😀");
        assertThat(e.timeMillis).isEqualTo(EventCodec.MAX_TIME_MILLIS);
        assertThat(e.loss).isEqualTo(-1.5);
        TrainingEvent start =
                codec.parse(
                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"lr_mismatch_steps\":5,\"spike_min_rise_relative\":0}}");
        assertThat(start.thresholds.asMap())
                .containsEntry("lr_mismatch_steps", 5.0)
                .containsEntry("spike_min_rise_relative", 0.0);
    }

    @Test
    void shouldKeepDeadLetterFieldAndReasonBoundedWhateverTheyQuote() {
        DeadLetter d =
                DeadLetter.of(
                        "{}",
                        "thresholds." + "x".repeat(100_000),
                        "unknown: " + "y".repeat(100_000),
                        "f:1");
        assertThat(d.field.length()).isLessThanOrEqualTo(DeadLetter.MAX_FIELD_CHARS + 3);
        assertThat(d.reason.length()).isLessThanOrEqualTo(DeadLetter.MAX_REASON_CHARS + 3);
    }

    /**
     * The codec probes a declared schedule at the steps it accepts (up to 2^53 - 1) and refuses one
     * the engine cannot evaluate: every spec trainwatch knows to be real — the golden and reference
     * cases, the examples, the real runs' schedules — must still pass in a run_start.
     */
    @Test
    void shouldAcceptEveryKnownRealScheduleSpecInARunStart() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> specs = new ArrayList<>();
        for (Path dir :
                List.of(SharedData.goldenSchedules(), Path.of("src/test/resources/reference"))) {
            try (var files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    for (JsonNode c : json.readTree(f.toFile()).get("cases")) {
                        // a reference case records the optimizer state of a resume next to the
                        // spec: not part of it
                        var spec = ((ObjectNode) c.deepCopy());
                        if (dir.endsWith("reference")) {
                            spec.retain("scheduler", "params");
                            ((ObjectNode) spec.get("params")).remove("resume_group_state");
                        }
                        specs.add(spec);
                    }
                }
            }
        }
        try (var files = Files.list(Path.of("examples/schedules"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                specs.add(json.readTree(f.toFile()));
            }
        }
        for (JsonNode run : RealRuns.index().get("runs")) {
            if (run.hasNonNull("schedule")) {
                specs.add(run.get("schedule"));
            }
            run.path("resume_schedules").forEach(specs::add);
        }
        assertThat(specs).hasSizeGreaterThan(150);
        for (JsonNode spec : specs) {
            String record = JsonWriter.object("type", "run_start", "run_id", "r", "schedule", spec);
            assertThat(codec.parse(record).schedule)
                    .as("%s", spec.path("name").asText(spec.path("scheduler").asText()))
                    .isNotNull();
        }
    }

    @Test
    void shouldSayWhichReaderLimitARecordIsBeyond() {
        String base = "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,";
        assertThat(
                        catchThrowableOfType(
                                        InvalidEventException.class,
                                        () ->
                                                codec.parse(
                                                        base
                                                                + "\"loss\":1"
                                                                + "0".repeat(2_000)
                                                                + "}"))
                                .getMessage())
                .startsWith("(payload): beyond the JSON reader's limits: Number value length");
        assertThat(
                        catchThrowableOfType(
                                        InvalidEventException.class,
                                        () ->
                                                codec.parse(
                                                        base
                                                                + "\"loss\":1,\""
                                                                + "k".repeat(60_000)
                                                                + "\":1}"))
                                .getMessage())
                .startsWith("(payload): beyond the JSON reader's limits: Name length");
        assertThat(
                        catchThrowableOfType(
                                        InvalidEventException.class,
                                        () ->
                                                codec.parse(
                                                        base
                                                                + "\"loss\":"
                                                                + "[".repeat(40)
                                                                + "]".repeat(40)
                                                                + "}"))
                                .getMessage())
                .isEqualTo("(payload): JSON nested deeper than 32 levels");
    }

    @Test
    void shouldQuoteTheScheduleReasonWholeWhateverTheFieldIsCalled() {
        // "s" and "i" also occur in "invalid schedule spec: ", which the reason used to be cut
        // after
        for (String name : new String[] {"s", "i", "spec", "invalid"}) {
            InvalidEventException e =
                    catchThrowableOfType(
                            InvalidEventException.class,
                            () ->
                                    codec.parse(
                                            "{\"type\":\"run_start\",\"run_id\":\"r\","
                                                    + "\"schedule\":{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":5,\"base_lrs\":[0.1]},\""
                                                    + name
                                                    + "\":1}}"));
            assertThat(e.field()).isEqualTo("schedule." + name);
            assertThat(e.getMessage()).startsWith("schedule." + name + ": unknown field");
        }
    }

    @Test
    void shouldBoundAndKeepWritableARefusalThatQuotesTheRecord() {
        InvalidEventException huge =
                catchThrowableOfType(
                        InvalidEventException.class,
                        () ->
                                codec.parse(
                                        "{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\""
                                                + "k".repeat(10_000)
                                                + "\":1}}"));
        assertThat(huge.field())
                .startsWith("thresholds.kkk")
                .hasSizeLessThanOrEqualTo(DeadLetter.MAX_FIELD_CHARS + 3);
        assertThat(huge.getMessage())
                .hasSizeLessThanOrEqualTo(
                        DeadLetter.MAX_FIELD_CHARS + DeadLetter.MAX_REASON_CHARS + 8);
        // Jackson decodes the escape into a lone surrogate, and the reason quotes the value: a
        // UTF-8 writer would fail on it
        for (String record :
                new String[] {
                    "{\"type\":\"\\ud800\"}",
                    "\"x\\udc00y\"",
                    "{\"type\":\"step\",\"run_id\":\"r\",\"step\":\"\\ud83d\",\"loss\":1}"
                }) {
            InvalidEventException e =
                    catchThrowableOfType(InvalidEventException.class, () -> codec.parse(record));
            assertThat(e.getMessage())
                    .as(record)
                    .doesNotContain("\ud800")
                    .doesNotContain("\udc00")
                    .doesNotContain("\ud83d");
        }
    }

    @Test
    void shouldMakeEveryDeadLetterTextValidUnicode() throws Exception {
        DeadLetter d =
                DeadLetter.of(
                        "{\"optimizer\":\"x\ud800\"}",
                        "thresholds.\udc00",
                        "got \"\ud83d\"",
                        "f:1");
        for (String text : new String[] {d.payload, d.field, d.reason}) {
            assertThat(text)
                    .doesNotContain("\ud800")
                    .doesNotContain("\udc00")
                    .doesNotContain("\ud83d")
                    .contains("\ufffd");
        }
        // what a strict UTF-8 writer (the JSON-lines file sink) does with it
        java.nio.charset.StandardCharsets.UTF_8
                .newEncoder()
                .encode(java.nio.CharBuffer.wrap(JsonWriter.deadLetter(d)));
        // a pair survives, and a cut never splits one
        String emoji = "\uD83D\uDE00";
        DeadLetter cut =
                DeadLetter.of("{}", "f", "x" + emoji.repeat(DeadLetter.MAX_REASON_CHARS), "f:1");
        assertThat(cut.reason).endsWith(emoji + "...").doesNotContain("\ufffd");
    }

    @Test
    void shouldKeepDeadLetterPayloadBoundedAndSayItWasCut() {
        String big = "x".repeat(DeadLetter.MAX_PAYLOAD_CHARS + 10);
        DeadLetter d = DeadLetter.of(big, "(payload)", "too large", "f:1");
        assertThat(d.payload).hasSize(DeadLetter.MAX_PAYLOAD_CHARS);
        assertThat(d.payloadTruncated).isTrue();
        assertThat(d.payloadLength).isEqualTo(big.length());
    }
}
