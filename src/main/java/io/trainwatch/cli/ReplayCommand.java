package io.trainwatch.cli;

import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonReader;
import io.trainwatch.job.DeliverNotificationsOperator;
import io.trainwatch.job.FileOutputs;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KeyRecordsFunction;
import io.trainwatch.job.MonitorConfig;
import io.trainwatch.job.MonitorRunsFunction;
import io.trainwatch.job.NotificationOutputs;
import io.trainwatch.job.NotifyConfig;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.job.PostgresOutputs;
import io.trainwatch.job.RawRecord;
import io.trainwatch.job.TrainwatchJob;
import io.trainwatch.report.AlertTally;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code replay}: runs the pipeline over bounded JSONL files of v1 events and summarises what it
 * found.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the trainwatch pipeline over JSONL files of v1 events (one event per line) and writes",
            "the alerts, the per-step series and the dead letters as JSONL, and with --jdbc-url to PostgreSQL. Prints a summary."
        })
final class ReplayCommand implements Callable<Integer> {
    @Option(
            names = "--input",
            required = true,
            paramLabel = "FILE|DIR",
            description = "A JSONL file, or a folder whose files are all read (sorted by name).")
    Path input;

    @Option(
            names = "--output",
            required = true,
            paramLabel = "FILE",
            description = "Alerts, one JSON per line (alert format v1).")
    Path output;

    @Option(
            names = "--series",
            paramLabel = "FILE",
            description =
                    "Per-step series (actual vs scheduled LR, loss, grad norm, suggested clip).")
    Path series;

    @Option(
            names = "--dead-letter",
            paramLabel = "FILE",
            description =
                    "Rejected records with the field and reason. Default: <output>.dead-letter.jsonl")
    Path deadLetter;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            paramLabel = "N",
            description = "Flink parallelism. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(
            names = "--threshold",
            paramLabel = "NAME=VALUE",
            description =
                    "Override a detector threshold for every run (README, \"Detectors\"). Repeatable.")
    Map<String, String> thresholds = new TreeMap<>();

    @Mixin PostgresOptions postgresOptions = new PostgresOptions();

    @Mixin NotifyOptions notifyOptions = new NotifyOptions();

    @Option(
            names = "--notify-failed",
            paramLabel = "FILE",
            description =
                    "With --notify: notifications given up, with the reason and the alert. Default: <output>.notify-failed.jsonl")
    Path notifyFailed;

    /** Where --notify's env:VAR references are read. */
    Function<String, String> environment = System::getenv;

    public Integer call() throws Exception {
        if (parallelism < 1) {
            throw new UserInputException("--parallelism must be >= 1, got " + parallelism);
        }
        if (postgresOptions.seriesEvery < 1) {
            throw new UserInputException(
                    JobConfig.SERIES_EVERY
                            + " must be >= 1 (1 keeps every step), got "
                            + postgresOptions.seriesEvery);
        }
        PostgresConfig postgres = postgresOptions.config();
        Thresholds th;
        try {
            th = Thresholds.DEFAULTS.withText(thresholds);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--threshold: " + e.getMessage());
        }
        NotifyConfig notify = notifyOptions.config(environment);
        List<Path> files = inputFiles(input);
        List<RawRecord> records = new ArrayList<>();
        long blank = 0;
        for (Path f : files) {
            blank += read(f, records);
        }
        Path dlq =
                deadLetter != null
                        ? deadLetter
                        : output.resolveSibling(output.getFileName() + ".dead-letter.jsonl");
        System.err.printf(
                "trainwatch replay: %d records from %d file(s) (%d blank lines skipped), parallelism %d%n",
                records.size(), files.size(), blank, parallelism);
        PostgresTarget.prepare(postgres, System.err);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        TrainwatchJob.Outputs outputs =
                TrainwatchJob.defineWorkflow(
                        env,
                        env.fromData(RawRecord.class, records.toArray(RawRecord[]::new))
                                .name("replay-input")
                                .setParallelism(1),
                        new MonitorConfig(
                                th,
                                postgresOptions.seriesEvery,
                                series != null || postgres != null));
        FileOutputs.attach(outputs, output, series, dlq);
        if (postgres != null) {
            PostgresOutputs.attach(outputs, postgres);
        }
        Path failedNotifications = null;
        if (notify != null) {
            failedNotifications =
                    notifyFailed != null
                            ? notifyFailed
                            : output.resolveSibling(output.getFileName() + ".notify-failed.jsonl");
            System.err.printf(
                    "notify: %s%s%n",
                    notify.targets(),
                    notify.settings().dryRun() ? " (dry run: printed, not sent)" : "");
            // no checkpoints here: alerts are sent as they are raised
            DataStream<FailedNotification> failed =
                    NotificationOutputs.attach(outputs.alerts(), notify, null, false);
            FileOutputs.attachFailedNotifications(failed, failedNotifications);
            if (postgres != null) {
                PostgresOutputs.attachFailedNotifications(failed, postgres);
            }
        }
        JobExecutionResult result = env.execute("trainwatch-replay");
        summarize(result, dlq, postgres);
        if (notify != null) {
            System.out.printf(
                    "notifications    %d delivered (%d folded into summaries), %d failed -> %s%n",
                    counter(result, DeliverNotificationsOperator.DELIVERED),
                    counter(result, DeliverNotificationsOperator.FOLDED),
                    counter(result, DeliverNotificationsOperator.FAILED),
                    failedNotifications);
        }
        return 0;
    }

    static List<Path> inputFiles(Path input) throws IOException {
        if (Files.isRegularFile(input)) {
            return List.of(input);
        }
        if (!Files.isDirectory(input)) {
            throw new UserInputException("--input: no such file or folder: " + input);
        }
        try (Stream<Path> s = Files.list(input)) {
            List<Path> files = s.filter(Files::isRegularFile).sorted().toList();
            if (files.isEmpty()) {
                throw new UserInputException("--input: folder has no files: " + input);
            }
            return files;
        }
    }

    /**
     * Reads a file's lines as records with their position; returns how many blank lines were
     * skipped.
     */
    static long read(Path file, List<RawRecord> out) throws IOException {
        long blank = 0;
        long line = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            while ((s = r.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    blank++;
                    continue;
                }
                out.add(new RawRecord(s, file.getFileName().toString(), -1, line));
            }
        }
        return blank;
    }

    private void summarize(JobExecutionResult result, Path dlq, PostgresConfig postgres)
            throws IOException {
        long read = counter(result, KeyRecordsFunction.READ);
        long accepted = counter(result, MonitorRunsFunction.ACCEPTED);
        long dead = counter(result, KeyRecordsFunction.DEAD_LETTERED);
        long monitorErrors = counter(result, MonitorRunsFunction.MONITOR_ERRORS);
        long quarantined = counter(result, MonitorRunsFunction.QUARANTINED);
        long alerts = counter(result, MonitorRunsFunction.ALERTS);
        long runs = counter(result, MonitorRunsFunction.RUNS);
        AlertTally tally = new AlertTally();
        for (String line : Files.readAllLines(output)) {
            tally.add(JsonReader.parse(line));
        }
        System.out.printf("events read      %d%n", read);
        System.out.printf("  accepted       %d%n", accepted);
        System.out.printf("  dead-lettered  %d  -> %s%n", dead, dlq);
        if (monitorErrors + quarantined > 0) {
            System.out.printf(
                    "    monitor errors      %d  (each with a MONITOR_ERROR alert)%n",
                    monitorErrors);
            System.out.printf("    quarantined events  %d%n", quarantined);
        }
        System.out.printf("runs             %d%n", runs);
        System.out.printf("alerts           %d  -> %s%n", alerts, output);
        tally.print(System.out, "  ");
        if (series != null) {
            System.out.printf(
                    "series           -> %s%s%n",
                    series,
                    postgresOptions.seriesEvery > 1
                            ? " (at most one point per "
                                    + postgresOptions.seriesEvery
                                    + " steps of a run)"
                            : "");
        }
        if (postgres != null) {
            System.out.printf(
                    "postgres         -> %s (series, alerts, dead letters)%n",
                    postgres.printableUrl());
        }
        if (read != accepted + dead) {
            throw new IllegalStateException(
                    "counts do not add up: read "
                            + read
                            + " != accepted "
                            + accepted
                            + " + dead-lettered "
                            + dead);
        }
    }

    private static long counter(JobExecutionResult r, String name) {
        Object v = r.getAccumulatorResult(name);
        return v == null ? 0 : ((Number) v).longValue();
    }
}
