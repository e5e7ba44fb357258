package io.trainwatch.cli;

import io.trainwatch.embedded.EmbeddedKafka;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

/** What a user sees when the live job cannot start: one line, no stack trace, no secret. */
class RunCommandTest {
    @Test
    void shouldSayClearlyWhenTheBrokerCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("run", "--bootstrap-servers", "localhost:" + closedPort,
                "--kafka-property", "sasl.jaas.config=secret-jaas-line", "--kafka-property", "reconnect.backoff.max.ms=200");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: cannot reach Kafka at localhost:" + closedPort + " within 15 s")
                .doesNotContain("secret-jaas-line").doesNotContain("\tat ");
    }

    @Test
    void shouldSayWhichTopicIsMissingWhenNotAllowedToCreateIt() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            ScheduleCommandTest.Result r = ScheduleCommandTest.run("run", "--bootstrap-servers", kafka.bootstrapServers(), "--no-create-topics");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err().trim()).isEqualTo("error: topic trainwatch.events does not exist (and --no-create-topics was given)");
        }
    }

    @Test
    void shouldRefuseABadFlagValueWithExitCode2() {
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("run", "--bootstrap-servers", "localhost:1", "--checkpoint-interval", "soon");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim()).isEqualTo("error: --checkpoint-interval must be ISO-8601 (PT10S) or milliseconds, got \"soon\"");
    }
}
