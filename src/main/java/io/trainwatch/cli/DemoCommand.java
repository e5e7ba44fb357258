package io.trainwatch.cli;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code demo}: the README's first command. Generates realistic training runs with the faults users lose
 * GPU-days to, replays them through the monitoring pipeline (the same one {@code run} uses on Kafka) and
 * prints every alert as it reads; then previews the schedule engine on the bundled example specs.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs trainwatch on its embedded defaults: six realistic runs (healthy, a corrupted batch, a warmup",
                "blow-up, a gradient explosion, a scheduler stepped per epoch, a resume that resets the scheduler) go",
                "through the monitoring pipeline on a local Flink; every alert is printed. Then the schedule engine",
                "is previewed on the bundled example specs (one SVG per scheduler)."})
final class DemoCommand implements Callable<Integer> {
    /** The runs the demo streams: a fault each, with a fixed seed so the demo is the same every time. */
    static final java.util.List<io.trainwatch.simulate.Fault> DEMO_FAULTS = java.util.List.of(
            io.trainwatch.simulate.Fault.NONE, io.trainwatch.simulate.Fault.NAN_BAD_BATCH, io.trainwatch.simulate.Fault.WARMUP_BLOWUP,
            io.trainwatch.simulate.Fault.GRAD_GROWTH, io.trainwatch.simulate.Fault.LR_STEPPED_PER_EPOCH,
            io.trainwatch.simulate.Fault.LR_RESTARTED_ON_RESUME);
    static final long DEMO_SEED = 20_261_121L;
    static final String EXAMPLES = "/examples/schedules/";

    @Option(names = "--out", defaultValue = "trainwatch-demo", paramLabel = "DIR", description = "Where to write the SVGs and index.html. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Optimizer steps to evaluate per schedule. Default: ${DEFAULT-VALUE}.")
    long steps;

    PrintStream console = System.out;

    public Integer call() throws Exception {
        if (steps < 2) {
            throw new UserInputException("--steps must be >= 2, got " + steps);
        }
        Files.createDirectories(out);
        monitorDemoRuns();
        List<String> names = exampleNames();
        console.printf("%n[2/2] the schedule engine on %d example specs, %d optimizer steps each%n", names.size(), steps);
        console.printf(Locale.ROOT, "%-3s %-30s %-28s %12s %12s %12s %12s%n", "#", "example", "scheduler", "lr@0", "lr@10%", "lr@50%", "lr@end");
        StringBuilder html = new StringBuilder("<!doctype html><meta charset=\"utf-8\"><title>trainwatch schedules</title><h1>trainwatch: example schedules</h1>\n");
        int i = 0;
        for (String name : names) {
            i++;
            String json = resource(EXAMPLES + name);
            DeclaredSchedule s = ScheduleSpec.parse(json);
            String base = name.replace(".json", "");
            Files.writeString(out.resolve(base + ".svg"), ScheduleCommand.chart(s, base, steps).render());
            html.append("<h2>").append(base).append("</h2><pre>").append(json.replace("<", "&lt;")).append("</pre><img src=\"").append(base).append(".svg\">\n");
            console.printf(Locale.ROOT, "%-3d %-30s %-28s %12s %12s %12s %12s%n", i, base, s.scheduler() + (s.adaptive() ? " (range)" : ""),
                    fmt(s, 0), fmt(s, steps / 10), fmt(s, steps / 2), fmt(s, steps - 1));
        }
        Files.writeString(out.resolve("index.html"), html.toString());
        console.printf("%nwrote %d SVG charts and %s%n", names.size(), out.resolve("index.html").toAbsolutePath());
        console.printf("try: java -jar target/trainwatch.jar schedule --spec examples/schedules/hf-cosine.json --steps 20%n");
        return 0;
    }

    /** Part 1: simulated runs through the pipeline, alerts printed as they read. */
    private void monitorDemoRuns() throws Exception {
        List<String> events = new ArrayList<>();
        console.printf("[1/2] generating %d runs and replaying them through the monitoring pipeline (local Flink, parallelism 2)%n", DEMO_FAULTS.size());
        List<List<String>> runs = new ArrayList<>();
        for (io.trainwatch.simulate.Fault f : DEMO_FAULTS) {
            io.trainwatch.simulate.SimulatedRun run = io.trainwatch.simulate.RunSimulator.generate(DEMO_SEED + f.ordinal(), f);
            runs.add(run.events());
            console.printf("      %-40s %5d events  %s%n", run.runId(), run.events().size(), run.description());
        }
        // interleaved as a shared Kafka topic would carry them
        for (int i = 0, more = 1; more > 0; i++) {
            more = 0;
            for (List<String> r : runs) {
                if (i < r.size()) {
                    events.add(r.get(i));
                    more++;
                }
            }
        }
        Path input = out.resolve("events.jsonl");
        Files.write(input, events);
        ReplayCommand replay = new ReplayCommand();
        replay.input = input;
        replay.output = out.resolve("alerts.jsonl");
        replay.series = out.resolve("series.jsonl");
        replay.deadLetter = out.resolve("dead-letter.jsonl");
        replay.parallelism = 2;
        replay.call();
        console.println();
        for (String line : Files.readAllLines(replay.output)) {
            var a = io.trainwatch.event.JsonOutput.parse(line);
            if (!"open".equals(a.path("status").asText()) && !"update".equals(a.path("status").asText())) {
                continue;
            }
            console.printf("  %-9s %-19s %-8s %-36s step %-5d %s%n", a.path("status").asText().toUpperCase(Locale.ROOT), a.path("kind").asText(),
                    a.path("severity").asText(), a.path("run_id").asText(), a.path("onset_step").asLong(), a.path("message").asText());
            console.printf("            why: %s%n", a.path("diagnosis").asText());
            var s = a.path("suggestion");
            console.printf("            fix: %s%s%n", s.path("action").asText(), s.has("change") ? " - " + s.path("change").asText() : "");
        }
        console.printf("%n  files: %s (events), %s (alerts), %s (per-step series)%n", input, replay.output, replay.series);
    }

    private static String fmt(DeclaredSchedule s, long step) {
        if (s.adaptive()) {
            return String.format(Locale.ROOT, "%.2e..%.2e", s.lowestLr(0, step), s.highestLr(0, step)).replace("e-0", "e-");
        }
        return String.format(Locale.ROOT, "%.4e", s.lr(0, step));
    }

    static List<String> exampleNames() throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : resource(EXAMPLES + "index.txt").split("\n")) {
            if (!line.isBlank()) {
                names.add(line.trim());
            }
        }
        return names;
    }

    static String resource(String path) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing bundled resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
