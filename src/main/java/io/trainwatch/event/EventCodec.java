package io.trainwatch.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.trainwatch.schedule.InvalidScheduleException;
import io.trainwatch.schedule.ScheduleSpec;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * Reads event format v1 (README "Event format v1"). Accepts what Python's {@code json.dumps} writes
 * (bare {@code NaN}, {@code Infinity}, {@code -Infinity}) and the strings "nan"/"inf"; ignores unknown
 * fields; refuses anything else with an {@link InvalidEventException} naming the field and the reason.
 * Bounded: a payload over {@link #MAX_EVENT_CHARS} characters or nested deeper than
 * {@link #MAX_NESTING_DEPTH} is refused before it is built into a tree.
 */
public final class EventCodec {
    public static final int MAX_EVENT_CHARS = 1 << 20;
    public static final int MAX_NESTING_DEPTH = 32;
    static final int MAX_RUN_ID_CHARS = 256;
    static final int MAX_BATCH_IDS = 256;
    static final int MAX_PARAM_GROUPS = 1024;
    /** Epoch values below this are seconds (Python's time.time()), above it milliseconds. */
    static final double EPOCH_SECONDS_LIMIT = 1e11;

    // FastDoubleParser: correctly rounded like Double.parseDouble, several times faster (number parsing was a third
    // of the fast path's time); both paths share this factory, so they read every number alike
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxStringLength(MAX_EVENT_CHARS)
                .build());
    }

    static final StepFastPath FAST_PATH = new StepFastPath(JSON.getFactory());

    private final Set<String> knownThresholds;

    /** @param knownThresholds the threshold names a run_start may override (detect.Thresholds.NAMES) */
    public EventCodec(Set<String> knownThresholds) {
        this.knownThresholds = Set.copyOf(knownThresholds);
    }

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
     * {@link #parse(String)} of a UTF-8 record as it came (Kafka): a plain step is read from the bytes, without
     * first building its text; anything else is decoded (malformed UTF-8 becomes U+FFFD) and parsed as text.
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

    /** The full parser: every event type, every accepted spelling, and the error for anything refused. */
    TrainingEvent parseTree(String raw) throws InvalidEventException {
        if (raw == null || raw.isBlank()) {
            throw new InvalidEventException("(payload)", "empty record");
        }
        if (raw.length() > MAX_EVENT_CHARS) {
            throw new InvalidEventException("(payload)", "record of " + raw.length() + " characters is over the limit of " + MAX_EVENT_CHARS);
        }
        JsonNode root;
        try {
            root = JSON.readTree(raw);
        } catch (StreamConstraintsException e) {
            throw new InvalidEventException("(payload)", "JSON nested deeper than " + MAX_NESTING_DEPTH + " levels");
        } catch (JsonProcessingException e) {
            throw new InvalidEventException("(payload)", "not valid JSON: " + firstLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidEventException("(payload)", "must be a JSON object, got " + kind(root));
        }
        TrainingEvent e = new TrainingEvent();
        JsonNode type = root.get("type");
        if (type == null || type.isNull()) {
            throw new InvalidEventException("type", "is required: run_start, step or run_end");
        }
        e.type = type.isTextual() ? EventType.fromWire(type.textValue()) : null;
        if (e.type == null) {
            throw new InvalidEventException("type", "must be run_start, step or run_end, got " + kind(type));
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
        if (s.isBlank()) {
            throw new InvalidEventException("run_id", "must not be empty");
        }
        if (s.length() > MAX_RUN_ID_CHARS) {
            throw new InvalidEventException("run_id", "longer than " + MAX_RUN_ID_CHARS + " characters");
        }
        return s;
    }

    private static void readStep(JsonNode root, TrainingEvent e) throws InvalidEventException {
        e.step = step(root.get("step"), true);
        JsonNode loss = root.get("loss");
        if (loss == null || loss.isNull()) {
            throw new InvalidEventException("loss", "is required for a step event (a number; NaN and Infinity are accepted)");
        }
        e.loss = number("loss", loss);
        e.gradNorm = optionalNumber("grad_norm", root.get("grad_norm"));
        e.lossScale = optionalNumber("loss_scale", root.get("loss_scale"));
        e.epoch = optionalNumber("epoch", root.get("epoch"));
        e.lr = lrs(root.get("lr"));
        e.batch = batch(root.get("batch"));
    }

    private void readRunStart(JsonNode root, TrainingEvent e) throws InvalidEventException {
        JsonNode schedule = root.get("schedule");
        if (schedule != null && !schedule.isNull()) {
            try {
                ScheduleSpec.parse(schedule);
            } catch (InvalidScheduleException ex) {
                throw new InvalidEventException("schedule." + ex.field(), ex.getMessage().substring(ex.getMessage().indexOf(ex.field()) + ex.field().length() + 2));
            }
            e.schedule = schedule.toString();
        }
        e.gradClip = optionalNumber("grad_clip", root.get("grad_clip"));
        if (e.gradClip != null && !(e.gradClip > 0 && Double.isFinite(e.gradClip))) {
            throw new InvalidEventException("grad_clip", "must be a positive finite max_norm or null, got " + e.gradClip);
        }
        JsonNode accum = root.get("grad_accum_steps");
        if (accum != null && !accum.isNull()) {
            long k = integer("grad_accum_steps", accum);
            if (k < 1 || k > 1_000_000) {
                throw new InvalidEventException("grad_accum_steps", "must be an integer from 1 to 1000000, got " + k);
            }
            e.gradAccumSteps = (int) k;
        }
        JsonNode spe = root.get("steps_per_epoch");
        if (spe != null && !spe.isNull()) {
            long k = integer("steps_per_epoch", spe);
            if (k < 1) {
                throw new InvalidEventException("steps_per_epoch", "must be an integer >= 1, got " + k);
            }
            e.stepsPerEpoch = k;
        }
        JsonNode opt = root.get("optimizer");
        if (opt != null && !opt.isNull()) {
            e.optimizer = opt.isTextual() ? opt.textValue() : opt.toString();
        }
        JsonNode th = root.get("thresholds");
        if (th != null && !th.isNull()) {
            if (!th.isObject()) {
                throw new InvalidEventException("thresholds", "must be an object of threshold name to number, got " + kind(th));
            }
            Iterator<String> names = th.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!knownThresholds.contains(n)) {
                    throw new InvalidEventException("thresholds." + n, "unknown threshold; known: " + String.join(", ", new java.util.TreeSet<>(knownThresholds)));
                }
                double v = number("thresholds." + n, th.get(n));
                if (!Double.isFinite(v)) {
                    throw new InvalidEventException("thresholds." + n, "must be a finite number, got " + v);
                }
            }
            e.thresholds = th.toString();
        }
    }

    private static void readRunEnd(JsonNode root, TrainingEvent e) throws InvalidEventException {
        JsonNode step = root.get("step");
        e.step = step == null || step.isNull() ? -1 : step(step, false);
        JsonNode status = root.get("status");
        if (status != null && !status.isNull()) {
            String s = status.isTextual() ? status.textValue() : null;
            if (!"completed".equals(s) && !"failed".equals(s) && !"killed".equals(s)) {
                throw new InvalidEventException("status", "must be completed, failed or killed, got " + kind(status));
            }
            e.status = s;
        }
    }

    private static long step(JsonNode v, boolean required) throws InvalidEventException {
        if (v == null || v.isNull()) {
            throw new InvalidEventException("step", "is required (the optimizer step, an integer >= 0)");
        }
        long s = integer("step", v);
        if (s < 0) {
            throw new InvalidEventException("step", "must be >= 0, got " + s);
        }
        return s;
    }

    private static long integer(String field, JsonNode v) throws InvalidEventException {
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isFloatingPointNumber() && Double.isFinite(v.doubleValue()) && v.doubleValue() == Math.rint(v.doubleValue())
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
                default -> {
                }
            }
        }
        throw new InvalidEventException(field, "must be a number (NaN, Infinity, \"nan\", \"inf\" accepted), got " + kind(v));
    }

    private static double[] lrs(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isArray()) {
            if (v.isEmpty() || v.size() > MAX_PARAM_GROUPS) {
                throw new InvalidEventException("lr", "must be a number or a list of 1 to " + MAX_PARAM_GROUPS + " numbers (one per param group), got " + v.size() + " values");
            }
            double[] out = new double[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = lr("lr[" + i + "]", v.get(i));
            }
            return out;
        }
        return new double[]{lr("lr", v)};
    }

    private static double lr(String field, JsonNode v) throws InvalidEventException {
        double d = number(field, v);
        if (!isValidLr(d)) {
            throw new InvalidEventException(field, "a learning rate must be a finite number >= 0, got " + d);
        }
        return d;
    }

    static boolean isValidLr(double d) {
        return Double.isFinite(d) && d >= 0;
    }

    private static String[] batch(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isArray()) {
            if (v.size() > MAX_BATCH_IDS) {
                throw new InvalidEventException("batch", "more than " + MAX_BATCH_IDS + " batch ids");
            }
            String[] out = new String[v.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = batchId("batch[" + i + "]", v.get(i));
            }
            return out;
        }
        return new String[]{batchId("batch", v)};
    }

    private static String batchId(String field, JsonNode v) throws InvalidEventException {
        if (v.isTextual() || v.isIntegralNumber()) {
            String s = v.asText();
            if (s.length() > MAX_RUN_ID_CHARS) {
                throw new InvalidEventException(field, "batch id longer than " + MAX_RUN_ID_CHARS + " characters");
            }
            return s;
        }
        throw new InvalidEventException(field, "a batch id must be a string or an integer, got " + kind(v));
    }

    private static Long time(JsonNode v) throws InvalidEventException {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isNumber()) {
            Long millis = epochMillis(v.doubleValue());
            if (millis == null) {
                throw new InvalidEventException("time", "must be ISO-8601 or epoch milliseconds >= 0, got " + kind(v));
            }
            return millis;
        }
        if (v.isTextual()) {
            Long millis = isoMillis(v.textValue());
            if (millis == null) {
                throw new InvalidEventException("time", "must be ISO-8601 (e.g. 2026-11-21T09:30:00Z) or epoch milliseconds, got " + kind(v));
            }
            return millis;
        }
        throw new InvalidEventException("time", "must be ISO-8601 or epoch milliseconds, got " + kind(v));
    }

    /** Epoch seconds (below {@link #EPOCH_SECONDS_LIMIT}) or milliseconds as milliseconds; null if negative or not finite. */
    static Long epochMillis(double d) {
        if (!Double.isFinite(d) || d < 0) {
            return null;
        }
        return d < EPOCH_SECONDS_LIMIT ? Math.round(d * 1000) : Math.round(d);
    }

    /** ISO-8601 with an offset, or without one (taken as UTC); null if it is neither. */
    static Long isoMillis(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant().toEpochMilli();
        } catch (DateTimeParseException ex) {
            try {
                return java.time.LocalDateTime.parse(text).toInstant(java.time.ZoneOffset.UTC).toEpochMilli();
            } catch (DateTimeParseException ex2) {
                return null;
            }
        }
    }

    static String kind(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        String text = v.toString();
        if (text.length() > 60) {
            text = text.substring(0, 57) + "...";
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
