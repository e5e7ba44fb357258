package io.trainwatch.cli;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.job.PostgresSchema;
import io.trainwatch.report.HtmlReport;
import io.trainwatch.report.JdbcReportReader;
import io.trainwatch.report.JsonlReportReader;
import io.trainwatch.report.ReportData;
import io.trainwatch.report.ReportInputException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code report}: the series and alerts of a replay (or of the live job) as one self-contained HTML
 * page.
 */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = {
            "Draws the per-step series and the alerts as one self-contained HTML file (inline SVG, no",
            "external resources): per run, actual vs scheduled LR (linear and log), loss with its running mean,",
            "grad norm with the suggested clip, a marker at every alert, and the run's alert table."
        })
final class ReportCommand implements Callable<Integer> {
    @Option(
            names = "--series",
            paramLabel = "FILE",
            description = "Per-step series, JSONL (what replay --series writes).")
    Path series;

    @Option(
            names = "--alerts",
            paramLabel = "FILE",
            description = "Alerts, JSONL (alert format v1; what replay --output writes). Optional.")
    Path alerts;

    @Option(
            names = JobConfig.JDBC_URL,
            paramLabel = "jdbc:postgresql://HOST:PORT/DB",
            description = {
                "Read the series and alerts from the job's PostgreSQL tables instead of files (credentials from",
                "TRAINWATCH_JDBC_USER / TRAINWATCH_JDBC_PASSWORD)."
            })
    String jdbcUrl;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "FILE",
            description = "The HTML file to write.")
    Path out;

    /** Where the credentials for --jdbc-url come from. */
    Map<String, String> environment = System.getenv();

    public Integer call() throws IOException {
        if ((series == null) == (jdbcUrl == null)) {
            throw new UserInputException(
                    "give either --series (with --alerts) or " + JobConfig.JDBC_URL);
        }
        ReportData data;
        String sources;
        if (jdbcUrl != null) {
            if (alerts != null) {
                throw new UserInputException(
                        "--alerts goes with --series; with "
                                + JobConfig.JDBC_URL
                                + " the alerts come from PostgreSQL");
            }
            PostgresConfig cfg = PostgresTarget.config(jdbcUrl, environment);
            try (Connection c = PostgresSchema.connect(cfg)) {
                data = JdbcReportReader.read(c);
            } catch (IllegalStateException | ReportInputException e) {
                throw new UserInputException(e.getMessage());
            } catch (SQLException e) {
                throw new UserInputException(
                        "cannot read the trainwatch tables in "
                                + cfg.printableUrl()
                                + ": "
                                + e.getMessage().lines().findFirst().orElse(""));
            }
            sources = "PostgreSQL " + cfg.printableUrl();
        } else {
            requireFile("--series", series);
            if (alerts != null) {
                requireFile("--alerts", alerts);
            }
            try {
                data = JsonlReportReader.read(series, alerts);
            } catch (ReportInputException e) {
                throw new UserInputException(e.getMessage());
            }
            sources = "series " + series + (alerts == null ? "" : " · alerts " + alerts);
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UserInputException("--out: no such folder: " + parent);
        }
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            HtmlReport.write(data, sources, w);
        }
        System.out.printf(
                "report: %d runs, %d logged steps, %d alerts -> %s (%,d bytes)%n",
                data.runs().size(), data.steps(), data.alerts(), out, Files.size(out));
        return 0;
    }

    private static void requireFile(String flag, Path p) {
        if (!Files.exists(p)) {
            throw new UserInputException(flag + ": no such file: " + p);
        }
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new UserInputException(flag + ": not a readable file: " + p);
        }
    }
}
