package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code slack} notification of an alert: a Slack incoming-webhook message, {@code text} (the
 * fallback notifications show) plus Block Kit {@code blocks}. An opening alert gets a header
 * (severity, kind, run), a section with run and step, one with the message and diagnosis, one with
 * the suggested fix (its action, numbers and change) and, given a Grafana URL, a context block
 * linking the run dashboard. Updates and resolutions are short follow-ups: text and one section.
 * Texts are cut to Slack's limits (header 150, section 3000 characters) rather than rejected.
 */
public final class SlackMessage {
    static final int HEADER_MAX_CHARS = 150;
    static final int SECTION_MAX_CHARS = 3000;

    /** The run dashboard in dashboards/trainwatch-run.json: its uid and run variable. */
    static final String RUN_DASHBOARD_PATH = "/d/trainwatch-run?var-run_id=";

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private SlackMessage() {}

    /** {@code grafanaUrl} (the {@code --grafana-url} value) may be null: no dashboard link then. */
    public static Notification of(NotifyTarget target, Alert alert, String grafanaUrl) {
        return new Notification(
                target.url(),
                Map.of(WebhookRequest.CONTENT_TYPE, "application/json"),
                body(alert, grafanaUrl));
    }

    static String body(Alert alert, String grafanaUrl) {
        ObjectNode message = NODES.objectNode();
        message.put("text", fallbackText(alert));
        ArrayNode blocks = message.putArray("blocks");
        if (Alert.OPEN.equals(alert.status)) {
            blocks.add(header(label(alert) + " " + alert.kind + " in run " + alert.runId));
            blocks.add(
                    section(
                            "*Severity:* "
                                    + alert.severity
                                    + "   *Run:* "
                                    + escape(alert.runId)
                                    + "   *Step:* "
                                    + alert.displayStep));
            blocks.add(section(messageAndDiagnosis(alert)));
            if (alert.suggestion != null && alert.suggestion.size() > 0) {
                blocks.add(section(fix(alert.suggestion)));
            }
            if (grafanaUrl != null) {
                blocks.add(dashboardLink(grafanaUrl, alert.runId));
            }
        } else {
            String what = Alert.RESOLVED.equals(alert.status) ? "resolved" : "update";
            blocks.add(
                    section(
                            "*"
                                    + alert.kind
                                    + " "
                                    + what
                                    + "* in run "
                                    + escape(alert.runId)
                                    + " at step "
                                    + alert.displayStep
                                    + " ("
                                    + alert.occurrences
                                    + " so far): "
                                    + escape(alert.message)));
        }
        try {
            return JSON.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "[CRITICAL] run X step N: message"; follow-ups say RESOLVED or UPDATE instead. */
    static String fallbackText(Alert alert) {
        return "["
                + label(alert)
                + "] run "
                + alert.runId
                + " step "
                + alert.displayStep
                + ": "
                + alert.message;
    }

    private static String label(Alert alert) {
        String label =
                Alert.OPEN.equals(alert.status) ? alert.severity : String.valueOf(alert.status);
        return String.valueOf(label).toUpperCase(Locale.ROOT);
    }

    private static String messageAndDiagnosis(Alert alert) {
        String text = escape(alert.message);
        if (alert.diagnosis != null) {
            text += "\n*Diagnosis:* " + escape(alert.diagnosis);
        }
        return text;
    }

    private static String fix(NamedValues suggestion) {
        StringBuilder text = new StringBuilder("*Suggested fix:*");
        String change = null;
        for (int i = 0; i < suggestion.size(); i++) {
            String name = suggestion.name(i);
            Object value = suggestion.value(i);
            if (name.equals("action")) {
                text.append(' ').append(escape(String.valueOf(value)));
            } else if (name.equals("change")) {
                change = String.valueOf(value);
            } else if (value instanceof Number) {
                text.append("\n• ").append(escape(name)).append(": ").append(value);
            }
        }
        if (change != null) {
            text.append("\n```").append(escape(change)).append("```");
        }
        return text.toString();
    }

    private static ObjectNode dashboardLink(String grafanaUrl, String runId) {
        String base =
                grafanaUrl.endsWith("/")
                        ? grafanaUrl.substring(0, grafanaUrl.length() - 1)
                        : grafanaUrl;
        String url =
                base
                        + RUN_DASHBOARD_PATH
                        + URLEncoder.encode(String.valueOf(runId), StandardCharsets.UTF_8);
        ObjectNode context = NODES.objectNode().put("type", "context");
        context.putArray("elements").add(mrkdwn("<" + url + "|Run dashboard>"));
        return context;
    }

    private static ObjectNode header(String text) {
        ObjectNode plain =
                NODES.objectNode()
                        .put("type", "plain_text")
                        .put("text", truncate(text, HEADER_MAX_CHARS));
        ObjectNode header = NODES.objectNode().put("type", "header");
        header.set("text", plain);
        return header;
    }

    private static ObjectNode section(String text) {
        ObjectNode section = NODES.objectNode().put("type", "section");
        section.set("text", mrkdwn(truncate(text, SECTION_MAX_CHARS)));
        return section;
    }

    private static ObjectNode mrkdwn(String text) {
        return NODES.objectNode().put("type", "mrkdwn").put("text", text);
    }

    /** Cut to {@code max} characters, the last one an ellipsis, so the cut shows. */
    static String truncate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    /** Slack's mrkdwn takes &, < and > as control characters: they must be entities. */
    private static String escape(String text) {
        return String.valueOf(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
