package io.trainwatch.notify;

import io.trainwatch.detect.Severity;
import io.trainwatch.event.Alert;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NotifyTargetTest {
    static final String SLACK_URL = "https://hooks.slack.com/services/T000/B000/s3cretSlackToken";
    static final String ROUTING_KEY = "R0UT1NGKEYs3cret";
    static final String TOKEN = "Bearer t0kens3cret";
    static final Function<String, String> ENV =
            Map.of("SLACK_URL", SLACK_URL, "PD_KEY", ROUTING_KEY, "HOOK_AUTH", TOKEN)::get;

    static Alert alert(String runId, String kind, String severity) {
        Alert a = new Alert();
        a.alertId = Alert.idFor(runId, kind, 10);
        a.runId = runId;
        a.kind = kind;
        a.severity = severity;
        a.status = Alert.OPEN;
        return a;
    }

    @Test
    void shouldParseWebhookWithInlineUrlAndDefaults() {
        NotifyTarget t = NotifyTarget.parse("webhook=https://example.org/hook", ENV);

        assertThat(t.type()).isEqualTo(NotifyTarget.Type.WEBHOOK);
        assertThat(t.url()).isEqualTo("https://example.org/hook");
        assertThat(t.minSeverity()).isEqualTo(Severity.WARNING);
        assertThat(t.authorization()).isNull();
        assertThat(t.routingKey()).isNull();
        assertThat(t.toString()).isEqualTo("webhook=https://example.org/hook;min_severity=warning");
    }

    @Test
    void shouldReadSlackUrlFromEnvironmentAndMaskIt() {
        NotifyTarget t = NotifyTarget.parse("slack=env:SLACK_URL;kinds=NON_FINITE,STALL", ENV);

        assertThat(t.url()).isEqualTo(SLACK_URL);
        assertThat(t.toString())
                .isEqualTo("slack=***;min_severity=warning;kinds=NON_FINITE,STALL")
                .doesNotContain("s3cret");
    }

    @Test
    void shouldDefaultPagerDutyToCriticalAndTheEventsEndpoint() {
        NotifyTarget t = NotifyTarget.parse("pagerduty=env:PD_KEY", ENV);

        assertThat(t.routingKey()).isEqualTo(ROUTING_KEY);
        assertThat(t.url()).isEqualTo(NotifyTarget.PAGERDUTY_EVENTS_URL);
        assertThat(t.minSeverity()).isEqualTo(Severity.CRITICAL);
        assertThat(t.toString()).doesNotContain(ROUTING_KEY).contains("routing_key=***");
    }

    @Test
    void shouldOverridePagerDutyEndpoint() {
        NotifyTarget t =
                NotifyTarget.parse("pagerduty=env:PD_KEY;url=http://localhost:8080/enqueue", ENV);

        assertThat(t.url()).isEqualTo("http://localhost:8080/enqueue");
    }

    @Test
    void shouldReadWebhookAuthorizationFromEnvironmentAndMaskIt() {
        NotifyTarget t =
                NotifyTarget.parse(
                        "webhook=env:SLACK_URL;auth=env:HOOK_AUTH;min_severity=info", ENV);

        assertThat(t.url()).isEqualTo(SLACK_URL);
        assertThat(t.authorization()).isEqualTo(TOKEN);
        assertThat(t.minSeverity()).isEqualTo(Severity.INFO);
        assertThat(t.toString()).isEqualTo("webhook=***;auth=***;min_severity=info");
    }

    @Test
    void shouldAcceptBySeverityRunAndKind() {
        NotifyTarget t =
                NotifyTarget.parse(
                        "webhook=https://example.org/h;runs=llama-.*;kinds=LOSS_SPIKE,DIVERGENCE",
                        ENV);

        assertThat(t.accepts(alert("llama-7b", "LOSS_SPIKE", "warning"))).isTrue();
        assertThat(t.accepts(alert("llama-7b", "DIVERGENCE", "critical"))).isTrue();
        assertThat(t.accepts(alert("llama-7b", "LOSS_SPIKE", "info"))).isFalse();
        assertThat(t.accepts(alert("llama-7b", "STALL", "critical"))).isFalse();
        // the whole run id must match, not a part of it
        assertThat(t.accepts(alert("old-llama-7b", "LOSS_SPIKE", "critical"))).isFalse();
        assertThat(t.accepts(alert("llama-7b", "NEW_KIND", "critical"))).isFalse();
        assertThat(t.accepts(alert("llama-7b", "LOSS_SPIKE", "fatal"))).isFalse();
    }

    @Test
    void shouldAcceptOnlyCriticalForPagerDutyByDefault() {
        NotifyTarget t = NotifyTarget.parse("pagerduty=env:PD_KEY", ENV);

        assertThat(t.accepts(alert("r", "NON_FINITE", "critical"))).isTrue();
        assertThat(t.accepts(alert("r", "NON_FINITE", "warning"))).isFalse();
    }

    @Test
    void shouldNameThePartTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> NotifyTarget.parse("email=a@b", ENV))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--notify type: 'email' is not one of webhook, slack, pagerduty");
        assertThatThrownBy(() -> NotifyTarget.parse("slack=env:SLACK_URL;min_severity=loud", ENV))
                .hasMessage("--notify min_severity: 'loud' is not one of info, warning, critical");
        assertThatThrownBy(() -> NotifyTarget.parse("slack=env:SLACK_URL;runs=(", ENV))
                .hasMessageStartingWith("--notify runs: '(' is not a Java regex");
        assertThatThrownBy(() -> NotifyTarget.parse("slack=env:SLACK_URL;kinds=STALL,SPIKE", ENV))
                .hasMessageStartingWith("--notify kinds: 'SPIKE' is not one of NON_FINITE,");
        assertThatThrownBy(() -> NotifyTarget.parse("slack=env:SLACK_URL;colour=red", ENV))
                .hasMessageStartingWith("--notify: unknown option 'colour'");
        assertThatThrownBy(() -> NotifyTarget.parse("slack=env:SLACK_URL;auth=env:HOOK_AUTH", ENV))
                .hasMessage("--notify auth: only for webhook, not slack");
        assertThatThrownBy(() -> NotifyTarget.parse("webhook=env:MISSING", ENV))
                .hasMessage("--notify webhook target: environment variable MISSING is not set");
        assertThatThrownBy(() -> NotifyTarget.parse("webhook=ftp://example.org", ENV))
                .hasMessage("--notify webhook target: not an absolute http or https URL");
        assertThatThrownBy(() -> NotifyTarget.parse("webhook", ENV))
                .hasMessageStartingWith("--notify: missing '='");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "slack=" + SLACK_URL,
                "pagerduty=" + ROUTING_KEY,
                "webhook=env:PD_KEY",
                "webhook=https://example.org/h;auth=" + TOKEN,
                "slack=env:PD_KEY",
                "webhook=https://example.org/h?token=s3cret;kinds=X",
                "webhook=https://example.org/h?token=s3cret;colour=s3cret",
            })
    void shouldNeverPutASecretInAnErrorMessage(String value) {
        assertThatThrownBy(() -> NotifyTarget.parse(value, ENV))
                .isInstanceOf(IllegalArgumentException.class)
                .message()
                .doesNotContain("s3cret")
                .doesNotContain(ROUTING_KEY)
                .doesNotContain("hooks.slack.com");
    }
}
