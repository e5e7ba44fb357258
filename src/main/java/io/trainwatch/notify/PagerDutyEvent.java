package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * The {@code pagerduty} notification of an alert: an Events API v2 event. A resolved alert sends
 * {@code resolve}; an opening alert and every update send {@code trigger} with the same {@code
 * dedup_key}, which PagerDuty folds into the open alert (so an escalation's new severity reaches
 * it; a plain update only adds to its log). The dedup key is the incident id, else the alert id,
 * hashed when longer than PagerDuty's 255 characters. The routing key is in the body only, which
 * {@link Notification#toString()} never shows.
 */
public final class PagerDutyEvent {
    static final int SUMMARY_MAX_CHARS = 1024;
    static final int DEDUP_KEY_MAX_CHARS = 255;

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private PagerDutyEvent() {}

    public static Notification of(NotifyTarget target, Alert alert) {
        return new Notification(
                target.url(),
                Map.of(WebhookRequest.CONTENT_TYPE, "application/json"),
                body(target.routingKey(), alert));
    }

    static String body(String routingKey, Alert alert) {
        ObjectNode event = NODES.objectNode();
        event.put("routing_key", routingKey);
        boolean resolved = Alert.RESOLVED.equals(alert.status);
        event.put("event_action", resolved ? "resolve" : "trigger");
        event.put("dedup_key", dedupKey(alert));
        // a resolve needs no payload: PagerDuty only closes the alert the key names
        if (!resolved) {
            ObjectNode payload = event.putObject("payload");
            payload.put("summary", SlackMessage.truncate(summary(alert), SUMMARY_MAX_CHARS));
            payload.put("source", alert.runId);
            // PagerDuty's severities are critical, error, warning, info: trainwatch's map one to
            // one
            payload.put("severity", alert.severity);
            if (alert.timeMillis != null) {
                payload.put("timestamp", Instant.ofEpochMilli(alert.timeMillis).toString());
            }
            payload.put("component", "trainwatch");
            payload.put("class", alert.kind);
            ObjectNode details = payload.putObject("custom_details");
            details.put("kind", alert.kind);
            details.put("status", alert.status);
            details.put("alert_id", alert.alertId);
            details.put("occurrences", alert.occurrences);
            details.put("step", alert.step);
            details.put("display_step", alert.displayStep);
            details.put("onset_step", alert.onsetStep);
            details.put("diagnosis", alert.diagnosis);
            details.set("suggestion", tree(alert.suggestion));
            details.set("evidence", tree(alert.evidence));
        }
        return write(event);
    }

    static String dedupKey(Alert alert) {
        String key = alert.incidentId != null ? alert.incidentId : alert.alertId;
        return key.length() <= DEDUP_KEY_MAX_CHARS ? key : WebhookRequest.sha256Hex(key);
    }

    private static String summary(Alert alert) {
        return "["
                + alert.severity
                + "] "
                + alert.kind
                + " in run "
                + alert.runId
                + " at step "
                + alert.displayStep
                + ": "
                + alert.message;
    }

    private static JsonNode tree(NamedValues values) {
        if (values == null) {
            return NODES.nullNode();
        }
        try {
            return JSON.readTree(JsonWriter.namedValues(values));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
