package io.trainwatch.demo;

import io.trainwatch.report.ScheduleChart;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's second part: the schedule engine on the bundled example specs, a table of LRs and one
 * SVG chart each.
 */
public final class SchedulePreview {
    static final String EXAMPLES = "/examples/schedules/";

    private SchedulePreview() {}

    /**
     * Writes {@code out}/NAME.svg per example and {@code out}/index.html; prints the table to
     * {@code console}.
     */
    public static void write(Path out, long steps, PrintStream console) throws IOException {
        List<String> names = exampleNames();
        console.printf(
                "%n[2/2] the schedule engine on %d example specs, %d optimizer steps each%n",
                names.size(), steps);
        console.printf(
                Locale.ROOT,
                "%-3s %-30s %-28s %12s %12s %12s %12s%n",
                "#",
                "example",
                "scheduler",
                "lr@0",
                "lr@10%",
                "lr@50%",
                "lr@end");
        StringBuilder html =
                new StringBuilder(
                        "<!doctype html><meta charset=\"utf-8\"><title>trainwatch schedules</title><h1>trainwatch: example schedules</h1>\n");
        int i = 0;
        for (String name : names) {
            i++;
            String json = resource(EXAMPLES + name);
            DeclaredSchedule s = ScheduleSpec.parse(json);
            String base = name.replace(".json", "");
            Files.writeString(
                    out.resolve(base + ".svg"), ScheduleChart.of(s, base, steps).render());
            html.append("<h2>")
                    .append(base)
                    .append("</h2><pre>")
                    .append(json.replace("<", "&lt;"))
                    .append("</pre><img src=\"")
                    .append(base)
                    .append(".svg\">\n");
            console.printf(
                    Locale.ROOT,
                    "%-3d %-30s %-28s %12s %12s %12s %12s%n",
                    i,
                    base,
                    s.scheduler() + (s.adaptive() ? " (range)" : ""),
                    fmt(s, 0),
                    fmt(s, steps / 10),
                    fmt(s, steps / 2),
                    fmt(s, steps - 1));
        }
        Files.writeString(out.resolve("index.html"), html.toString());
        console.printf(
                "%nwrote %d SVG charts and %s%n",
                names.size(), out.resolve("index.html").toAbsolutePath());
        console.printf(
                "try: java -jar target/trainwatch.jar schedule --spec examples/schedules/hf-cosine.json --steps 20%n");
    }

    private static String fmt(DeclaredSchedule s, long step) {
        if (s.adaptive()) {
            return String.format(
                            Locale.ROOT, "%.2e..%.2e", s.lowestLr(0, step), s.highestLr(0, step))
                    .replace("e-0", "e-");
        }
        return String.format(Locale.ROOT, "%.4e", s.lr(0, step));
    }

    /** The bundled examples, in the order of their index. */
    public static List<String> exampleNames() throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : resource(EXAMPLES + "index.txt").split("\n")) {
            if (!line.isBlank()) {
                names.add(line.trim());
            }
        }
        return names;
    }

    static String resource(String path) throws IOException {
        try (InputStream in = SchedulePreview.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing bundled resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
