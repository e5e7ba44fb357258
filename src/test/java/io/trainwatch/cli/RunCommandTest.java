package io.trainwatch.cli;

import io.trainwatch.embedded.EmbeddedKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

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
    void shouldRefuseCredentialsInTheJdbcUrlWithoutEchoingThem() {
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("run", "--bootstrap-servers", "localhost:1",
                "--jdbc-url", "jdbc:postgresql://db:5432/trainwatch?user=tw&password=hunter2");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim()).isEqualTo("error: --jdbc-url must not carry credentials (jdbc:postgresql://db:5432/trainwatch?user=tw&password=***):"
                + " set TRAINWATCH_JDBC_USER and TRAINWATCH_JDBC_PASSWORD in the environment instead");
    }

    @Test
    void shouldSayClearlyWhenPostgresCannotBeReached(@TempDir Path tmp) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path events = Files.writeString(tmp.resolve("events.jsonl"), "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1.0}\n");
        String url = "jdbc:postgresql://localhost:" + closedPort + "/trainwatch";
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("replay", "--input", events.toString(), "--output", tmp.resolve("a.jsonl").toString(),
                "--jdbc-url", url);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim()).startsWith("error: cannot connect to PostgreSQL at " + url + " as ")
                .contains("Connection to localhost:" + closedPort + " refused")
                .endsWith("; check --jdbc-url and TRAINWATCH_JDBC_USER / TRAINWATCH_JDBC_PASSWORD")
                .doesNotContain("\n").doesNotContain("\tat ");
    }

    @Test
    void shouldRefuseSeriesEveryBelowOne(@TempDir Path tmp) throws Exception {
        Path events = Files.writeString(tmp.resolve("events.jsonl"), "{}\n");
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("replay", "--input", events.toString(), "--output", tmp.resolve("a.jsonl").toString(),
                "--series-every", "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim()).isEqualTo("error: --series-every must be >= 1 (1 keeps every step), got 0");
        assertThat(ScheduleCommandTest.run("run", "--bootstrap-servers", "localhost:1", "--series-every", "-5").err().trim())
                .isEqualTo("error: --series-every must be >= 1 (1 keeps every step), got -5");
    }

    @Test
    void shouldRefuseABadFlagValueWithExitCode2() {
        ScheduleCommandTest.Result r = ScheduleCommandTest.run("run", "--bootstrap-servers", "localhost:1", "--checkpoint-interval", "soon");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim()).isEqualTo("error: --checkpoint-interval must be ISO-8601 (PT10S) or milliseconds, got \"soon\"");
    }
}
