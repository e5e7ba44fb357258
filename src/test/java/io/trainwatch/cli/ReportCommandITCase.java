package io.trainwatch.cli;

import io.trainwatch.SharedData;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code replay} → {@code report} → headless Chromium: real and simulated runs are replayed, the
 * report is opened in a real browser, and what the browser drew (measured by the page's own script
 * into {@code data-rendered} attributes, read back from the dumped DOM) is checked run by run. With
 * scripts blocked the page must keep every chart and paint.
 */
class ReportCommandITCase {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final long BROWSER_TIMEOUT_SECONDS = 120;
    private static final ObjectMapper JSON =
            JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /**
     * NaN/Infinity grad norms; a detectron2 loss spike over 4 launches; 3 param groups; 20,344
     * steps.
     */
    private static final List<String> REAL_RUNS =
            List.of(
                    "hf-unsloth-llama31-fp16-nan-b",
                    "d2-mask2former-multistep-spike",
                    "yolov5-cricket-linear",
                    "nanogpt-speedrun-1b-trapezoid");

    /** A NaN loss from one bad batch, a scheduler stepped per epoch, a healthy run. */
    private static final List<Fault> SIMULATED =
            List.of(Fault.NAN_BAD_BATCH, Fault.LR_STEPPED_PER_EPOCH, Fault.NONE);

    private static final long SEED = 5_000_000L;

    private static final Pattern SECTION =
            Pattern.compile(
                    "<section class=\"run\" id=\"run-\\d+\" data-run-id=\"([^\"]*)\" data-points=\"(\\d+)\" "
                            + "data-alerts=\"(\\d+)\" data-rendered=\"charts=(\\d+) shown=(\\d+)\">");
    private static final Pattern FIGURE =
            Pattern.compile(
                    "<figure class=\"[^\"]*\" data-chart=\"([a-z-]+)\" data-rendered=\"width=(\\d+) height=(\\d+) "
                            + "paths=(\\d+) drawn=(\\d+) markers=(\\d+) nonfinite=(\\d+)\">");

    private record Expected(
            int alerts, boolean nonFiniteLoss, boolean nonFiniteGrad, boolean gradLogged) {}

    @Test
    void shouldDrawOneChartSetPerRunWithEveryAlertMarkedInHeadlessChromium(@TempDir Path tmp)
            throws Exception {
        assertThat(Files.isExecutable(CHROMIUM))
                .as(
                        "headless Chromium is needed at %s for this test: apt-get install -y chromium (.ci/run installs it)",
                        CHROMIUM)
                .isTrue();
        Path events = Files.createDirectories(tmp.resolve("events"));
        importRealRuns(events);
        for (Fault f : SIMULATED) {
            SimulatedRun run = RunSimulator.generate(SEED + f.ordinal(), f);
            Files.write(events.resolve(run.runId() + ".jsonl"), run.events());
        }
        Path alerts = tmp.resolve("alerts.jsonl");
        Path series = tmp.resolve("series.jsonl");
        CliRunner.Result replay =
                CliRunner.run(
                        "replay",
                        "--input",
                        events.toString(),
                        "--output",
                        alerts.toString(),
                        "--series",
                        series.toString());
        assertThat(replay.exitCode()).as(replay.err()).isZero();

        Path report = tmp.resolve("report.html");
        CliRunner.Result r =
                CliRunner.run(
                        "report",
                        "--series",
                        series.toString(),
                        "--alerts",
                        alerts.toString(),
                        "--out",
                        report.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Map<String, Expected> expected = expectations(series, alerts);
        assertThat(expected).hasSizeGreaterThanOrEqualTo(REAL_RUNS.size() + SIMULATED.size());

        Path dom = tmp.resolve("dom.html");
        long domMillis = chromium(tmp, dom, "--dump-dom", report.toUri().toString());
        // scripts off: the same page with a Content-Security-Policy that blocks every script, the
        // inline one included
        // (headless Chromium takes no screenshot with --blink-settings=scriptEnabled=false)
        Path noScript = tmp.resolve("report-no-script.html");
        Files.writeString(
                noScript,
                Files.readString(report)
                        .replaceFirst(
                                "<head>",
                                "<head>\n<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">"));
        Path noScriptDom = tmp.resolve("dom-no-script.html");
        chromium(tmp, noScriptDom, "--dump-dom", noScript.toUri().toString());
        Path png = tmp.resolve("no-script.png");
        long shotMillis =
                chromium(
                        tmp,
                        tmp.resolve("screenshot.out"),
                        "--window-size=1100,3000",
                        "--screenshot=" + png,
                        noScript.toUri().toString());
        System.out.printf(
                "ReportCommandITCase: %s%n  report %,d bytes; chromium --dump-dom %d ms, --screenshot (scripts blocked) %d ms%n",
                r.out().trim(), Files.size(report), domMillis, shotMillis);

        String html = Files.readString(dom, StandardCharsets.UTF_8);
        Matcher body =
                Pattern.compile("<body data-rendered=\"runs=(\\d+) charts=(\\d+)\">").matcher(html);
        assertThat(body.find())
                .as("the page's measuring script ran and wrote its totals on <body>")
                .isTrue();
        assertThat(Integer.parseInt(body.group(1))).isEqualTo(expected.size());
        assertThat(Integer.parseInt(body.group(2))).isEqualTo(4 * expected.size());

        Matcher sections = SECTION.matcher(html);
        Set<String> seen = new HashSet<>();
        int markers = 0;
        while (sections.find()) {
            String runId = sections.group(1);
            Expected e = expected.get(runId);
            assertThat(e).as("section for a run not in the series: " + runId).isNotNull();
            seen.add(runId);
            assertThat(Integer.parseInt(sections.group(3))).as(runId).isEqualTo(e.alerts());
            assertThat(sections.group(4) + "/" + sections.group(5))
                    .as(runId + ": charts/shown")
                    .isEqualTo("4/4");

            int end = html.indexOf("</section>", sections.end());
            Matcher figures = FIGURE.matcher(html.substring(sections.end(), end));
            Map<String, int[]> charts = new TreeMap<>();
            while (figures.find()) {
                int[] m = new int[6];
                for (int i = 0; i < 6; i++) {
                    m[i] = Integer.parseInt(figures.group(i + 2));
                }
                charts.put(figures.group(1), m);
            }
            assertThat(charts).as(runId).containsOnlyKeys("lr", "lr-log", "loss", "grad");
            charts.forEach(
                    (name, m) -> {
                        String what = runId + " " + name;
                        assertThat(m[0]).as(what + " width").isPositive();
                        assertThat(m[1]).as(what + " height").isPositive();
                        assertThat(m[3])
                                .as(what + ": every series path has a drawn length")
                                .isEqualTo(m[2]);
                        assertThat(m[4])
                                .as(what + ": a visible marker per alert")
                                .isEqualTo(e.alerts());
                    });
            assertThat(charts.get("lr")[3]).as(runId + " LR lines").isPositive();
            assertThat(charts.get("lr-log")[3]).as(runId + " LR lines, log scale").isPositive();
            assertThat(charts.get("loss")[3]).as(runId + " loss lines").isPositive();
            assertThat(charts.get("grad")[3] > 0)
                    .as(runId + " grad norm lines")
                    .isEqualTo(e.gradLogged());
            assertThat(charts.get("loss")[5] > 0)
                    .as(runId + " NaN/Inf loss markers")
                    .isEqualTo(e.nonFiniteLoss());
            assertThat(charts.get("grad")[5] > 0)
                    .as(runId + " NaN/Inf grad norm markers")
                    .isEqualTo(e.nonFiniteGrad());
            markers += charts.get("loss")[4];
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(expected.keySet());
        assertThat(markers).as("alert markers drawn").isPositive();
        assertThat(expected.values().stream().filter(Expected::nonFiniteLoss))
                .as("a run with a NaN loss")
                .isNotEmpty();
        assertThat(expected.values().stream().filter(Expected::nonFiniteGrad))
                .as("a run with a NaN grad norm")
                .isNotEmpty();

        String blocked = Files.readString(noScriptDom, StandardCharsets.UTF_8);
        assertThat(blocked)
                .as("the script was blocked")
                .contains("<body>")
                .doesNotContain("<body data-rendered");
        assertThat(count(blocked, "<svg"))
                .as("every chart is still in the page")
                .isEqualTo(4 * expected.size());
        byte[] shot = Files.readAllBytes(png);
        assertThat(shot.length).as("screenshot with scripts blocked").isGreaterThan(20_000);
        assertThat(new String(shot, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    /**
     * Imports the chosen runs of ../shared/data/real-runs as RealRunsTest does, with the schedules
     * runs.json declares.
     */
    private static void importRealRuns(Path events) throws Exception {
        JsonNode index;
        try (InputStream in =
                ReportCommandITCase.class.getResourceAsStream("/real-runs/runs.json")) {
            index = JSON.readTree(in);
        }
        int imported = 0;
        for (JsonNode run : index.get("runs")) {
            String name = run.get("name").asText();
            if (!REAL_RUNS.contains(name)) {
                continue;
            }
            List<String> args =
                    new ArrayList<>(
                            List.of(
                                    "import",
                                    "--format",
                                    run.get("format").asText(),
                                    SharedData.dir()
                                            .resolve("data/real-runs")
                                            .resolve(name)
                                            .resolve(run.get("file").asText())
                                            .toString(),
                                    "--run-id",
                                    name,
                                    "--output",
                                    events.resolve(name + ".jsonl").toString()));
            JsonNode schedule = run.get("schedule");
            if (schedule != null && !schedule.isNull()) {
                Path spec = events.resolveSibling(name + ".schedule.json");
                Files.writeString(spec, schedule.toString());
                args.addAll(List.of("--schedule", spec.toString()));
            }
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(name + ": " + r.err()).isZero();
            imported++;
        }
        assertThat(imported).isEqualTo(REAL_RUNS.size());
    }

    /**
     * Per run, from the JSONL files themselves: how many alerts, and whether loss / grad norm were
     * non-finite or logged.
     */
    private static Map<String, Expected> expectations(Path series, Path alerts) throws Exception {
        Map<String, boolean[]> flags = new HashMap<>();
        for (String line : Files.readAllLines(series)) {
            JsonNode p = JSON.readTree(line);
            boolean[] f = flags.computeIfAbsent(p.get("run_id").asText(), k -> new boolean[3]);
            f[0] |= nonFinite(p.get("loss"));
            f[1] |= nonFinite(p.get("grad_norm"));
            f[2] |= p.hasNonNull("grad_norm") && !nonFinite(p.get("grad_norm"));
        }
        Map<String, Integer> alertCount = new HashMap<>();
        for (String line : Files.readAllLines(alerts)) {
            alertCount.merge(JSON.readTree(line).get("run_id").asText(), 1, Integer::sum);
        }
        Map<String, Expected> out = new TreeMap<>();
        flags.forEach(
                (run, f) ->
                        out.put(
                                run,
                                new Expected(alertCount.getOrDefault(run, 0), f[0], f[1], f[2])));
        return out;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static boolean nonFinite(JsonNode v) {
        return v != null && (v.isTextual() || (v.isNumber() && !Double.isFinite(v.doubleValue())));
    }

    /**
     * Runs headless Chromium on a fresh profile, waits for it (no sleeps) and returns how long it
     * took.
     */
    static long chromium(Path tmp, Path stdout, String... args) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        Path stderr = Files.createTempFile(tmp, "chromium", ".err");
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                CHROMIUM.toString(),
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-quic",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        long start = System.nanoTime();
        Process p =
                new ProcessBuilder(cmd)
                        .redirectOutput(stdout.toFile())
                        .redirectError(stderr.toFile())
                        .start();
        if (!p.waitFor(BROWSER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            fail(
                    "chromium did not finish within "
                            + BROWSER_TIMEOUT_SECONDS
                            + " s: "
                            + cmd
                            + "\n"
                            + Files.readString(stderr));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(p.exitValue())
                .as("chromium exit code; stderr:\n" + Files.readString(stderr))
                .isZero();
        return millis;
    }
}
