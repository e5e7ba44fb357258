package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;

import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class WebhookRequestTest {

    static Alert spike(String status, int occurrences, long step) {
        Alert a = NotifyTargetTest.alert("gpt2-small", "LOSS_SPIKE", "warning");
        a.incidentId = a.alertId;
        a.status = status;
        a.occurrences = occurrences;
        a.step = step;
        a.displayStep = step + 1;
        a.timeMillis = 1_700_000_000_000L;
        a.message = "loss spiked to 9.1 (x4.2 its mean)";
        a.suggestion = NamedValues.builder().put("action", "lower_lr").put("lr", 3e-4).build();
        return a;
    }

    @Test
    void shouldPostTheAlertJsonUnchanged() {
        NotifyTarget target =
                NotifyTarget.parse("webhook=https://example.org/hook", NotifyTargetTest.ENV);
        Alert alert = spike(Alert.OPEN, 1, 10);

        Notification n = WebhookRequest.of(target, alert);

        assertThat(n.url()).isEqualTo("https://example.org/hook");
        assertThat(n.body()).isEqualTo(JsonWriter.alert(alert));
        assertThat(n.headers())
                .containsEntry("Content-Type", "application/json")
                .containsEntry("Idempotency-Key", WebhookRequest.idempotencyKey(alert))
                .doesNotContainKey("Authorization");
    }

    @Test
    void shouldSendAuthorizationFromTheEnvironmentButNeverShowIt() {
        NotifyTarget target =
                NotifyTarget.parse(
                        "webhook=env:SLACK_URL;auth=env:HOOK_AUTH", NotifyTargetTest.ENV);

        Notification n = WebhookRequest.of(target, spike(Alert.OPEN, 1, 10));

        assertThat(n.headers()).containsEntry("Authorization", NotifyTargetTest.TOKEN);
        assertThat(n.toString())
                .startsWith("POST https://hooks.slack.com/…")
                .contains("Authorization")
                .doesNotContain("s3cret");
    }

    @Test
    void shouldKeepTheIdempotencyKeyForARetryAndChangeItPerUpdateAndResolution() {
        String open = WebhookRequest.idempotencyKey(spike(Alert.OPEN, 1, 10));

        assertThat(WebhookRequest.idempotencyKey(spike(Alert.OPEN, 1, 10)))
                .isEqualTo(open)
                .matches("[0-9a-f]{64}");
        assertThat(
                        Stream.of(
                                        open,
                                        WebhookRequest.idempotencyKey(spike(Alert.UPDATE, 2, 20)),
                                        WebhookRequest.idempotencyKey(spike(Alert.UPDATE, 3, 30)),
                                        WebhookRequest.idempotencyKey(spike(Alert.RESOLVED, 3, 90)))
                                .distinct())
                .hasSize(4);
    }
}
