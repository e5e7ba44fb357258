package io.trainwatch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ReportCommandTest {
    private static final String POINT =
            "{\"run_id\":\"r\",\"step\":%d,\"time\":null,\"actual_lr\":[0.001],\"scheduled_lr\":[0.001],"
                    + "\"loss\":%s,\"loss_mean\":2.0,\"grad_norm\":1.0,\"suggested_clip\":null}";

    @Test
    void shouldWriteOneHtmlFileAndSummariseIt(@TempDir Path tmp) throws Exception {
        Path series = tmp.resolve("series.jsonl");
        Files.writeString(
                series,
                String.format(POINT, 0, "2.5") + "\n" + String.format(POINT, 1, "\"NaN\"") + "\n");
        Path alerts = tmp.resolve("alerts.jsonl");
        Files.writeString(
                alerts,
                "{\"run_id\":\"r\",\"kind\":\"NON_FINITE\",\"severity\":\"critical\",\"status\":\"open\",\"step\":1,"
                        + "\"message\":\"Step 1: loss is NaN\",\"suggestion\":{\"action\":\"inspect_batch\",\"change\":\"look at it\"}}\n");
        Path out = tmp.resolve("report.html");
        CliRunner.Result r =
                CliRunner.run(
                        "report",
                        "--series",
                        series.toString(),
                        "--alerts",
                        alerts.toString(),
                        "--out",
                        out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("report: 1 runs, 2 logged steps, 1 alerts -> " + out);
        assertThat(Files.readString(out))
                .contains("<svg", "loss is NaN at step 1", "inspect_batch");
    }

    @Test
    void shouldRefuseMissingOrBrokenInputWithOneLineNamingFileAndLine(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("report.html");
        CliRunner.Result missing =
                CliRunner.run(
                        "report",
                        "--series",
                        tmp.resolve("nope.jsonl").toString(),
                        "--out",
                        out.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err())
                .isEqualTo(
                        "error: --series: no such file: "
                                + tmp.resolve("nope.jsonl")
                                + System.lineSeparator());

        Path series = tmp.resolve("series.jsonl");
        Files.writeString(
                series,
                String.format(POINT, 0, "2.5")
                        + "\n"
                        + String.format(POINT, 1, "2.4")
                        + "\n{\"run_id\":\"r\",\"step\":\n");
        CliRunner.Result broken =
                CliRunner.run("report", "--series", series.toString(), "--out", out.toString());
        assertThat(broken.exitCode()).isEqualTo(2);
        assertThat(broken.err()).startsWith("error: " + series + ":3: not valid JSON: ");
        assertThat(broken.err().trim()).doesNotContain("\n");

        Path alerts = tmp.resolve("alerts.jsonl");
        Files.writeString(series, String.format(POINT, 0, "2.5") + "\n");
        Files.writeString(alerts, "\n{\"run_id\":\"r\",\"kind\":\"STALL\",\"step\":\"late\"}\n");
        CliRunner.Result badField =
                CliRunner.run(
                        "report",
                        "--series",
                        series.toString(),
                        "--alerts",
                        alerts.toString(),
                        "--out",
                        out.toString());
        assertThat(badField.exitCode()).isEqualTo(2);
        assertThat(badField.err().trim())
                .isEqualTo(
                        "error: "
                                + alerts
                                + ":2: field \"step\": expected an integer, got \"late\"");
        assertThat(out).doesNotExist();

        CliRunner.Result noFolder =
                CliRunner.run(
                        "report",
                        "--series",
                        series.toString(),
                        "--out",
                        tmp.resolve("no/such/dir/r.html").toString());
        assertThat(noFolder.exitCode()).isEqualTo(2);
        assertThat(noFolder.err()).startsWith("error: --out: no such folder: ");
    }
}
