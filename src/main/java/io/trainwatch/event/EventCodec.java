package io.trainwatch.event;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.InvalidScheduleException;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Threshold;
import io.trainwatch.threshold.ThresholdOverrides;
import io.trainwatch.threshold.Thresholds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Reads event format v1 (README "Event format v1"). Accepts what Python's {@code json.dumps} writes
 * (bare {@code NaN}, {@code Infinity}, {@code -Infinity}) and the strings "nan"/"inf"; ignores
 * unknown fields; refuses anything else with an {@link InvalidEventException} naming the field and
 * the reason. Bounded: a payload over {@link #MAX_EVENT_CHARS} characters or nested deeper than
 * {@link #MAX_NESTING_DEPTH} is refused before it is built into a tree, and every accepted value is
 * one the rest of the pipeline can hold and write: steps up to 2^53 - 1, times within years
 * 1970-9999 (PostgreSQL's and JavaScript's ranges), ids without control or invisible formatting
 * characters.
 */
public final class EventCodec {
    public static final int MAX_EVENT_CHARS = 1 << 20;
    public static final int MAX_NESTING_DEPTH = 32;
    static final int MAX_RUN_ID_CHARS = 256;

    /**
     * The largest step: 2^53 - 1, the largest integer a double (JSON readers, Grafana) holds
     * exactly.
     */
    public static final long MAX_STEP = (1L << 53) - 1;

    /**
     * 9999-12-31T23:59:59.999Z: later times do not fit PostgreSQL's timestamptz (nor most tools'
     * date types).
     */
    static final long MAX_TIME_MILLIS = 253_402_300_799_999L;

    static final int MAX_BATCH_IDS = 256;
    static final int MAX_PARAM_GROUPS = 1024;

    /** Epoch values below this are seconds (Python's time.time()), above it milliseconds. */
    static final double EPOCH_SECONDS_LIMIT = 1e11;

    // FastDoubleParser: correctly rounded like Double.parseDouble, several times faster (number
    // parsing was a third
    // of the fast path's time); both paths share this factory, so they read every number alike
    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                    .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                    .build();

    static {
        JSON.getFactory()
                .setStreamReadConstraints(
                        StreamReadConstraints.builder()
                                .maxNestingDepth(MAX_NESTING_DEPTH)
                                .maxStringLength(MAX_EVENT_CHARS)
                                .build());
    }

    static final StepFastPath FAST_PATH = new StepFastPath();

    public EventCodec() {}

    public TrainingEvent parse(String raw) throws InvalidEventException {
        if (raw != null && raw.length() <= MAX_EVENT_CHARS) {
            TrainingEvent e = FAST_PATH.tryParse(raw);
            if (e != null) {
                return e;
            }
        }
        return parseTree(raw);
    }

    /**
     * {@link #parse(String)} of a UTF-8 record as it came (Kafka): a plain step is read from the
     * bytes, without first building its text; anything else is decoded (malformed UTF-8 becomes
     * U+FFFD) and parsed as text.
     */
    public TrainingEvent parse(byte[] utf8) throws InvalidEventException {
        if (utf8 != null && utf8.length <= MAX_EVENT_CHARS) {
            TrainingEvent e = FAST_PATH.tryParse(utf8);
            if (e != null) {
                return e;
            }
        }
        return parseTree(utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8));
    }

    /**
     * The run_id of a UTF-8 record (the key a record without a Kafka key is routed by), found
     * without parsing the record ({@link RunIdScan}); when the scan is unsure, from the full parse,
     * whose error is thrown if the record is refused. A run_id returned does not mean the record is
     * accepted: {@link #parse(byte[])} decides that.
     */
    public String runId(byte[] utf8) throws InvalidEventException {
        String id = utf8 == null || utf8.length > MAX_EVENT_CHARS ? null : RunIdScan.find(utf8);
        return id != null ? id : parse(utf8).runId;
    }

    /** {@link #runId(byte[])} of a record as text (a line of a file). */
    public String runId(String raw) throws InvalidEventException {
        String id = raw == null || raw.length() > MAX_EVENT_CHARS ? null : RunIdScan.find(raw);
        return id != null ? id : parse(raw).runId;
    }

    /**
     * Refuses an event read from a record that was routed by another run_id (its Kafka key): the
     * event would be judged in that run's state. Producers key each record by its run_id.
     */
    public static void requireRoutedBy(TrainingEvent e, String key) throws InvalidEventException {
        if (!e.runId.equals(key)) {
            throw new InvalidEventException(
                    "run_id",
                    "is "
                            + quoted(e.runId)
                            + " but the record's Kafka key is "
                            + quoted(DeadLetter.cut(key, MAX_RUN_ID_CHARS))
                            + ": a run's events must be keyed by its run_id, or sent without a"
                            + " key");
        }
    }

    /**
     * The full parser: every event type, every accepted spelling, and the error for anything
     * refused. A refusal's field and reason may quote the record (an unknown name, a bad value):
     * they are cut to what a dead letter keeps and made valid Unicode, so no record can make its
     * own refusal large or unwritable.
     */
    TrainingEvent parseTree(String raw) throws InvalidEventException {
        try {
            return readTree(raw);
        } catch (InvalidEventException e) {
            String reason = e.getMessage().substring(e.field().length() + 2);
            String field =
                    DeadLetter.wellFormed(DeadLetter.cut(e.field(), DeadLetter.MAX_FIELD_CHARS));
            String shortReason =
                    DeadLetter.wellFormed(DeadLetter.cut(reason, DeadLetter.MAX_REASON_CHARS));
            if (field.equals(e.field()) && shortReason.equals(reason)) {
                throw e;
            }
            throw new InvalidEventException(field, shortReason);
        }
    }

    private TrainingEvent readTree(String raw) throws InvalidEventException {
        if (raw == null || raw.isBlank()) {
            throw new InvalidEventException("(payload)", "empty record");
        }
        if (raw.length() > MAX_EVENT_CHARS) {
            throw new InvalidEventException(
                    "(payload)",
                    "record of "
                            + raw.length()
                            + " characters is over the limit of "
                            + MAX_EVENT_CHARS);
        }
        JsonNode root;
        try {
            root = JSON.readTree(raw);
        } catch (StreamConstraintsException e) {
            // the reader's limits: nesting, and also the length of a number (1000 digits) or of a
            // name (50,000 characters)
            String limit = firstLine(e.getOriginalMessage());
            throw new InvalidEventException(
                    "(payload)",
                    limit.contains("nesting depth")
                            ? "JSON nested deeper than " + MAX_NESTING_DEPTH + " levels"
                            : "beyond the JSON reader's limits: " + limit);
        } catch (JsonProcessingException e) {
            throw new InvalidEventException(
                    "(payload)", "not valid JSON: " + firstLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidEventException(
                    "(payload)", "must be a JSON object, got " + kind(root));
        }
        TrainingEvent e = new TrainingEvent();
        JsonNode type = root.get("type");
        if (type == null || type.isNull()) {
            throw new InvalidEventException("type", "is required: run_start, step or run_end");
        }
        e.type = type.isTextual() ? EventType.fromWire(type.textValue()) : null;
        if (e.type == null) {
            throw new InvalidEventException(
                    "type", "must be run_start, step or run_end, got " + kind(type));
        }
        e.runId = runId(root.get("run_id"));
        e.timeMillis = time(root.get("time"));
        switch (e.type) {
            case STEP -> readStep(root, e);
            case RUN_START -> readRunStart(root, e);
            case RUN_END -> readRunEnd(root, e);
        }
        return e;
    }

    private static String runId(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            throw new InvalidEventException("run_id", "is required (a non-empty string)");
        }
        if (!v.isTextual()) {
            throw new InvalidEventException("run_id", "must be a string, got " + kind(v));
        }
        String s = v.textValue();
        String problem = idProblem(s);
        if (problem != null) {
            throw new InvalidEventException("run_id", problem);
        }
        return s;
    }

    /**
     * Why {@code s} cannot be an id (a run id, a batch id), or null. Ids end up in Kafka keys,
     * PostgreSQL rows, alert texts and dashboards: control characters, invisible formatting (bidi
     * overrides that reorder what a reader sees, zero-width characters), line separators and
     * unpaired surrogates are refused, not silently changed.
     */
    static String idProblem(String s) {
        if (s.isBlank()) {
            return "must not be empty";
        }
        if (s.length() > MAX_RUN_ID_CHARS) {
            return "longer than " + MAX_RUN_ID_CHARS + " characters (" + s.length() + ")";
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean pairedSurrogate =
                    Character.isHighSurrogate(c)
                            && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1));
            if (pairedSurrogate) {
                i++;
            } else if (type == Character.CONTROL
                    || type == Character.FORMAT
                    || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                return String.format(
                        "must not contain control, formatting or unpaired surrogate characters (U+%04X at index %d)",
                        (int) c, i);
            }
        }
        return null;
    }

    private static void readStep(JsonNode root, TrainingEvent e) throws InvalidEventException {
        e.step = step(root.get("step"), true);
        JsonNode loss = root.get("loss");
        if (loss == null || loss.isNull()) {
            throw new InvalidEventException(
                    "loss",
                    "is required for a step event (a number; NaN and Infinity are accepted)");
        }
        e.loss = number("loss", loss);
        e.gradNorm = optionalNumber("grad_norm", root.get("grad_norm"));
        if (e.gradNorm != null && !isValidGradNorm(e.gradNorm)) {
            throw new InvalidEventException(
                    "grad_norm",
                    "a norm must be >= 0 (NaN and Infinity accepted), got " + e.gradNorm);
        }
        e.lossScale = optionalNumber("loss_scale", root.get("loss_scale"));
        JsonNode lag = root.get("scheduler_lag");
        if (lag != null && !lag.isNull()) {
            long k = integer("scheduler_lag", lag);
            if (!isValidSchedulerLag(k, e.step)) {
                throw new InvalidEventException(
                        "scheduler_lag",
                        "must be an integer from 0 to the step ("
                                + e.step
                                + "): the optimizer steps the LR scheduler skipped so far, got "
                                + k);
            }
            e.schedulerLag = k;
        }
        e.epoch = optionalNumber("epoch", root.get("epoch"));
        e.stepTimeS = optionalNumber("step_time_s", root.get("step_time_s"));
        if (e.stepTimeS != null && !isValidStepTime(e.stepTimeS)) {
            throw new InvalidEventException(
                    "step_time_s",
                    "must be the seconds the optimizer step took, a finite number > 0, got "
                            + e.stepTimeS);
        }
        e.tokens = optionalNumber("tokens", root.get("tokens"));
        if (e.tokens != null && !isValidCount(e.tokens)) {
            throw new InvalidEventException(
                    "tokens",
                    "must be the tokens per optimizer step, a finite number >= 0, got " + e.tokens);
        }
        e.samples = optionalNumber("samples", root.get("samples"));
        if (e.samples != null && !isValidCount(e.samples)) {
            throw new InvalidEventException(
                    "samples",
                    "must be the samples per optimizer step, a finite number >= 0, got "
                            + e.samples);
        }
        e.lr = lrs(root.get("lr"));
        e.batch = batch(root.get("batch"));
    }

    private void readRunStart(JsonNode root, TrainingEvent e) throws InvalidEventException {
        JsonNode schedule = root.get("schedule");
        if (schedule != null && !schedule.isNull()) {
            DeclaredSchedule declared;
            try {
                // every spec it accepts gives a finite LR >= 0 at every step (SpecLimits)
                declared = ScheduleSpec.parse(schedule);
            } catch (InvalidScheduleException ex) {
                throw new InvalidEventException("schedule." + ex.field(), ex.reason());
            }
            String problem = unpairedSurrogate(schedule, "schedule");
            if (problem != null) {
                throw new InvalidEventException(
                        problem,
                        "a text in the schedule spec holds an unpaired surrogate (an escape like \\ud800 alone):"
                                + " it cannot be kept or written back as UTF-8");
            }
            e.schedule = declared;
        }
        e.gradClip = optionalNumber("grad_clip", root.get("grad_clip"));
        if (e.gradClip != null && !(e.gradClip > 0 && Double.isFinite(e.gradClip))) {
            throw new InvalidEventException(
                    "grad_clip", "must be a positive finite max_norm or null, got " + e.gradClip);
        }
        JsonNode accum = root.get("grad_accum_steps");
        if (accum != null && !accum.isNull()) {
            long k = integer("grad_accum_steps", accum);
            if (k < 1 || k > 1_000_000) {
                throw new InvalidEventException(
                        "grad_accum_steps", "must be an integer from 1 to 1000000, got " + k);
            }
            e.gradAccumSteps = (int) k;
        }
        JsonNode spe = root.get("steps_per_epoch");
        if (spe != null && !spe.isNull()) {
            long k = integer("steps_per_epoch", spe);
            if (k < 1) {
                throw new InvalidEventException(
                        "steps_per_epoch", "must be an integer >= 1, got " + k);
            }
            e.stepsPerEpoch = k;
        }
        JsonNode opt = root.get("optimizer");
        if (opt != null && !opt.isNull()) {
            if (!opt.isTextual()) {
                throw new InvalidEventException(
                        "optimizer",
                        "must be the optimizer's name, a string of at most "
                                + MAX_RUN_ID_CHARS
                                + " characters, got "
                                + kind(opt));
            }
            // a name the event keeps follows the rules of ids: it is written back with the event
            // (dead letters) and shown
            String problem = idProblem(opt.textValue());
            if (problem != null) {
                throw new InvalidEventException("optimizer", "the optimizer's name " + problem);
            }
            e.optimizer = opt.textValue();
        }
        e.stepBase = stepBase(root.get("step_base"));
        e.thresholds = thresholds(root.get("thresholds"));
    }

    /**
     * How the run's own logs number its steps: 0 (as reported) or 1 (HF's global_step, a count of
     * the steps done). Only those two: every log format trainwatch knows counts one way or the
     * other, and a larger offset would more likely be a resume's start step sent in the wrong
     * field.
     */
    private static Integer stepBase(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        String allowed =
                "must be 0 (the run's logs number steps as the events do) or 1 (they count steps"
                        + " done, as HF's global_step = step + 1)";
        long base;
        try {
            base = integer("step_base", v);
        } catch (InvalidEventException notInteger) {
            throw new InvalidEventException("step_base", allowed + ", got " + kind(v));
        }
        if (base != 0 && base != 1) {
            throw new InvalidEventException("step_base", allowed + ", got " + base);
        }
        return (int) base;
    }

    /**
     * Per-run overrides, each checked by {@link ThresholdOverrides#set} ({@link Threshold#problem},
     * the check --threshold uses too).
     */
    private static ThresholdOverrides thresholds(JsonNode th) throws InvalidEventException {
        if (th == null || th.isNull()) {
            return null;
        }
        if (!th.isObject()) {
            throw new InvalidEventException(
                    "thresholds", "must be an object of threshold name to number, got " + kind(th));
        }
        ThresholdOverrides out = new ThresholdOverrides();
        Iterator<Map.Entry<String, JsonNode>> fields = th.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            Threshold t = Threshold.byKey(f.getKey());
            String field = "thresholds." + f.getKey();
            if (t == null) {
                throw new InvalidEventException(
                        field, "unknown threshold; " + Thresholds.known(f.getKey()));
            }
            JsonNode v = f.getValue();
            if (!v.isNumber()) {
                throw new InvalidEventException(
                        field, "must be " + t.range().describe() + ", got " + kind(v));
            }
            String problem = out.set(t, v.doubleValue());
            if (problem != null) {
                throw new InvalidEventException(field, problem);
            }
        }
        return out.isEmpty() ? null : out;
    }

    private static void readRunEnd(JsonNode root, TrainingEvent e) throws InvalidEventException {
        JsonNode step = root.get("step");
        e.step = step == null || step.isNull() ? -1 : step(step, false);
        JsonNode status = root.get("status");
        if (status != null && !status.isNull()) {
            String s = status.isTextual() ? status.textValue() : null;
            if (!"completed".equals(s) && !"failed".equals(s) && !"killed".equals(s)) {
                throw new InvalidEventException(
                        "status", "must be completed, failed or killed, got " + kind(status));
            }
            e.status = s;
        }
    }

    private static long step(JsonNode v, boolean required) throws InvalidEventException {
        if (v == null || v.isNull()) {
            throw new InvalidEventException(
                    "step", "is required (the optimizer step, an integer >= 0)");
        }
        long s = integer("step", v);
        if (!isValidStep(s)) {
            throw new InvalidEventException(
                    "step", "must be an integer from 0 to " + MAX_STEP + " (2^53 - 1), got " + s);
        }
        return s;
    }

    private static long integer(String field, JsonNode v) throws InvalidEventException {
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isFloatingPointNumber()
                && Double.isFinite(v.doubleValue())
                && v.doubleValue() == Math.rint(v.doubleValue())
                && Math.abs(v.doubleValue()) < 9e15) {
            return (long) v.doubleValue(); // 12.0 from a float-typed logger is still step 12
        }
        throw new InvalidEventException(field, "must be an integer, got " + kind(v));
    }

    private static Double optionalNumber(String field, JsonNode v) throws InvalidEventException {
        return v == null || v.isNull() ? null : number(field, v);
    }

    /** A number, bare NaN/Infinity, or the strings "nan", "inf", "-inf", "infinity" in any case. */
    static double number(String field, JsonNode v) throws InvalidEventException {
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isTextual()) {
            String s = v.textValue().trim().toLowerCase(Locale.ROOT);
            switch (s) {
                case "nan", "+nan", "-nan" -> {
                    return Double.NaN;
                }
                case "inf", "+inf", "infinity", "+infinity" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-inf", "-infinity" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                default -> {}
            }
        }
        throw new InvalidEventException(
                field,
                "must be a number (NaN, Infinity, \"nan\", \"inf\" accepted), got " + kind(v));
    }

    private static double[] lrs(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isArray()) {
            if (v.isEmpty() || v.size() > MAX_PARAM_GROUPS) {
                throw new InvalidEventException(
                        "lr",
                        "must be a number or a list of 1 to "
                                + MAX_PARAM_GROUPS
                                + " numbers (one per param group), got "
                                + v.size()
                                + " values");
            }
            double[] out = new double[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = lr("lr[" + i + "]", v.get(i));
            }
            return out;
        }
        return new double[] {lr("lr", v)};
    }

    private static double lr(String field, JsonNode v) throws InvalidEventException {
        double d = number(field, v);
        if (!isValidLr(d)) {
            throw new InvalidEventException(
                    field, "a learning rate must be a finite number >= 0, got " + d);
        }
        return d;
    }

    static boolean isValidLr(double d) {
        return Double.isFinite(d) && d >= 0;
    }

    /** A scheduler cannot have skipped more optimizer steps than were taken before this one. */
    static boolean isValidSchedulerLag(long lag, long step) {
        return lag >= 0 && lag <= step;
    }

    static boolean isValidStep(long step) {
        return step >= 0 && step <= MAX_STEP;
    }

    /** A gradient norm is never negative; NaN and +Infinity are what a blown-up step reports. */
    /** step_time_s: seconds, finite and > 0. */
    static boolean isValidStepTime(double d) {
        return d > 0 && Double.isFinite(d);
    }

    /** tokens, samples: per optimizer step, finite and >= 0. */
    static boolean isValidCount(double d) {
        return d >= 0 && Double.isFinite(d);
    }

    static boolean isValidGradNorm(double d) {
        return Double.isNaN(d) || d >= 0;
    }

    private static String[] batch(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isArray()) {
            if (v.size() > MAX_BATCH_IDS) {
                throw new InvalidEventException(
                        "batch", "more than " + MAX_BATCH_IDS + " batch ids");
            }
            String[] out = new String[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = batchId("batch[" + i + "]", v.get(i));
            }
            return out;
        }
        return new String[] {batchId("batch", v)};
    }

    private static String batchId(String field, JsonNode v) throws InvalidEventException {
        if (v.isTextual() || v.isIntegralNumber()) {
            String s = v.asText();
            String problem = idProblem(s);
            if (problem != null) {
                throw new InvalidEventException(field, "a batch id " + problem);
            }
            return s;
        }
        throw new InvalidEventException(
                field, "a batch id must be a string or an integer, got " + kind(v));
    }

    private static Long time(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isNumber()) {
            Long millis = epochMillis(v.doubleValue());
            if (millis == null) {
                throw new InvalidEventException(
                        "time",
                        "must be ISO-8601 or epoch seconds or milliseconds from 1970 to 9999, got "
                                + kind(v));
            }
            return millis;
        }
        if (v.isTextual()) {
            Long millis = isoMillis(v.textValue());
            if (millis == null) {
                throw new InvalidEventException(
                        "time",
                        "must be ISO-8601 (e.g. 2026-11-21T09:30:00Z) from 1970 to 9999, or epoch milliseconds, got "
                                + kind(v));
            }
            return millis;
        }
        throw new InvalidEventException(
                "time", "must be ISO-8601 or epoch milliseconds, got " + kind(v));
    }

    /**
     * Epoch seconds (below {@link #EPOCH_SECONDS_LIMIT}) or milliseconds as milliseconds; null if
     * not a time from 1970 to 9999.
     */
    static Long epochMillis(double d) {
        if (!Double.isFinite(d) || d < 0) {
            return null;
        }
        return inRange(d < EPOCH_SECONDS_LIMIT ? Math.round(d * 1000) : Math.round(d));
    }

    /**
     * ISO-8601 with an offset, or without one (taken as UTC); null if it is neither, or not from
     * 1970 to 9999.
     */
    static Long isoMillis(String text) {
        try {
            return inRange(OffsetDateTime.parse(text).toInstant().toEpochMilli());
        } catch (DateTimeParseException | ArithmeticException ex) {
            try {
                return inRange(LocalDateTime.parse(text).toInstant(ZoneOffset.UTC).toEpochMilli());
            } catch (DateTimeParseException | ArithmeticException ex2) {
                return null;
            }
        }
    }

    private static Long inRange(long millis) {
        return millis >= 0 && millis <= MAX_TIME_MILLIS ? millis : null;
    }

    /**
     * The path of the first text (a key or a string value) under {@code node} that holds an
     * unpaired surrogate, or null. Jackson decodes an escape like {@code \ud800} into one; kept, it
     * would make every text written from it invalid UTF-8.
     */
    static String unpairedSurrogate(JsonNode node, String path) {
        if (node.isTextual()) {
            return isWellFormed(node.textValue()) ? null : path;
        }
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String p = path + "." + f.getKey();
            if (!isWellFormed(f.getKey())) {
                return p;
            }
            String inner = unpairedSurrogate(f.getValue(), p);
            if (inner != null) {
                return inner;
            }
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String inner = unpairedSurrogate(node.get(i), path + "[" + i + "]");
                if (inner != null) {
                    return inner;
                }
            }
        }
        return null;
    }

    private static boolean isWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** {@code s} as a JSON string: quoted, control characters escaped (a key is any bytes). */
    private static String quoted(String s) {
        return TextNode.valueOf(s).toString();
    }

    static String kind(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        String text = v.toString();
        if (text.length() > 60) {
            text = DeadLetter.cut(text, 57);
        }
        return v.getNodeType().name().toLowerCase(Locale.ROOT) + " " + text;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
