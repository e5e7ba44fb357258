package io.trainwatch.report;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Renders {@link ReportData} as one self-contained HTML page: no external scripts, fonts, styles or
 * images; charts are inline SVG ({@link SvgLineChart}). A summary (runs, steps, alerts by kind, one
 * line per run), then for each run: actual vs scheduled LR per param group (linear, and log scale
 * behind a CSS-only toggle), loss with its running mean, grad norm with the suggested clip — every
 * chart with a numbered marker at each alert's step whose tooltip gives kind, severity, status,
 * message and fix — and the run's alert table.
 *
 * <p>The page needs no script: the toggle is two radio buttons and CSS, tooltips are SVG {@code
 * <title>}s. One small inline script only measures what the browser drew and writes it into {@code
 * data-rendered} attributes (per chart, per run, on {@code <body>}), for tests that read the
 * rendered DOM.
 */
public final class HtmlReport {
    /** The alert kinds in the order the README lists them; unknown kinds follow, sorted. */
    private static final List<String> KIND_ORDER =
            List.of(
                    "NON_FINITE",
                    "LR_MISMATCH",
                    "WARMUP_SPIKE",
                    "LOSS_SPIKE",
                    "GRAD_EXPLOSION",
                    "DIVERGENCE",
                    "STALL",
                    "VANISHING_GRADIENTS");

    private static final List<String> SEVERITIES = List.of("critical", "warning", "info");
    private static final String RESOLVED_COLOR = "#2e7d32";

    private HtmlReport() {}

    /** Writes the page; {@code sources} says where the data came from (shown under the title). */
    public static void write(ReportData data, String sources, Writer out) throws IOException {
        out.write(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>trainwatch report</title>\n");
        out.write(STYLE);
        out.write("</head>\n<body>\n<h1>trainwatch report</h1>\n");
        out.write("<p class=\"sources\">" + esc(sources) + "</p>\n");
        summary(data, out);
        int index = 0;
        for (ReportData.Run run : data.runs()) {
            run(run, ++index, out);
        }
        out.write(MEASURE_SCRIPT);
        out.write("</body>\n</html>\n");
    }

    private static void summary(ReportData data, Writer out) throws IOException {
        out.write("<section id=\"summary\">\n<h2>Summary</h2>\n");
        out.write(
                fmt(
                        "<p class=\"totals\"><b>%d</b> run%s · <b>%d</b> logged steps · <b>%d</b> alerts",
                        data.runs().size(),
                        data.runs().size() == 1 ? "" : "s",
                        data.steps(),
                        data.alerts()));
        Map<String, Integer> bySeverity = new LinkedHashMap<>();
        data.runs()
                .forEach(
                        r ->
                                r.alerts()
                                        .forEach(
                                                a ->
                                                        bySeverity.merge(
                                                                a.severity(), 1, Integer::sum)));
        if (!bySeverity.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (String s : sortedKeys(bySeverity.keySet(), SEVERITIES)) {
                parts.add(
                        "<span class=\"sev "
                                + esc(s)
                                + "\">"
                                + esc(s)
                                + "</span> "
                                + bySeverity.get(s));
            }
            out.write(" (" + String.join(", ", parts) + ")");
        }
        out.write("</p>\n");
        if (data.runs().isEmpty()) {
            out.write("<p>The series holds no runs.</p>\n</section>\n");
            return;
        }

        // alerts by kind: alert records per status, and how many runs raised the kind
        Map<String, int[]> byKind = new LinkedHashMap<>();
        Map<String, Set<String>> runsByKind = new LinkedHashMap<>();
        for (ReportData.Run r : data.runs()) {
            for (ReportAlert a : r.alerts()) {
                int[] c = byKind.computeIfAbsent(a.kind(), k -> new int[4]);
                c[0]++;
                switch (a.status()) {
                    case "open" -> c[1]++;
                    case "update" -> c[2]++;
                    case "resolved" -> c[3]++;
                    default -> {}
                }
                runsByKind.computeIfAbsent(a.kind(), k -> new TreeSet<>()).add(r.runId());
            }
        }
        if (!byKind.isEmpty()) {
            out.write(
                    "<table class=\"by-kind\">\n<caption>Alerts by kind</caption>\n"
                            + "<tr><th>kind</th><th>alerts</th><th>open</th><th>update</th><th>resolved</th><th>runs</th></tr>\n");
            for (String k : sortedKeys(byKind.keySet(), KIND_ORDER)) {
                int[] c = byKind.get(k);
                out.write(
                        fmt(
                                "<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>%n",
                                esc(k), c[0], c[1], c[2], c[3], runsByKind.get(k).size()));
            }
            out.write("</table>\n");
        }

        out.write(
                "<table class=\"runs\">\n<caption>Runs</caption>\n"
                        + "<tr><th>run</th><th>logged steps</th><th>step range</th><th>resumes</th><th>alerts</th><th>worst</th><th>kinds</th></tr>\n");
        int index = 0;
        for (ReportData.Run r : data.runs()) {
            index++;
            String worst = "";
            for (String s : SEVERITIES) {
                if (r.alerts().stream()
                        .anyMatch(a -> a.severity().equals(s) && !a.status().equals("resolved"))) {
                    worst = s;
                    break;
                }
            }
            Set<String> kinds = new TreeSet<>();
            r.alerts().forEach(a -> kinds.add(a.kind()));
            out.write(
                    fmt(
                            "<tr><td><a href=\"#run-%d\">%s</a></td><td>%d</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td></tr>%n",
                            index,
                            esc(r.runId()),
                            r.points().size(),
                            r.points().isEmpty() ? "" : r.firstStep() + "–" + r.lastStep(),
                            r.resumes(),
                            r.alerts().size(),
                            worst.isEmpty()
                                    ? ""
                                    : "<span class=\"sev " + worst + "\">" + worst + "</span>",
                            esc(String.join(", ", sortedKeys(kinds, KIND_ORDER)))));
        }
        out.write("</table>\n</section>\n");
    }

    private static void run(ReportData.Run run, int index, Writer out) throws IOException {
        out.write(
                fmt(
                        "<section class=\"run\" id=\"run-%d\" data-run-id=\"%s\" data-points=\"%d\" data-alerts=\"%d\">%n",
                        index, esc(run.runId()), run.points().size(), run.alerts().size()));
        out.write("<h2>" + esc(run.runId()) + "</h2>\n");
        if (run.points().isEmpty()) {
            out.write("<p class=\"facts\">No series points for this run (alerts only).</p>\n");
        } else {
            out.write(
                    fmt(
                            "<p class=\"facts\">%d logged steps, steps %d–%d%s%s; %d alert%s.</p>%n",
                            run.points().size(),
                            run.firstStep(),
                            run.lastStep(),
                            run.resumes() == 0
                                    ? ""
                                    : ", "
                                            + run.resumes()
                                            + " resume"
                                            + (run.resumes() == 1 ? "" : "s")
                                            + " (the step went back)",
                            run.paramGroups() > 1 ? ", " + run.paramGroups() + " param groups" : "",
                            run.alerts().size(),
                            run.alerts().size() == 1 ? "" : "s"));
            out.write("<div class=\"lr-toggle\">\n");
            out.write(
                    fmt(
                            "<input type=\"radio\" name=\"scale-%1$d\" id=\"scale-%1$d-lin\" class=\"lin\" checked><label for=\"scale-%1$d-lin\">linear</label>%n"
                                    + "<input type=\"radio\" name=\"scale-%1$d\" id=\"scale-%1$d-log\" class=\"log\"><label for=\"scale-%1$d-log\">log scale</label>%n",
                            index));
            figure(out, "chart lin", "lr", lrChart(run, false));
            figure(out, "chart log", "lr-log", lrChart(run, true));
            out.write("</div>\n");
            figure(out, "chart", "loss", lossChart(run));
            figure(out, "chart", "grad", gradChart(run));
        }
        alertTable(run, out);
        out.write("</section>\n");
    }

    private static void figure(Writer out, String cssClass, String name, SvgLineChart chart)
            throws IOException {
        out.write("<figure class=\"" + cssClass + "\" data-chart=\"" + name + "\">\n");
        out.write(chart.render());
        out.write("</figure>\n");
    }

    private static SvgLineChart lrChart(ReportData.Run run, boolean log) {
        SvgLineChart c =
                runChart(
                                run,
                                log
                                        ? "learning rate, actual vs scheduled (log scale)"
                                        : "learning rate, actual vs scheduled",
                                "learning rate",
                                "no learning rate logged and no schedule declared")
                        .logScale(log);
        int groups = run.paramGroups();
        for (int g = 0; g < groups; g++) {
            final int group = g;
            String prefix = groups == 1 ? "" : "group " + g + " ";
            addSeries(c, run, prefix + "actual", g, false, p -> at(p.actualLr(), group));
            addSeries(c, run, prefix + "scheduled", g, true, p -> at(p.scheduledLr(), group));
        }
        return c;
    }

    private static SvgLineChart lossChart(ReportData.Run run) {
        SvgLineChart c = runChart(run, "loss and its running mean", "loss", "no loss logged");
        addSeries(c, run, "loss", 0, false, StepPoint::loss);
        addSeries(c, run, "running mean", 2, false, StepPoint::lossMean);
        return c;
    }

    private static SvgLineChart gradChart(ReportData.Run run) {
        SvgLineChart c =
                runChart(
                        run,
                        "gradient norm and suggested clip",
                        "grad norm",
                        "no gradient norm logged");
        addSeries(c, run, "grad norm", 0, false, StepPoint::gradNorm);
        addSeries(c, run, "suggested clip (max_norm)", 1, true, StepPoint::suggestedClip);
        return c;
    }

    /** A chart of the run over its optimizer steps, with the x range and alert markers. */
    private static SvgLineChart runChart(
            ReportData.Run run, String title, String yLabel, String emptyText) {
        SvgLineChart c = new SvgLineChart(title, "optimizer step", yLabel).emptyText(emptyText);
        markersAndRange(c, run);
        return c;
    }

    private static Double at(double[] values, int group) {
        return values == null || group >= values.length ? null : values[group];
    }

    /** A series only if the run logged it at all; unlogged steps (null) are skipped, not gaps. */
    private static void addSeries(
            SvgLineChart c,
            ReportData.Run run,
            String name,
            int color,
            boolean dashed,
            Function<StepPoint, Double> value) {
        if (run.points().stream().allMatch(p -> value.apply(p) == null)) {
            return;
        }
        int s = c.addSeries(name, color, dashed);
        for (StepPoint p : run.points()) {
            Double v = value.apply(p);
            if (v != null) {
                c.add(s, p.step(), v);
            }
        }
    }

    /**
     * Every chart of a run: the same x axis (so markers line up from chart to chart) and a marker
     * per alert.
     */
    private static void markersAndRange(SvgLineChart c, ReportData.Run run) {
        long min = run.firstStep();
        long max = run.lastStep();
        for (ReportAlert a : run.alerts()) {
            min = Math.min(min, a.step());
            max = Math.max(max, a.step());
        }
        c.xRange(min, max);
        int i = 0;
        for (ReportAlert a : run.alerts()) {
            i++;
            c.addMarker(
                    new SvgLineChart.Marker(
                            a.step(),
                            color(a),
                            Integer.toString(i),
                            tooltip(i, a),
                            "kind-"
                                    + a.kind()
                                    + " severity-"
                                    + a.severity()
                                    + " status-"
                                    + a.status()));
        }
    }

    private static String color(ReportAlert a) {
        if (a.status().equals("resolved")) {
            return RESOLVED_COLOR;
        }
        return switch (a.severity()) {
            case "critical" -> "#c62828";
            case "warning" -> "#ef6c00";
            default -> "#1565c0";
        };
    }

    /**
     * kind, severity, status, step, message, fix: what a reader needs without looking at the table.
     */
    static String tooltip(int index, ReportAlert a) {
        StringBuilder t = new StringBuilder();
        t.append('#')
                .append(index)
                .append(' ')
                .append(a.kind())
                .append(" · ")
                .append(a.severity())
                .append(" · ")
                .append(a.status())
                .append(" · step ")
                .append(a.displayStep());
        if (a.onsetStep() != a.step()) {
            t.append(" (onset ").append(a.displayOnsetStep()).append(')');
        }
        if (!a.message().isEmpty()) {
            t.append('\n').append(a.message());
        }
        if (a.suggestion().action() != null) {
            t.append("\nfix: ").append(a.suggestion().summary());
        }
        if (a.suggestion().change() != null) {
            t.append("\nchange: ").append(a.suggestion().change());
        }
        return t.toString();
    }

    /**
     * One row per incident: the kind that opened it, its worst severity, where it opened, how many
     * alerts it counted, its latest status and message, and its alerts' numbers in the alert table.
     */
    static void incidentTable(ReportData.Run run, Writer out) throws IOException {
        java.util.Map<String, List<Integer>> members = new java.util.LinkedHashMap<>();
        List<ReportAlert> alerts = run.alerts();
        for (int i = 0; i < alerts.size(); i++) {
            members.computeIfAbsent(alerts.get(i).incident(), k -> new ArrayList<>()).add(i + 1);
        }
        out.write(
                "<table class=\"incidents\">\n<caption>Incidents (related alerts of one episode)</caption>\n"
                        + "<tr><th>opened at step</th><th>kind</th><th>severity</th><th>occurrences</th><th>status</th><th>latest</th><th>alerts #</th></tr>\n");
        for (var e : members.entrySet()) {
            ReportAlert first = alerts.get(e.getValue().get(0) - 1);
            ReportAlert latest = first;
            String severity = "info";
            int occurrences = 1;
            for (int n : e.getValue()) {
                ReportAlert a = alerts.get(n - 1);
                if (rank(a.severity()) > rank(severity)) {
                    severity = a.severity();
                }
                occurrences = Math.max(occurrences, a.occurrences());
                if (a.alertId() != null && a.alertId().equals(e.getKey())) {
                    latest = a;
                }
            }
            StringBuilder numbers = new StringBuilder();
            for (int n : e.getValue()) {
                numbers.append(numbers.length() == 0 ? "" : ", ").append(n);
            }
            out.write(
                    fmt(
                            "<tr class=\"incident\"><td>%d</td><td>%s</td><td><span class=\"sev %s\">%s</span></td><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>%n",
                            first.onsetStep(),
                            esc(first.kind()),
                            esc(severity),
                            esc(severity),
                            occurrences,
                            esc(latest.status()),
                            esc(latest.message()),
                            numbers));
        }
        out.write("</table>\n");
    }

    private static int rank(String severity) {
        return switch (severity) {
            case "critical" -> 2;
            case "warning" -> 1;
            default -> 0;
        };
    }

    private static void alertTable(ReportData.Run run, Writer out) throws IOException {
        if (run.alerts().isEmpty()) {
            out.write("<p class=\"no-alerts\">No alerts.</p>\n");
            return;
        }
        incidentTable(run, out);
        out.write(
                "<table class=\"alerts\">\n<caption>Alerts (numbers as on the charts)</caption>\n"
                        + "<tr><th>#</th><th>step</th><th>kind</th><th>severity</th><th>status</th><th>what happened</th><th>suggested fix</th></tr>\n");
        int i = 0;
        for (ReportAlert a : run.alerts()) {
            i++;
            out.write(
                    fmt(
                            "<tr class=\"alert\" data-step=\"%d\"><td>%d</td><td>%d%s</td><td>%s</td><td><span class=\"sev %s\">%s</span></td><td>%s</td>"
                                    + "<td><div class=\"msg\">%s</div><div class=\"diag\">%s</div></td><td><div class=\"action\">%s</div><div class=\"change\">%s</div></td></tr>%n",
                            a.step(),
                            i,
                            a.displayStep(),
                            (a.onsetStep() == a.step()
                                            ? ""
                                            : "<br><small>onset "
                                                    + a.displayOnsetStep()
                                                    + "</small>")
                                    // the charts' x axis counts optimizer steps
                                    + (a.displayStep() == a.step()
                                            ? ""
                                            : "<br><small>optimizer step " + a.step() + "</small>"),
                            esc(a.kind()),
                            esc(a.severity()),
                            esc(a.severity()),
                            esc(a.status()),
                            esc(a.message()),
                            esc(a.diagnosis()),
                            esc(a.suggestion().summary()),
                            esc(a.suggestion().change() == null ? "" : a.suggestion().change())));
        }
        out.write("</table>\n");
    }

    private static List<String> sortedKeys(Set<String> keys, List<String> order) {
        List<String> out = new ArrayList<>();
        for (String k : order) {
            if (keys.contains(k)) {
                out.add(k);
            }
        }
        new TreeSet<>(keys).stream().filter(k -> !order.contains(k)).forEach(out::add);
        return out;
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    private static String esc(String s) {
        return SvgLineChart.escape(s);
    }

    private static final String STYLE =
            """
            <style>
            body { font-family: sans-serif; margin: 1.5em auto; max-width: 1000px; padding: 0 1em; color: #222; }
            h1 { margin-bottom: 0.2em; }
            .sources { color: #666; margin-top: 0; }
            table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; width: 100%; }
            caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
            th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
            th { background: #f2f2f2; }
            section.run { border-top: 2px solid #888; margin-top: 2em; }
            figure { margin: 0.6em 0; }
            figure svg { width: 100%; height: auto; display: block; }
            .facts { color: #444; }
            .sev { padding: 0 4px; border-radius: 3px; color: white; font-size: 12px; }
            .sev.critical { background: #c62828; } .sev.warning { background: #ef6c00; } .sev.info { background: #1565c0; }
            .diag, .change { color: #555; font-size: 12px; margin-top: 2px; }
            .action { font-family: monospace; }
            .lr-toggle label { margin-right: 1em; font-size: 13px; }
            .lr-toggle input.log:checked ~ figure.lin, .lr-toggle input.lin:checked ~ figure.log { display: none; }
            g.alert-marker:hover line:first-child { stroke-width: 2.5; }
            </style>
            """;

    /**
     * Measures what the browser drew; only writes data-rendered attributes (the page works without
     * it).
     */
    private static final String MEASURE_SCRIPT =
            """
            <script>
            (function () {
              function visible(el) { var r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }
              function measure(fig) {
                var svg = fig.querySelector('svg');
                var box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
                var paths = fig.querySelectorAll('path.series'), drawn = 0, i;
                for (i = 0; i < paths.length; i++) {
                  var b = paths[i].getBBox();
                  if (paths[i].getTotalLength() > 0 && (b.width > 0 || b.height > 0)) { drawn++; }
                }
                var markers = 0, ms = fig.querySelectorAll('g.alert-marker');
                for (i = 0; i < ms.length; i++) { if (visible(ms[i])) { markers++; } }
                var nonFinite = 0, nf = fig.querySelectorAll('g.nonfinite');
                for (i = 0; i < nf.length; i++) { if (visible(nf[i])) { nonFinite++; } }
                fig.setAttribute('data-rendered', 'width=' + Math.round(box.width) + ' height=' + Math.round(box.height)
                  + ' paths=' + paths.length + ' drawn=' + drawn + ' markers=' + markers + ' nonfinite=' + nonFinite);
                return box.width > 0 && box.height > 0 ? 1 : 0;
              }
              var runs = document.querySelectorAll('section.run'), charts = 0;
              for (var r = 0; r < runs.length; r++) {
                var sec = runs[r], shown = 0;
                var figs = sec.querySelectorAll('figure.chart');
                var lin = sec.querySelector('.lr-toggle input.lin'), log = sec.querySelector('.lr-toggle input.log');
                var wasLog = log && log.checked;
                for (var f = 0; f < figs.length; f++) {
                  // show each side of the linear/log toggle while measuring it, then put the toggle back
                  if (figs[f].classList.contains('log') && log) { log.checked = true; }
                  if (figs[f].classList.contains('lin') && lin) { lin.checked = true; }
                  shown += measure(figs[f]);
                }
                if (lin && log) { (wasLog ? log : lin).checked = true; }
                sec.setAttribute('data-rendered', 'charts=' + figs.length + ' shown=' + shown);
                charts += shown;
              }
              document.body.setAttribute('data-rendered', 'runs=' + runs.length + ' charts=' + charts);
            })();
            </script>
            """;
}
