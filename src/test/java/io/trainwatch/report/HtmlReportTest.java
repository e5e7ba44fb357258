package io.trainwatch.report;

import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class HtmlReportTest {
    private static final int LONG_RUN_STEPS = 20_000;

    @Test
    void shouldDrawEveryRunWithAMarkerPerAlertOnEveryChartAndNothingExternal() throws Exception {
        String html = render(data());

        assertThat(html).startsWith("<!DOCTYPE html>");
        // self-contained: no fetched resource of any kind; links only to anchors in the page
        assertThat(html).doesNotContainPattern("(?i)<link|\\ssrc\\s*=|url\\(|@import|@font-face");
        assertThat(html).doesNotContainPattern("href=\"[^#]");
        assertThat(count(html, "<script")).as("only the measuring script").isEqualTo(1);

        assertThat(count(html, "<section class=\"run\"")).isEqualTo(2);
        String longRun = section(html, "long-run");
        assertThat(count(longRun, "<figure")).isEqualTo(4);
        assertThat(count(longRun, "<g class=\"alert-marker"))
                .as("2 alerts on each of 4 charts")
                .isEqualTo(8);
        assertThat(longRun)
                .contains(
                        "data-chart=\"lr\"",
                        "data-chart=\"lr-log\"",
                        "data-chart=\"loss\"",
                        "data-chart=\"grad\"");
        assertThat(longRun)
                .contains(
                        "data-name=\"group 0 actual\"",
                        "data-name=\"group 0 scheduled\" data-points=\"20000\"",
                        "data-name=\"group 1 scheduled\"",
                        "data-name=\"running mean\"",
                        "data-name=\"suggested clip (max_norm)\"");
        // linear/log toggle without a script
        assertThat(html).contains("input.log:checked ~ figure.lin");
        assertThat(count(longRun, "<input type=\"radio\"")).isEqualTo(2);

        assertThat(count(html, "<tr class=\"alert\"")).isEqualTo(2);
        assertThat(html).contains("<b>2</b> runs · <b>20010</b> logged steps · <b>2</b> alerts");
        assertThat(section(html, "short-run")).contains("no gradient norm logged", "No alerts.");
    }

    @Test
    void shouldShowOneRowPerIncidentWithItsCountWorstSeverityAndAlerts() throws Exception {
        ReportData.Builder b = new ReportData.Builder();
        b.addPoint("spiky", new StepPoint(0, null, new double[] {0.1}, null, 1.0, 1.0, 1.0, null));
        String id = "spiky/GRAD_EXPLOSION/100";
        b.addAlert(alert(id, id, "GRAD_EXPLOSION", "warning", "open", 100, 1));
        b.addAlert(alert(id, id, "GRAD_EXPLOSION", "warning", "update", 180, 2));
        b.addAlert(alert("spiky/NON_FINITE/300", id, "NON_FINITE", "critical", "open", 300, 3));
        b.addAlert(alert(id, id, "GRAD_EXPLOSION", "critical", "update", 400, 16));
        b.addAlert(alert("spiky/LR_MISMATCH/50", null, "LR_MISMATCH", "warning", "open", 50, 0));
        String html = render(b.build());
        assertThat(count(html, "<tr class=\"incident\"")).isEqualTo(2);
        assertThat(html)
                .contains(
                        "<tr class=\"incident\"><td>100</td><td>GRAD_EXPLOSION</td><td><span class=\"sev critical\">critical</span></td><td>16</td><td>update</td>");
        assertThat(count(html, "<tr class=\"alert\"")).isEqualTo(5);
    }

    private static ReportAlert alert(
            String alertId,
            String incidentId,
            String kind,
            String severity,
            String status,
            long step,
            int occurrences) {
        return new ReportAlert(
                alertId,
                "spiky",
                kind,
                severity,
                status,
                step,
                step,
                step,
                kind + " at " + step,
                "",
                ReportAlert.Suggestion.NONE,
                incidentId,
                occurrences);
    }

    @Test
    void shouldGiveEachMarkerATooltipWithKindSeverityStatusMessageAndFix() throws Exception {
        String html = render(data());
        assertThat(html)
                .contains(
                        "<title>#1 NON_FINITE · critical · open · step 7001\n"
                                + "Step 7001: loss is NaN &lt;script&gt;alert(1)&lt;/script&gt;\n"
                                + "fix: clip_grad_norm (max_norm 1.2, rewind_to_step 6999)\n"
                                + "change: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.2)</title>");
        assertThat(html)
                .contains("<title>#2 LOSS_SPIKE · warning · resolved · step 15000 (onset 14990)");
        assertThat(html).doesNotContain("<script>alert(1)");
    }

    @Test
    void shouldNameTheDisplayStepInTheAlertTableAndTheOptimizerStepWhereTheyDiffer()
            throws Exception {
        String html = render(data());
        // drawn at the optimizer step (the x axis), named as the run's logs number it
        assertThat(html)
                .contains(
                        "<tr class=\"alert\" data-step=\"7000\"><td>1</td><td>7001<br><small>optimizer step 7000</small></td>",
                        "<tr class=\"alert\" data-step=\"15000\"><td>2</td><td>15000<br><small>onset 14990</small></td>");
    }

    @Test
    void shouldShowNonFiniteStepsAsMarkersWithoutBreakingTheScale() throws Exception {
        String html = render(data());
        String loss = figure(section(html, "long-run"), "loss");
        assertThat(loss)
                .contains(
                        "<title>loss is NaN at step 7000</title>",
                        "<title>loss is Infinity at step 7001</title>");
        // the y axis spans the finite values only: the spike of 50 at an alert step is the top
        assertThat(loss).contains(">50</text>").doesNotContain(">NaN</text>", ">Infinity</text>");
        assertThat(html).doesNotContain("NaN,", ",NaN", "Infinity,");
        String gradLog = figure(section(html, "long-run"), "grad");
        assertThat(gradLog).contains("grad norm is NaN at step 7000");
    }

    @Test
    void shouldStayLightForTwentyThousandSteps() throws Exception {
        String html = render(data());
        String longRun = section(html, "long-run");
        assertThat(html.length()).as("page size").isLessThan(150_000);
        Matcher m =
                Pattern.compile(
                                "<path class=\"series\" data-name=\"([^\"]*)\" data-points=\"(\\d+)\"[^>]* d=\"([^\"]*)\"")
                        .matcher(longRun);
        int paths = 0;
        while (m.find()) {
            paths++;
            int vertices = m.group(3).split("[ML]").length - 1;
            assertThat(vertices)
                    .as(m.group(1))
                    .isPositive()
                    .isLessThanOrEqualTo(4 * 870 + 2 * 2 + 10);
            // every logged value counted, however few are drawn (the clip is suggested from step 50
            // on)
            assertThat(Integer.parseInt(m.group(2)))
                    .isEqualTo(
                            m.group(1).startsWith("suggested clip")
                                    ? LONG_RUN_STEPS - 50
                                    : LONG_RUN_STEPS);
        }
        assertThat(paths).isEqualTo(4 + 4 + 2 + 2);
        System.out.printf("HtmlReportTest: 20,010 steps, 2 runs -> %,d bytes%n", html.length());
    }

    private static ReportData data() {
        ReportData.Builder b = new ReportData.Builder();
        SplittableRandom rnd = new SplittableRandom(7);
        double mean = 0;
        for (int s = 0; s < LONG_RUN_STEPS; s++) {
            double loss =
                    s == 7000
                            ? Double.NaN
                            : s == 7001
                                    ? Double.POSITIVE_INFINITY
                                    : s == 15000
                                            ? 50
                                            : 2
                                                    + 3 * Math.exp(-s / 3000.0)
                                                    + 0.3 * rnd.nextDouble();
            mean = Double.isFinite(loss) ? (s == 0 ? loss : 0.99 * mean + 0.01 * loss) : mean;
            double lr =
                    1e-4
                            * Math.min(1, s / 500.0)
                            * (1 + Math.cos(Math.PI * s / LONG_RUN_STEPS))
                            / 2;
            b.addPoint(
                    "long-run",
                    new StepPoint(
                            s,
                            null,
                            new double[] {lr * 1.01, lr * 10},
                            new double[] {lr, lr * 10},
                            loss,
                            mean,
                            s == 7000 ? Double.NaN : Math.exp(rnd.nextGaussian() * 0.2),
                            s < 50 ? null : 2.5));
        }
        for (int s = 0; s < 10; s++) {
            b.addPoint(
                    "short-run",
                    new StepPoint(
                            s, null, new double[] {0.1}, null, 1.0 / (s + 1), 1.0, null, null));
        }
        Map<String, String> nums = new LinkedHashMap<>();
        nums.put("max_norm", "1.2");
        nums.put("rewind_to_step", "6999");
        b.addAlert(
                new ReportAlert(
                        "long-run/NON_FINITE/7000",
                        "long-run",
                        "NON_FINITE",
                        "critical",
                        "open",
                        7000,
                        7001, // a run whose logs count from 1 (HF)
                        7000,
                        "Step 7001: loss is NaN <script>alert(1)</script>",
                        "suspect data",
                        new ReportAlert.Suggestion(
                                "clip_grad_norm",
                                nums,
                                "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.2)"),
                        null,
                        0));
        b.addAlert(
                new ReportAlert(
                        "long-run/LOSS_SPIKE/14990",
                        "long-run",
                        "LOSS_SPIKE",
                        "warning",
                        "resolved",
                        15000,
                        15000,
                        14990,
                        "no loss spike for 10 steps",
                        "condition cleared",
                        ReportAlert.Suggestion.NONE,
                        null,
                        0));
        return b.build();
    }

    static String render(ReportData data) throws Exception {
        StringWriter w = new StringWriter();
        HtmlReport.write(data, "test data", w);
        return w.toString();
    }

    private static String section(String html, String runId) {
        int start = html.indexOf("data-run-id=\"" + runId + "\"");
        assertThat(start).as(runId).isPositive();
        int end = html.indexOf("</section>", start);
        return html.substring(start, end);
    }

    private static String figure(String section, String chart) {
        int start = section.indexOf("data-chart=\"" + chart + "\"");
        assertThat(start).as(chart).isPositive();
        return section.substring(start, section.indexOf("</figure>", start));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
