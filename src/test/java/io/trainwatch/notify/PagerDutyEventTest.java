package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PagerDutyEventTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final NotifyTarget PAGER =
            NotifyTarget.parse("pagerduty=env:PD_KEY", NotifyTargetTest.ENV);

    static Alert nonFinite(String status) {
        Alert a = NotifyTargetTest.alert("llama-7b", "NON_FINITE", "critical");
        a.incidentId = "llama-7b/LOSS_SPIKE/90";
        a.status = status;
        a.occurrences = 2;
        a.step = 100;
        a.displayStep = 101;
        a.onsetStep = 100;
        a.timeMillis = 1_700_000_000_000L;
        a.message = "loss is NaN";
        a.diagnosis = "fp16 overflow";
        a.evidence = NamedValues.builder().put("loss", Double.NaN).build();
        a.suggestion =
                NamedValues.builder().put("action", "clip_grad_norm").put("max_norm", 1.0).build();
        return a;
    }

    @Test
    void shouldTriggerOnOpenWithPayloadFieldByField() throws Exception {
        Notification n = PagerDutyEvent.of(PAGER, nonFinite(Alert.OPEN));
        JsonNode event = JSON.readTree(n.body());

        assertThat(n.url()).isEqualTo("https://events.pagerduty.com/v2/enqueue");
        assertThat(event.get("routing_key").asText()).isEqualTo(NotifyTargetTest.ROUTING_KEY);
        assertThat(event.get("event_action").asText()).isEqualTo("trigger");
        assertThat(event.get("dedup_key").asText()).isEqualTo("llama-7b/LOSS_SPIKE/90");
        JsonNode payload = event.get("payload");
        assertThat(payload.get("summary").asText())
                .isEqualTo("[critical] NON_FINITE in run llama-7b at step 101: loss is NaN");
        assertThat(payload.get("source").asText()).isEqualTo("llama-7b");
        assertThat(payload.get("severity").asText()).isEqualTo("critical");
        assertThat(payload.get("timestamp").asText()).isEqualTo("2023-11-14T22:13:20Z");
        assertThat(payload.get("component").asText()).isEqualTo("trainwatch");
        assertThat(payload.get("class").asText()).isEqualTo("NON_FINITE");
        JsonNode details = payload.get("custom_details");
        assertThat(details.get("kind").asText()).isEqualTo("NON_FINITE");
        assertThat(details.get("alert_id").asText()).isEqualTo("llama-7b/NON_FINITE/10");
        assertThat(details.get("step").asLong()).isEqualTo(100);
        assertThat(details.get("display_step").asLong()).isEqualTo(101);
        assertThat(details.get("diagnosis").asText()).isEqualTo("fp16 overflow");
        assertThat(details.get("suggestion").get("action").asText()).isEqualTo("clip_grad_norm");
        assertThat(details.get("suggestion").get("max_norm").asDouble()).isEqualTo(1.0);
        assertThat(details.get("evidence").get("loss").asText()).isEqualTo("NaN");
        assertThat(n.toString()).doesNotContain(NotifyTargetTest.ROUTING_KEY);
    }

    @Test
    void shouldTriggerUpdatesUnderTheSameDedupKey() throws Exception {
        JsonNode event = JSON.readTree(PagerDutyEvent.body("k", nonFinite(Alert.UPDATE)));

        assertThat(event.get("event_action").asText()).isEqualTo("trigger");
        assertThat(event.get("dedup_key").asText()).isEqualTo("llama-7b/LOSS_SPIKE/90");
    }

    @Test
    void shouldResolveWithoutPayload() throws Exception {
        JsonNode event = JSON.readTree(PagerDutyEvent.body("k", nonFinite(Alert.RESOLVED)));

        assertThat(event.get("event_action").asText()).isEqualTo("resolve");
        assertThat(event.get("dedup_key").asText()).isEqualTo("llama-7b/LOSS_SPIKE/90");
        assertThat(event.has("payload")).isFalse();
    }

    @Test
    void shouldFallBackToAlertIdAndHashOverlongKeysAndCutTheSummary() throws Exception {
        Alert legacy = nonFinite(Alert.OPEN);
        legacy.incidentId = null;
        legacy.timeMillis = null;
        assertThat(PagerDutyEvent.dedupKey(legacy)).isEqualTo("llama-7b/NON_FINITE/10");
        assertThat(JSON.readTree(PagerDutyEvent.body("k", legacy)).get("payload").has("timestamp"))
                .isFalse();

        Alert verbose = nonFinite(Alert.OPEN);
        verbose.incidentId = "r".repeat(300);
        verbose.message = "m".repeat(2000);
        assertThat(PagerDutyEvent.dedupKey(verbose)).matches("[0-9a-f]{64}");
        assertThat(
                        JSON.readTree(PagerDutyEvent.body("k", verbose))
                                .get("payload")
                                .get("summary")
                                .asText())
                .hasSize(PagerDutyEvent.SUMMARY_MAX_CHARS);
    }
}
