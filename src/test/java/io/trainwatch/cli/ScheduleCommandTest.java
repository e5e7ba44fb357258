package io.trainwatch.cli;

import io.trainwatch.SharedData;
import io.trainwatch.demo.DemoRuns;
import io.trainwatch.demo.SchedulePreview;
import io.trainwatch.schedule.RecordedSchedules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduleCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldReproduceEveryGoldenCaseFromItsOwnFileAsCsv(@TempDir Path tmp) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(SharedData.goldenSchedules())) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        int cases = 0;
        long values = 0;
        for (Path file : files) {
            for (JsonNode c : JSON.readTree(file.toFile()).get("cases")) {
                Path spec = tmp.resolve("case-" + cases + ".json");
                JSON.writeValue(
                        spec.toFile(),
                        c); // one golden case, saved as its own file, taken as it stands
                int steps = c.get("steps").asInt();
                CliRunner.Result r =
                        CliRunner.run(
                                "schedule",
                                "--spec",
                                spec.toString(),
                                "--steps",
                                Integer.toString(steps));
                assertThat(r.exitCode()).as(r.err()).isZero();
                String[] lines = r.out().split("\n");
                int groups = c.get("lr").size();
                StringBuilder header = new StringBuilder("step");
                for (int g = 0; g < groups; g++) {
                    header.append(",lr").append(g);
                }
                assertThat(lines[0]).isEqualTo(header.toString());
                assertThat(lines).hasSize(steps + 1);
                for (int i = 0; i < steps; i++) {
                    String[] cols = lines[i + 1].split(",");
                    assertThat(Long.parseLong(cols[0])).isEqualTo(i);
                    for (int g = 0; g < groups; g++) {
                        double expected = Double.parseDouble(c.get("lr").get(g).get(i).asText());
                        double actual = Double.parseDouble(cols[g + 1]);
                        assertThat(RecordedSchedules.withinTolerance(actual, expected))
                                .as(
                                        "%s/%s group %d step %d: expected %s got %s",
                                        file.getFileName(),
                                        c.get("name").asText(),
                                        g,
                                        i,
                                        expected,
                                        actual)
                                .isTrue();
                        values++;
                    }
                }
                cases++;
            }
        }
        System.out.printf(
                "schedule command: %d golden cases, %d values reproduced through the CLI%n",
                cases, values);
        assertThat(cases).isGreaterThan(0);
    }

    @Test
    void shouldPrintJsonWithOneArrayPerGroupAndDrawSvg(@TempDir Path tmp) throws Exception {
        Path spec = tmp.resolve("spec.json");
        Files.writeString(
                spec,
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":2,\"gamma\":0.5,\"base_lrs\":[1.0,0.1]}}");
        Path svg = tmp.resolve("curve.svg");
        CliRunner.Result r =
                CliRunner.run(
                        "schedule",
                        "--spec",
                        spec.toString(),
                        "--steps",
                        "5",
                        "--format",
                        "json",
                        "--svg",
                        svg.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode out = JSON.readTree(r.out());
        assertThat(out.get("lr").get(0).toString()).isEqualTo("[1.0,1.0,0.5,0.5,0.25]");
        assertThat(out.get("lr").get(1).toString()).isEqualTo("[0.1,0.1,0.05,0.05,0.025]");
        String drawn = Files.readString(svg);
        assertThat(drawn)
                .startsWith("<svg")
                .contains("data-name=\"group 0\"")
                .contains("data-name=\"group 1\"");
    }

    @Test
    void shouldPrintRangeColumnsForAdaptiveSchedule(@TempDir Path tmp) throws Exception {
        Path spec = tmp.resolve("spec.json");
        Files.writeString(
                spec,
                "{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"factor\":0.5,\"patience\":1,\"base_lrs\":[0.1]}}");
        CliRunner.Result r = CliRunner.run("schedule", "--spec", spec.toString(), "--steps", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        // patience 1: a drop needs 2 bad calls, so the lowest allowed LR halves at index 2 and
        // again at 4
        assertThat(r.out())
                .isEqualTo("step,lr0_min,lr0_max\n0,0.1,0.1\n1,0.1,0.1\n2,0.05,0.1\n3,0.05,0.1\n");
    }

    @Test
    void shouldReportBadSpecAsOneLineNamingTheField(@TempDir Path tmp) throws Exception {
        Path spec = tmp.resolve("bad.json");
        Files.writeString(
                spec,
                "{\"scheduler\":\"CosineAnnealingWarmRestarts\",\"params\":{\"T_0\":0,\"base_lrs\":[0.1]}}");
        CliRunner.Result r = CliRunner.run("schedule", "--spec", spec.toString(), "--steps", "10");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo(
                        "error: invalid schedule spec: params.T_0: must be a positive integer, got 0");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void shouldReportMissingSpecFile(@TempDir Path tmp) {
        CliRunner.Result r =
                CliRunner.run(
                        "schedule", "--spec", tmp.resolve("nope.json").toString(), "--steps", "10");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--spec: no such file:");
    }

    @Test
    void shouldRunTheDemoOnKafkaAndPreviewEveryBundledExample(@TempDir Path tmp) throws Exception {
        CliRunner.Result r =
                CliRunner.run("demo", "--out", tmp.toString(), "--steps", "200", "--rate", "5000");
        assertThat(r.exitCode()).as(r.err()).isZero();
        // every demo fault is caught, read back from Kafka and printed with its fix; the malformed
        // records are dead letters
        assertThat(r.out())
                .contains("NON_FINITE", "WARMUP_SPIKE", "GRAD_EXPLOSION", "LR_MISMATCH", "fix: ");
        assertThat(r.out()).contains("once per epoch", "restarted from its beginning");
        // the run that stops sending, by the clock
        assertThat(r.out().lines().filter(l -> l.contains("OPEN     RUN_SILENT"))).hasSize(1);
        assertThat(r.out())
                .containsPattern(
                        "summary: "
                                + DemoRuns.records().size()
                                + " events streamed, \\d+ alerts, 3 dead letters");
        // the healthy run declares HF cosine with warmup and draws no alert at all
        String healthyStart =
                DemoRuns.records().stream()
                        .map(kv -> kv[1])
                        .filter(v -> v.contains("\"run_start\"") && v.contains("sim-none-"))
                        .findFirst()
                        .orElseThrow();
        assertThat(healthyStart).contains("\"scheduler\":\"cosine\"", "num_warmup_steps");
        assertThat(r.out().lines().filter(l -> l.contains("sim-none-"))).isEmpty();
        assertThat(r.out().lines().filter(l -> l.contains("DEAD-LETTER"))).hasSize(3);
        // and wrote them to PostgreSQL started in-process: one series row per (run, step), one row
        // per alert id
        java.util.Set<String> steps = new java.util.HashSet<>();
        java.util.Set<String> alertIds = new java.util.HashSet<>();
        var codec = new io.trainwatch.event.EventCodec();
        var monitor =
                new io.trainwatch.detect.RunMonitor(
                        io.trainwatch.threshold.Thresholds.DEFAULTS, 1, true);
        for (var run : DemoRuns.runs()) {
            var state = new io.trainwatch.detect.RunState();
            for (String line : run.events()) {
                var e = codec.parse(line);
                monitor.onEvent(state, e).alerts().forEach(a -> alertIds.add(a.alertId));
                if (e.type == io.trainwatch.event.EventType.STEP) {
                    steps.add(e.runId + "@" + e.step);
                }
            }
        }
        assertThat(r.out())
                .containsPattern(
                        "PostgreSQL 16 in-process at jdbc:postgresql://localhost:\\d+/postgres \\(\\d+\\.\\d s\\)")
                .contains(
                        String.format(
                                java.util.Locale.ROOT,
                                "PostgreSQL: %,d series rows, %d alerts, 3 dead letters",
                                steps.size(),
                                alertIds.size() + 1)); // + the live RUN_SILENT, by the clock
        List<String> examples = SchedulePreview.exampleNames();
        try (Stream<Path> files = Files.list(Path.of("examples/schedules"))) {
            assertThat(examples)
                    .containsExactlyInAnyOrderElementsOf(
                            files.map(p -> p.getFileName().toString())
                                    .filter(n -> n.endsWith(".json"))
                                    .toList());
        }
        for (String e : examples) {
            assertThat(tmp.resolve(e.replace(".json", ".svg"))).exists();
        }
        assertThat(r.out()).contains("wrote " + examples.size() + " SVG charts");
        // and drew the runs it read back from the series and alerts topics: one report, every run
        // in it
        assertThat(r.out())
                .containsPattern("report: 7 runs, \\d+ steps, \\d+ alerts -> .*report\\.html");
        String html = Files.readString(tmp.resolve("report.html"));
        for (var run : DemoRuns.runs()) {
            assertThat(html).contains(run.runId());
        }
    }

    @Test
    void shouldOnlyProduceTheDemoRunsStampedNowToAGivenBroker() throws Exception {
        try (io.trainwatch.embedded.EmbeddedKafka kafka =
                io.trainwatch.embedded.EmbeddedKafka.start()) {
            long before = System.currentTimeMillis();
            CliRunner.Result r =
                    CliRunner.run(
                            "demo",
                            "--bootstrap-servers",
                            kafka.bootstrapServers(),
                            "--events-topic",
                            "stack.events",
                            "--rate",
                            "20000");
            assertThat(r.exitCode()).as(r.err()).isZero();
            int n = DemoRuns.records().size();
            assertThat(r.out()).contains("done: " + n + " events sent");
            List<String> values = new java.util.ArrayList<>();
            try (var c =
                    new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(
                            java.util.Map.of(
                                    "bootstrap.servers",
                                    kafka.bootstrapServers(),
                                    "group.id",
                                    "check",
                                    "auto.offset.reset",
                                    "earliest",
                                    "key.deserializer",
                                    org.apache.kafka.common.serialization.StringDeserializer.class
                                            .getName(),
                                    "value.deserializer",
                                    org.apache.kafka.common.serialization.StringDeserializer.class
                                            .getName()))) {
                c.subscribe(List.of("stack.events"));
                long until = System.currentTimeMillis() + 60_000;
                while (values.size() < n && System.currentTimeMillis() < until) {
                    c.poll(java.time.Duration.ofMillis(200))
                            .forEach(rec -> values.add(rec.value()));
                }
            }
            assertThat(values).hasSize(n);
            // event times keep their spacing and end now, so the stack's dashboards (last hours)
            // show the runs
            long last =
                    values.stream()
                            .filter(v -> v.contains("\"time\":"))
                            .map(v -> io.trainwatch.event.JsonReader.parse(v))
                            .filter(j -> j.path("time").isNumber())
                            .mapToLong(j -> j.get("time").asLong())
                            .max()
                            .orElseThrow();
            assertThat(last).isBetween(before, System.currentTimeMillis());
            assertThat(values.stream().filter(v -> v.contains("\"step\":\"twelve\""))).hasSize(1);
        }
    }
}
