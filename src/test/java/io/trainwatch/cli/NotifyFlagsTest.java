package io.trainwatch.cli;

import io.trainwatch.event.JsonReader;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --notify} on the commands, as a user types it: replay sends the alerts at or above each
 * target's severity to a real HTTP receiver, once each; {@code --notify-dry-run} prints them
 * instead; {@code run --dry-run} lists the targets; no secret (read here from PATH, which every
 * environment has) is ever printed.
 */
class NotifyFlagsTest {
    static final String SECRET = System.getenv("PATH");

    record Received(String path, String authorization, String idempotencyKey, String body) {}

    HttpServer server;
    final List<Received> received = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void startReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(
                "/",
                exchange -> {
                    received.add(
                            new Received(
                                    exchange.getRequestURI().getPath(),
                                    exchange.getRequestHeaders().getFirst("Authorization"),
                                    exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                                    new String(
                                            exchange.getRequestBody().readAllBytes(),
                                            StandardCharsets.UTF_8)));
                    exchange.sendResponseHeaders(202, -1);
                    exchange.close();
                });
        server.start();
    }

    @AfterEach
    void stopReceiver() {
        server.stop(0);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    static Path events(Path dir) throws IOException {
        Path f = dir.resolve("events.jsonl");
        List<String> lines = new ArrayList<>();
        for (Fault fault :
                List.of(Fault.NAN_BAD_BATCH, Fault.GRAD_GROWTH, Fault.LR_STEPPED_PER_EPOCH)) {
            SimulatedRun run = RunSimulator.generate(900 + fault.ordinal(), fault);
            lines.addAll(run.events());
        }
        Files.write(f, lines);
        return f;
    }

    @Test
    void shouldSendReplayAlertsAtOrAboveEachTargetsSeverityOnceEach(@TempDir Path tmp)
            throws Exception {
        assertThat(SECRET).isNotBlank();
        Path alerts = tmp.resolve("alerts.jsonl");
        CliRunner.Result r =
                CliRunner.run(
                        "replay",
                        "--input",
                        events(tmp).toString(),
                        "--output",
                        alerts.toString(),
                        "--notify",
                        "webhook=" + url("/team") + ";min_severity=warning;auth=env:PATH",
                        "--notify",
                        "pagerduty=env:PATH;url=" + url("/pd"));
        assertThat(r.exitCode()).as(r.err()).isZero();

        List<JsonNode> all = Files.readAllLines(alerts).stream().map(JsonReader::parse).toList();
        long warningOrWorse =
                all.stream().filter(a -> !a.path("severity").asText().equals("info")).count();
        long critical =
                all.stream().filter(a -> a.path("severity").asText().equals("critical")).count();
        assertThat(critical).isPositive();
        assertThat(warningOrWorse).isGreaterThan(critical);

        List<Received> team = received.stream().filter(x -> x.path().equals("/team")).toList();
        assertThat(team).hasSize((int) warningOrWorse);
        assertThat(team).allSatisfy(x -> assertThat(x.authorization()).isEqualTo(SECRET));
        Set<String> keys = team.stream().map(Received::idempotencyKey).collect(Collectors.toSet());
        assertThat(keys).hasSize(team.size());
        assertThat(team.stream().map(x -> JsonReader.parse(x.body()).path("alert_id").asText()))
                .allMatch(id -> all.stream().anyMatch(a -> a.path("alert_id").asText().equals(id)));

        List<Received> pd = received.stream().filter(x -> x.path().equals("/pd")).toList();
        assertThat(pd).hasSize((int) critical);
        assertThat(pd)
                .allSatisfy(
                        x ->
                                assertThat(JsonReader.parse(x.body()).path("routing_key").asText())
                                        .isEqualTo(SECRET));

        assertThat(r.out())
                .contains(
                        "notifications    " + (warningOrWorse + critical) + " delivered",
                        ", 0 failed");
        assertThat(r.out() + r.err()).doesNotContain(SECRET);
    }

    @Test
    void shouldPrintInsteadOfSendingOnADryRunWithoutShowingSecrets(@TempDir Path tmp)
            throws Exception {
        CliRunner.Result r =
                CliRunner.run(
                        "replay",
                        "--input",
                        events(tmp).toString(),
                        "--output",
                        tmp.resolve("alerts.jsonl").toString(),
                        "--notify",
                        "webhook=" + url("/team") + ";auth=env:PATH",
                        "--notify",
                        "pagerduty=env:PATH;url=" + url("/pd"),
                        "--notify-dry-run");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(received).isEmpty();
        assertThat(r.out()).contains("notify dry-run", "NON_FINITE");
        assertThat(r.out() + r.err()).doesNotContain(SECRET);
    }

    @Test
    void shouldListTheTargetsMaskedOnRunDryRun() {
        CliRunner.Result r =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:9092",
                        "--notify",
                        "webhook=" + url("/team") + ";auth=env:PATH",
                        "--notify",
                        "pagerduty=env:PATH;runs=prod-.*",
                        "--grafana-url",
                        "http://grafana:3000",
                        "--dry-run");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out())
                .contains(
                        "notify                   webhook="
                                + url("/team")
                                + ";auth=***;min_severity=warning",
                        "notify                   pagerduty=https://events.pagerduty.com/v2/enqueue;routing_key=***;min_severity=critical;runs=prod-.*",
                        "grafana url              http://grafana:3000",
                        "notify failed topic      trainwatch.notifications.failed");
        assertThat(r.out() + r.err()).doesNotContain(SECRET);
    }

    @Test
    void shouldRefuseABadNotifyValueNamingWhatIsAllowed() {
        Map<String, String> cases =
                Map.of(
                        "sms=+123", "'sms' is not one of webhook, slack, pagerduty",
                        "slack=https://hooks.slack.com/services/T/B/x", "expected env:VAR",
                        "webhook=http://h/x;min_severity=loud",
                                "'loud' is not one of info, warning, critical",
                        "pagerduty=env:TRAINWATCH_SURELY_UNSET_VAR",
                                "TRAINWATCH_SURELY_UNSET_VAR is not set");
        cases.forEach(
                (value, message) -> {
                    CliRunner.Result r =
                            CliRunner.run(
                                    "run",
                                    "--bootstrap-servers",
                                    "localhost:9092",
                                    "--notify",
                                    value,
                                    "--dry-run");
                    assertThat(r.exitCode()).as(value).isEqualTo(2);
                    assertThat(r.err())
                            .as(value)
                            .contains(message)
                            .doesNotContain("hooks.slack.com");
                });
        CliRunner.Result noTarget =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:9092",
                        "--grafana-url",
                        "http://g",
                        "--dry-run");
        assertThat(noTarget.exitCode()).isEqualTo(2);
        assertThat(noTarget.err()).contains("--grafana-url needs at least one --notify");
    }
}
