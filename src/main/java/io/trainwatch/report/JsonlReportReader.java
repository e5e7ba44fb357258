package io.trainwatch.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the JSONL files {@code replay} (and the live job's series topic) write into {@link
 * ReportData}: the per-step series ({@code run_id, step, time, actual_lr[], scheduled_lr[], loss,
 * loss_mean, grad_norm, suggested_clip}) and alerts (format v1). Non-finite numbers are accepted as
 * the strings trainwatch writes ("NaN", "Infinity", "-Infinity") and as Python's bare tokens. Files
 * are streamed line by line; blank lines are skipped. Anything unusable fails with a {@link
 * ReportInputException} naming the file and line.
 *
 * <p>{@link #point} and {@link #alert} read single JSON objects, for readers of the same records
 * stored elsewhere.
 */
public final class JsonlReportReader {
    private static final ObjectMapper JSON =
            JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    private static final MathContext DISPLAY_DIGITS = new MathContext(4);

    private JsonlReportReader() {}

    /** Reads a series file and, if not null, an alerts file. */
    public static ReportData read(Path series, Path alerts) {
        ReportData.Builder b = new ReportData.Builder();
        readLines(series, node -> b.addPoint(text(node, "run_id", true), point(node)));
        if (alerts != null) {
            readLines(alerts, node -> b.addAlert(alert(node)));
        }
        return b.build();
    }

    private interface LineConsumer {
        void accept(JsonNode node);
    }

    private static void readLines(Path file, LineConsumer consumer) {
        long line = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            while (true) {
                line++;
                s = r.readLine();
                if (s == null) {
                    break;
                }
                if (s.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new ReportInputException(
                            file
                                    + ":"
                                    + line
                                    + ": not valid JSON: "
                                    + oneLine(e.getOriginalMessage()));
                }
                if (node == null || !node.isObject()) {
                    throw new ReportInputException(
                            file + ":" + line + ": expected a JSON object, got " + abbreviate(s));
                }
                try {
                    consumer.accept(node);
                } catch (IllegalArgumentException e) {
                    throw new ReportInputException(file + ":" + line + ": " + e.getMessage());
                }
            }
        } catch (NoSuchFileException e) {
            throw new ReportInputException(file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new ReportInputException(file + ":" + line + ": not UTF-8 text");
        } catch (IOException e) {
            throw new ReportInputException(
                    file + ": cannot read: " + oneLine(String.valueOf(e.getMessage())));
        }
    }

    /** One series record. Throws IllegalArgumentException naming the field at fault. */
    public static StepPoint point(JsonNode n) {
        return new StepPoint(
                integer(n, "step"),
                time(n),
                numbers(n, "actual_lr"),
                numbers(n, "scheduled_lr"),
                number(n, "loss"),
                number(n, "loss_mean"),
                number(n, "grad_norm"),
                number(n, "suggested_clip"));
    }

    /** One alert (format v1). Throws IllegalArgumentException naming the field at fault. */
    public static ReportAlert alert(JsonNode n) {
        long step = integer(n, "step");
        JsonNode onset = n.get("onset_step");
        JsonNode display = n.get("display_step");
        return new ReportAlert(
                text(n, "alert_id", false),
                text(n, "run_id", true),
                text(n, "kind", true),
                nonNull(text(n, "severity", false)),
                nonNull(text(n, "status", false)),
                step,
                // alerts written before display_step named optimizer steps
                display == null || display.isNull() ? step : integer(n, "display_step"),
                onset == null || onset.isNull() ? step : integer(n, "onset_step"),
                nonNull(text(n, "message", false)),
                nonNull(text(n, "diagnosis", false)),
                suggestion(n.get("suggestion")),
                text(n, "incident_id", false),
                n.path("occurrences").asInt(0));
    }

    /** {@code suggestion}: its action, its numbers as display text, its change. */
    public static ReportAlert.Suggestion suggestion(JsonNode s) {
        if (s == null || s.isNull()) {
            return ReportAlert.Suggestion.NONE;
        }
        if (!s.isObject()) {
            throw new IllegalArgumentException(
                    "field \"suggestion\": expected an object, got " + abbreviate(s.toString()));
        }
        Map<String, String> numbers = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("action")
                    && !e.getKey().equals("change")
                    && !e.getValue().isNull()) {
                numbers.put(e.getKey(), display(e.getValue()));
            }
        }
        JsonNode action = s.get("action");
        JsonNode change = s.get("change");
        return new ReportAlert.Suggestion(
                action == null || action.isNull() ? null : action.asText(),
                numbers,
                change == null || change.isNull() ? null : change.asText());
    }

    private static String display(JsonNode v) {
        if (v.isNumber()) {
            return displayNumber(v.doubleValue());
        }
        if (v.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < v.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(display(v.get(i)));
            }
            return sb.append(']').toString();
        }
        return v.isValueNode() ? v.asText() : v.toString();
    }

    /**
     * 4 significant digits, no trailing zeros: 0.8730139632651018 → 0.873, 1.0E-5 → 0.00001, 117.0
     * → 117.
     */
    static String displayNumber(double d) {
        if (!Double.isFinite(d)) {
            return Double.toString(d);
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return new BigDecimal(d).round(DISPLAY_DIGITS).stripTrailingZeros().toString();
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    private static String text(JsonNode n, String field, boolean required) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new IllegalArgumentException("field \"" + field + "\" is missing");
            }
            return null;
        }
        if (!v.isTextual() || (required && v.asText().isEmpty())) {
            throw new IllegalArgumentException(
                    "field \""
                            + field
                            + "\": expected a non-empty string, got "
                            + abbreviate(v.toString()));
        }
        return v.asText();
    }

    private static long integer(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("field \"" + field + "\" is missing");
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isNumber()
                && v.doubleValue() == Math.rint(v.doubleValue())
                && Math.abs(v.doubleValue()) < 1e15) {
            return (long) v.doubleValue();
        }
        throw new IllegalArgumentException(
                "field \"" + field + "\": expected an integer, got " + abbreviate(v.toString()));
    }

    private static Instant time(JsonNode n) {
        JsonNode v = n.get("time");
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isNumber()) {
            return Instant.ofEpochMilli(v.longValue());
        }
        try {
            return Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "field \"time\": expected ISO-8601 or epoch ms, got "
                            + abbreviate(v.toString()));
        }
    }

    private static Double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : value(v, field);
    }

    private static double value(JsonNode v, String field) {
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isTextual()) {
            switch (v.asText().toLowerCase(Locale.ROOT)) {
                case "nan":
                    return Double.NaN;
                case "infinity":
                case "+infinity":
                case "inf":
                    return Double.POSITIVE_INFINITY;
                case "-infinity":
                case "-inf":
                    return Double.NEGATIVE_INFINITY;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException(
                "field \""
                        + field
                        + "\": expected a number (or \"NaN\", \"Infinity\"), got "
                        + abbreviate(v.toString()));
    }

    private static double[] numbers(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            return new double[] {value(v, field)};
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = value(v.get(i), field + "[" + i + "]");
        }
        return out;
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    private static String abbreviate(String s) {
        String t = oneLine(s);
        return t.length() <= 60 ? t : t.substring(0, 57) + "...";
    }
}
