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
 * {@code demo}: the README's first command. Until the live Kafka job lands it previews the schedule
 * engine: every bundled example spec (one per supported scheduler) is evaluated, summarised and drawn.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs trainwatch on its embedded defaults. Today: previews the schedule engine on the",
                "bundled example specs (one per scheduler family), printing key LRs and writing one SVG each."})
final class DemoCommand implements Callable<Integer> {
    static final String EXAMPLES = "/examples/schedules/";

    @Option(names = "--out", defaultValue = "trainwatch-demo", paramLabel = "DIR", description = "Where to write the SVGs and index.html. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Optimizer steps to evaluate per schedule. Default: ${DEFAULT-VALUE}.")
    long steps;

    PrintStream console = System.out;

    public Integer call() throws IOException {
        if (steps < 2) {
            throw new UserInputException("--steps must be >= 2, got " + steps);
        }
        List<String> names = exampleNames();
        Files.createDirectories(out);
        console.printf("trainwatch demo: previewing the schedule engine on %d example specs, %d optimizer steps each%n", names.size(), steps);
        console.printf("(the live Kafka monitor joins this demo in a later release; see README)%n%n");
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
