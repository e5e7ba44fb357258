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
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The {@code slack} notification of an alert: a Slack incoming-webhook message, {@code text} (the
 * fallback notifications show) plus Block Kit {@code blocks}. An opening alert gets a header
 * (severity, kind, run), a section with run and step, one with the message and diagnosis, one with
 * the suggested fix (its action, numbers and change) and, given a Grafana URL, a context block
 * linking the run dashboard. Updates and resolutions are short follow-ups: text and one section.
 * Texts are cut to Slack's limits (header 150, section 3000 characters) rather than rejected. A
 * burst held back by Slack's rate limit goes as one {@link #folded} message.
 */
public final class SlackMessage {
    static final int HEADER_MAX_CHARS = 150;
    static final int SECTION_MAX_CHARS = 3000;

    /**
     * The {@code text} of a folded message is cut here, keeping the "+N more" at its end: Slack
     * would cut only at 40,000 characters, and from the end.
     */
    static final int TEXT_MAX_CHARS = 3000;

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

    /**
     * One message standing for a burst the rate limit held back: {@code primary}'s usual message
     * (the most severe of the burst, chosen by the caller), its {@code text} ending in "(+N more
     * alerts)", and a section summing up the {@code others} by run and kind, most first: "+12 more
     * alerts in the last 40 s: run-a 7 (GRAD_EXPLOSION 4, LOSS_SPIKE 3), run-b 5 (STALL 5)". {@code
     * window} is how long the burst took to gather.
     */
    public static Notification folded(
            NotifyTarget target,
            Alert primary,
            List<Alert> others,
            Duration window,
            String grafanaUrl) {
        return new Notification(
                target.url(),
                Map.of(WebhookRequest.CONTENT_TYPE, "application/json"),
                foldedBody(primary, others, window, grafanaUrl));
    }

    static String foldedBody(
            Alert primary, List<Alert> others, Duration window, String grafanaUrl) {
        ObjectNode message = message(primary, grafanaUrl);
        String more = " (+" + others.size() + " more " + alerts(others.size()) + ")";
        // the count goes last but must survive the cut: notifications show only the text
        message.put("text", truncate(fallbackText(primary), TEXT_MAX_CHARS - more.length()) + more);
        ((ArrayNode) message.get("blocks")).add(section(summaryText(others, window)));
        return write(message);
    }

    /**
     * "*+12 more alerts in the last 40 s:* run-a 7 (GRAD_EXPLOSION 4, LOSS_SPIKE 3), run-b 5 (STALL
     * 5)": runs by count, then name; kinds likewise. Cut to a section's limit by the caller's
     * {@link #section}.
     */
    static String summaryText(List<Alert> others, Duration window) {
        Map<String, Integer> alertsByRun = new HashMap<>();
        Map<String, Map<String, Integer>> kindsByRun = new HashMap<>();
        for (Alert a : others) {
            String run = String.valueOf(a.runId);
            alertsByRun.merge(run, 1, Integer::sum);
            kindsByRun
                    .computeIfAbsent(run, r -> new HashMap<>())
                    .merge(String.valueOf(a.kind), 1, Integer::sum);
        }
        StringBuilder text =
                new StringBuilder("*+")
                        .append(others.size())
                        .append(" more ")
                        .append(alerts(others.size()))
                        .append(" in the last ")
                        .append(seconds(window))
                        .append(":*");
        String separator = " ";
        for (Map.Entry<String, Integer> run : mostFirst(alertsByRun)) {
            String kinds =
                    mostFirst(kindsByRun.get(run.getKey())).stream()
                            .map(kind -> escape(kind.getKey()) + " " + kind.getValue())
                            .collect(Collectors.joining(", "));
            text.append(separator)
                    .append(escape(run.getKey()))
                    .append(' ')
                    .append(run.getValue())
                    .append(" (")
                    .append(kinds)
                    .append(')');
            separator = ", ";
        }
        return text.toString();
    }

    /** Names by count, highest first, then by name so that the text is stable. */
    private static List<Map.Entry<String, Integer>> mostFirst(Map<String, Integer> counts) {
        return counts.entrySet().stream()
                .sorted(
                        Map.Entry.<String, Integer>comparingByValue()
                                .reversed()
                                .thenComparing(Map.Entry.comparingByKey()))
                .toList();
    }

    private static String alerts(int count) {
        return count == 1 ? "alert" : "alerts";
    }

    /** "40 s", rounded up so that a burst of a few milliseconds is not "in the last 0 s". */
    private static String seconds(Duration window) {
        long millis = Math.max(window.toMillis(), 0);
        return ((millis + 999) / 1000) + " s";
    }

    static String body(Alert alert, String grafanaUrl) {
        return write(message(alert, grafanaUrl));
    }

    private static ObjectNode message(Alert alert, String grafanaUrl) {
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
        return message;
    }

    private static String write(ObjectNode message) {
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
