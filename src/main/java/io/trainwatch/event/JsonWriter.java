package io.trainwatch.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * Writes what trainwatch outputs as JSON: alerts (format v1), series points, dead letters, accepted
 * events written back, alerts' evidence and suggestion ({@link NamedValues}) alone, and the small
 * JSON objects the simulator and the importer build. Reading is {@link JsonReader}'s (and events
 * {@link EventCodec}'s). Non-finite numbers are written as the strings "NaN", "Infinity",
 * "-Infinity" so every output line is strict JSON.
 */
public final class JsonWriter {
    // Jackson's default JsonWriteFeature.WRITE_NAN_AS_STRINGS quotes non-finite numbers
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonWriter() {}

    /**
     * An ordered JSON object from alternating keys and values (numbers, strings, booleans, arrays,
     * maps, null).
     */
    public static String object(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values must pair up");
        }
        ObjectNode o = NODES.objectNode();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            o.set((String) keysAndValues[i], node(keysAndValues[i + 1]));
        }
        return write(o);
    }

    public static String alert(Alert a) {
        ObjectNode o = NODES.objectNode();
        o.put("alert_id", a.alertId);
        o.put("incident_id", a.incidentId);
        o.put("run_id", a.runId);
        o.put("kind", a.kind);
        o.put("severity", a.severity);
        o.put("status", a.status);
        o.put("occurrences", a.occurrences);
        o.put("step", a.step);
        o.put("display_step", a.displayStep);
        o.put("onset_step", a.onsetStep);
        o.set("time", isoTime(a.timeMillis));
        o.put("message", a.message);
        o.put("diagnosis", a.diagnosis);
        o.set("evidence", node(a.evidence));
        o.set("suggestion", node(a.suggestion));
        return write(o);
    }

    /** The JSON object of {@code v} (an alert's evidence or suggestion alone), null for null. */
    public static String namedValues(NamedValues v) {
        return v == null ? null : write(node(v));
    }

    public static String series(SeriesPoint p) {
        ObjectNode o = NODES.objectNode();
        o.put("run_id", p.runId);
        o.put("step", p.step);
        o.set("time", isoTime(p.timeMillis));
        o.set("actual_lr", node(p.actualLr));
        o.set("scheduled_lr", node(p.scheduledLr));
        o.set("loss", node(p.loss));
        o.set("loss_mean", node(p.lossMean));
        o.set("grad_norm", node(p.gradNorm));
        o.set("suggested_clip", node(p.suggestedClip));
        return write(o);
    }

    /**
     * An accepted event written back as format v1 (what it read; unknown fields are gone): the
     * payload of a dead letter for an event rejected after parsing, which can be fixed and sent
     * again as it is.
     */
    public static String event(TrainingEvent e) {
        ObjectNode o = NODES.objectNode();
        o.put("type", e.type == null ? null : e.type.wireName());
        o.put("run_id", e.runId);
        if (e.timeMillis != null) {
            o.set("time", isoTime(e.timeMillis));
        }
        if (e.step >= 0) {
            o.put("step", e.step);
        }
        putIfSet(o, "loss", e.loss);
        putIfSet(o, "grad_norm", e.gradNorm);
        putIfSet(o, "loss_scale", e.lossScale);
        putIfSet(o, "scheduler_lag", e.schedulerLag);
        putIfSet(o, "epoch", e.epoch);
        putIfSet(o, "step_time_s", e.stepTimeS);
        putIfSet(o, "tokens", e.tokens);
        putIfSet(o, "samples", e.samples);
        putIfSet(o, "lr", e.lr);
        putIfSet(o, "batch", e.batch);
        if (e.schedule != null) {
            o.set("schedule", JsonReader.parse(e.schedule.spec()));
        }
        putIfSet(o, "grad_clip", e.gradClip);
        putIfSet(o, "grad_accum_steps", e.gradAccumSteps);
        putIfSet(o, "steps_per_epoch", e.stepsPerEpoch);
        putIfSet(o, "optimizer", e.optimizer);
        putIfSet(o, "step_base", e.stepBase);
        putIfSet(o, "thresholds", e.thresholds == null ? null : e.thresholds.asMap());
        putIfSet(o, "status", e.status);
        return write(o);
    }

    private static void putIfSet(ObjectNode o, String name, Object value) {
        if (value != null) {
            o.set(name, node(value));
        }
    }

    /** Event time as ISO-8601 UTC, or null when the trainer sent none. */
    private static JsonNode isoTime(Long millis) {
        return millis == null
                ? NODES.nullNode()
                : NODES.textNode(Instant.ofEpochMilli(millis).toString());
    }

    public static String deadLetter(DeadLetter d) {
        ObjectNode o = NODES.objectNode();
        o.put("field", d.field);
        o.put("reason", d.reason);
        o.put("source", d.source);
        o.put("payload_length", d.payloadLength);
        o.put("payload_truncated", d.payloadTruncated);
        o.put("payload", d.payload);
        return write(o);
    }

    public static String failedNotification(FailedNotification f) {
        ObjectNode o = NODES.objectNode();
        o.put("target", f.target);
        o.put("alert_id", f.alertId);
        o.put("run_id", f.runId);
        o.put("kind", f.kind);
        o.put("severity", f.severity);
        o.put("status", f.status);
        o.put("idempotency_key", f.idempotencyKey);
        o.put("attempts", f.attempts);
        o.put("last_status", f.lastStatus);
        o.put("reason", f.reason);
        o.set("failed_at", isoTime(f.failedAtMillis));
        try {
            o.set("alert", JSON.readTree(f.alert));
        } catch (JsonProcessingException | RuntimeException unreadable) {
            o.put("alert", f.alert);
        }
        return write(o);
    }

    private static JsonNode node(NamedValues v) {
        if (v == null) {
            return NODES.nullNode();
        }
        ObjectNode o = NODES.objectNode();
        for (int i = 0; i < v.size(); i++) {
            o.set(v.name(i), node(v.value(i)));
        }
        return o;
    }

    private static JsonNode node(Object v) {
        if (v == null) {
            return NODES.nullNode();
        }
        if (v instanceof JsonNode n) {
            return n;
        }
        if (v instanceof Double d) {
            return NODES.numberNode(d);
        }
        if (v instanceof Float f) {
            return NODES.numberNode(f.doubleValue());
        }
        if (v instanceof Long l) {
            return NODES.numberNode(l);
        }
        if (v instanceof Integer i) {
            return NODES.numberNode(i);
        }
        if (v instanceof Boolean b) {
            return NODES.booleanNode(b);
        }
        if (v instanceof double[] arr) {
            ArrayNode a = NODES.arrayNode();
            for (double d : arr) {
                a.add(d);
            }
            return a;
        }
        if (v instanceof long[] arr) {
            ArrayNode a = NODES.arrayNode();
            for (long d : arr) {
                a.add(d);
            }
            return a;
        }
        if (v instanceof Object[] arr) {
            ArrayNode a = NODES.arrayNode();
            for (Object x : arr) {
                a.add(node(x));
            }
            return a;
        }
        if (v instanceof Iterable<?> it) {
            ArrayNode a = NODES.arrayNode();
            for (Object x : it) {
                a.add(node(x));
            }
            return a;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = NODES.objectNode();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                o.set(String.valueOf(e.getKey()), node(e.getValue()));
            }
            return o;
        }
        return NODES.textNode(v.toString());
    }

    private static String write(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
