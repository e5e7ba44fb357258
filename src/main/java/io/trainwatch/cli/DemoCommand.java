package io.trainwatch.cli;

import io.trainwatch.demo.DemoProducer;
import io.trainwatch.demo.LiveDemo;
import io.trainwatch.demo.SchedulePreview;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.PostgresConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code demo}: the README's first command. A real Kafka broker and a real PostgreSQL in-process,
 * the live job, realistic training runs with the faults users lose GPU-days to streamed at live
 * speed, every alert printed as the job commits it, and the rows the job wrote to PostgreSQL
 * counted; then a preview of the schedule engine on the bundled example specs.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Runs trainwatch on its embedded defaults: starts a Kafka broker and PostgreSQL in-process, runs the job",
            "on a local Flink, streams six realistic runs (healthy, a corrupted batch, a warmup blow-up, a gradient explosion,",
            "a scheduler stepped per epoch, a resume that resets the scheduler), prints each alert as it arrives",
            "(read_committed) and the rows written to PostgreSQL. Then previews the schedule engine on the bundled",
            "example specs (one SVG each)."
        })
final class DemoCommand implements Callable<Integer> {
    @Option(
            names = "--out",
            defaultValue = "trainwatch-demo",
            paramLabel = "DIR",
            description =
                    "Where to write report.html (the runs' charts and alerts) and the schedule SVGs. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(
            names = "--steps",
            defaultValue = "1000",
            paramLabel = "N",
            description = "Optimizer steps to evaluate per schedule. Default: ${DEFAULT-VALUE}.")
    long steps;

    @Option(
            names = "--rate",
            defaultValue = "1500",
            paramLabel = "EVENTS_PER_S",
            description = "How fast the demo runs are streamed. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(
            names = "--follow",
            description = "Keep reading alerts after the demo runs are done (Ctrl-C to stop).")
    boolean follow;

    @Option(
            names = JobConfig.JDBC_URL,
            paramLabel = "jdbc:postgresql://HOST:PORT/DB",
            description = {
                "Write to this PostgreSQL instead of",
                "starting one in-process. User and password from the environment: "
                        + PostgresConfig.USER_ENV
                        + ", "
                        + PostgresConfig.PASSWORD_ENV
                        + "."
            })
    String jdbcUrl;

    @Option(
            names = JobConfig.BOOTSTRAP_SERVERS,
            paramLabel = "HOST:PORT",
            description = {
                "Only produce: stream the demo runs, stamped",
                "with the current time, to this Kafka (e.g. the Docker Compose stack's, whose job does the monitoring) and exit."
            })
    String bootstrapServers;

    @Option(
            names = JobConfig.EVENTS_TOPIC,
            defaultValue = "trainwatch.events",
            paramLabel = "TOPIC",
            description =
                    "With "
                            + JobConfig.BOOTSTRAP_SERVERS
                            + ": the topic the job reads. Default: ${DEFAULT-VALUE}.")
    String eventsTopic;

    @Option(names = "--no-postgres", description = "Do not write to PostgreSQL (Kafka only).")
    boolean noPostgres;

    @Mixin NotifyOptions notifyOptions = new NotifyOptions();

    /** Where the credentials for --jdbc-url come from. */
    Map<String, String> environment = System.getenv();

    PrintStream console = System.out;

    public Integer call() throws Exception {
        if (steps < 2) {
            throw new UserInputException("--steps must be >= 2, got " + steps);
        }
        if (bootstrapServers != null) {
            DemoProducer.run(bootstrapServers, eventsTopic, rate, console);
            return 0;
        }
        Files.createDirectories(out);
        if (noPostgres && jdbcUrl != null) {
            throw new UserInputException(
                    "--no-postgres and " + JobConfig.JDBC_URL + " exclude each other");
        }
        new LiveDemo(
                        out,
                        rate,
                        follow,
                        !noPostgres,
                        PostgresTarget.config(jdbcUrl, environment),
                        notifyOptions.config(environment::get),
                        console)
                .run();
        SchedulePreview.write(out, steps, console);
        return 0;
    }
}
