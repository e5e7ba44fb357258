package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SlackMessageTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Alert divergence() {
        Alert a = NotifyTargetTest.alert("gpt2 <small>", "DIVERGENCE", "critical");
        a.incidentId = a.alertId;
        a.occurrences = 1;
        a.step = 1200;
        a.displayStep = 1201;
        a.message = "loss diverged: 7.9 > 3 × best 2.4";
        a.diagnosis = "LR too high after warmup";
        a.suggestion =
                NamedValues.builder()
                        .put("action", "lower_lr")
                        .put("lr", 3.0e-4)
                        .put("warmup_steps", 2000L)
                        .put("reason", "not a number")
                        .put("change", "lr=3e-4")
                        .build();
        return a;
    }

    static JsonNode parse(Notification n) throws Exception {
        return JSON.readTree(n.body());
    }

    @Test
    void shouldBuildTheOpeningMessageBlockByBlock() throws Exception {
        NotifyTarget target = NotifyTarget.parse("slack=env:SLACK_URL", NotifyTargetTest.ENV);

        Notification n = SlackMessage.of(target, divergence(), "http://grafana:3000/");
        JsonNode body = parse(n);

        assertThat(n.url()).isEqualTo(NotifyTargetTest.SLACK_URL);
        assertThat(n.headers()).containsEntry("Content-Type", "application/json");
        assertThat(body.get("text").asText())
                .isEqualTo(
                        "[CRITICAL] run gpt2 <small> step 1201: loss diverged: 7.9 > 3 × best 2.4");
        JsonNode blocks = body.get("blocks");
        assertThat(blocks).hasSize(5);
        assertThat(blocks.get(0).get("type").asText()).isEqualTo("header");
        assertThat(blocks.get(0).get("text").get("type").asText()).isEqualTo("plain_text");
        assertThat(blocks.get(0).get("text").get("text").asText())
                .isEqualTo("CRITICAL DIVERGENCE in run gpt2 <small>");
        assertThat(blocks.get(1).get("type").asText()).isEqualTo("section");
        assertThat(blocks.get(1).get("text").get("type").asText()).isEqualTo("mrkdwn");
        assertThat(blocks.get(1).get("text").get("text").asText())
                .isEqualTo("*Severity:* critical   *Run:* gpt2 &lt;small&gt;   *Step:* 1201");
        assertThat(blocks.get(2).get("text").get("text").asText())
                .isEqualTo(
                        "loss diverged: 7.9 &gt; 3 × best 2.4\n*Diagnosis:* LR too high after warmup");
        assertThat(blocks.get(3).get("text").get("text").asText())
                .isEqualTo(
                        "*Suggested fix:* lower_lr\n• lr: 3.0E-4\n• warmup_steps: 2000\n```lr=3e-4```");
        assertThat(blocks.get(4).get("type").asText()).isEqualTo("context");
        assertThat(blocks.get(4).get("elements").get(0).get("text").asText())
                .isEqualTo(
                        "<http://grafana:3000/d/trainwatch-run?var-run_id=gpt2+%3Csmall%3E|Run dashboard>");
    }

    @Test
    void shouldLeaveOutTheDashboardLinkWithoutGrafanaUrl() throws Exception {
        JsonNode blocks = JSON.readTree(SlackMessage.body(divergence(), null)).get("blocks");

        assertThat(blocks).hasSize(4);
        assertThat(blocks.findValuesAsText("type")).doesNotContain("context");
    }

    @Test
    void shouldSendUpdatesAndResolutionAsShortFollowUps() throws Exception {
        Alert resolved = divergence();
        resolved.status = Alert.RESOLVED;
        resolved.occurrences = 3;
        resolved.message = "loss back under 2.6";

        JsonNode body = JSON.readTree(SlackMessage.body(resolved, "http://grafana:3000"));

        assertThat(body.get("text").asText())
                .isEqualTo("[RESOLVED] run gpt2 <small> step 1201: loss back under 2.6");
        assertThat(body.get("blocks")).hasSize(1);
        assertThat(body.get("blocks").get(0).get("text").get("text").asText())
                .isEqualTo(
                        "*DIVERGENCE resolved* in run gpt2 &lt;small&gt; at step 1201 (3 so far):"
                                + " loss back under 2.6");

        Alert update = divergence();
        update.status = Alert.UPDATE;
        assertThat(JSON.readTree(SlackMessage.body(update, null)).get("text").asText())
                .startsWith("[UPDATE] run gpt2 <small> step 1201: ");
    }

    @Test
    void shouldCutTextsToSlackLimits() throws Exception {
        Alert verbose = divergence();
        verbose.runId = "r".repeat(400);
        verbose.message = "m".repeat(5000);

        JsonNode blocks = JSON.readTree(SlackMessage.body(verbose, null)).get("blocks");

        String header = blocks.get(0).get("text").get("text").asText();
        assertThat(header).hasSize(SlackMessage.HEADER_MAX_CHARS).endsWith("…");
        String section = blocks.get(2).get("text").get("text").asText();
        assertThat(section).hasSize(SlackMessage.SECTION_MAX_CHARS).endsWith("…");
    }

    static Alert other(String runId, String kind) {
        Alert a = NotifyTargetTest.alert(runId, kind, "warning");
        a.message = kind + " in " + runId;
        return a;
    }

    @Test
    void shouldFoldABurstIntoTheMostSevereMessagePlusASummary() throws Exception {
        NotifyTarget target = NotifyTarget.parse("slack=env:SLACK_URL", NotifyTargetTest.ENV);
        List<Alert> others =
                List.of(
                        other("run-b", "STALL"),
                        other("run-a", "LOSS_SPIKE"),
                        other("run-a", "GRAD_EXPLOSION"),
                        other("run-a", "LOSS_SPIKE"));

        Notification n =
                SlackMessage.folded(target, divergence(), others, Duration.ofMillis(1500), null);
        JsonNode body = parse(n);

        assertThat(n.url()).isEqualTo(NotifyTargetTest.SLACK_URL);
        assertThat(body.get("text").asText())
                .isEqualTo(
                        "[CRITICAL] run gpt2 <small> step 1201: loss diverged: 7.9 > 3 × best 2.4"
                                + " (+4 more alerts)");
        JsonNode blocks = body.get("blocks");
        // the usual four blocks of the opening message, then the summary
        assertThat(blocks).hasSize(5);
        assertThat(blocks.get(0).get("text").get("text").asText())
                .isEqualTo("CRITICAL DIVERGENCE in run gpt2 <small>");
        assertThat(blocks.get(4).get("type").asText()).isEqualTo("section");
        assertThat(blocks.get(4).get("text").get("text").asText())
                .isEqualTo(
                        "*+4 more alerts in the last 2 s:* run-a 3 (LOSS_SPIKE 2, GRAD_EXPLOSION 1),"
                                + " run-b 1 (STALL 1)");
    }

    @Test
    void shouldKeepAFoldedMessageWithinSlackLimitsAndItsCountVisible() throws Exception {
        Alert verbose = divergence();
        verbose.message = "m".repeat(5000);
        List<Alert> others = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            others.add(other("run-<" + i + ">-" + "x".repeat(20), "STALL"));
        }

        JsonNode body =
                JSON.readTree(
                        SlackMessage.foldedBody(verbose, others, Duration.ofSeconds(61), null));

        assertThat(body.get("text").asText())
                .hasSize(SlackMessage.TEXT_MAX_CHARS)
                .endsWith("… (+500 more alerts)");
        JsonNode blocks = body.get("blocks");
        String summary = blocks.get(blocks.size() - 1).get("text").get("text").asText();
        assertThat(summary)
                .hasSize(SlackMessage.SECTION_MAX_CHARS)
                .startsWith("*+500 more alerts in the last 61 s:* run-&lt;0&gt;-")
                .endsWith("…");
    }
}
