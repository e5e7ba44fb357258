package io.trainwatch.cli;

import io.trainwatch.bench.Bench;
import io.trainwatch.bench.BenchSettings;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code bench}: the flags of a {@link Bench}, which measures and prints. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measures on this machine, for N events of R concurrent runs on one topic:",
            "the raw Kafka consume rate; the job's rate (end to end and processing); the",
            "Flink floor's (the job's source -> keyBy run -> keyed counter -> discarding",
            "sink, no JSON parsed); the engine-free ceiling's (one thread: KafkaConsumer",
            "-> event codec -> run monitors, no Flink); the ratios job/raw, job/floor and",
            "job/ceiling. Then p50/p99 event->alert latency at a fixed offered rate:",
            "exactly once with a short and a long checkpoint interval (latency and",
            "throughput profiles), and at least once (alerts written as they are raised).",
            "With --fleet, the throughput passes are the job's at each fleet size instead, with the",
            "state bytes per run: how the job's rate and state grow with the fleet."
        })
final class BenchCommand implements Callable<Integer> {
    @Option(
            names = "--events",
            defaultValue = "2000000",
            paramLabel = "N",
            description = "Events for the throughput measurement. Default: ${DEFAULT-VALUE}.")
    long events;

    @Option(
            names = "--runs",
            defaultValue = "10000",
            paramLabel = "R",
            description = "Concurrent runs. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(
            names = "--partitions",
            defaultValue = "2",
            paramLabel = "P",
            description = "Partitions of the events topic. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            paramLabel = "N",
            description = "Job parallelism. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(
            names = "--latency-rate",
            defaultValue = "5000",
            paramLabel = "EVENTS_PER_S",
            description =
                    "Offered rate for the latency measurement (every profile). Default: ${DEFAULT-VALUE}.")
    int latencyRate;

    @Option(
            names = "--latency-seconds",
            defaultValue = "20",
            paramLabel = "S",
            description =
                    "Events offered for this long in each latency profile are timed (and at least 20 NaNs), after a warm-up that lasts"
                            + " 3 s and until the job's alerts keep up; then it waits for the alert of every timed NaN. Each wait ends at 60 s plus two"
                            + " checkpoint intervals at most. 0 skips the latency profiles. Default: ${DEFAULT-VALUE}.")
    int latencySeconds;

    @Option(
            names = "--latency-checkpoint",
            defaultValue = "PT0.1S",
            paramLabel = "DURATION",
            description = "Checkpoint interval of the latency profile. Default: ${DEFAULT-VALUE}.")
    String latencyCheckpoint;

    @Option(
            names = "--no-latency-changelog",
            negatable = true,
            description =
                    "Use the changelog state backend in the latency profile. Default: ${DEFAULT-VALUE}.")
    boolean latencyChangelog = true;

    @Option(
            names = "--no-warmup",
            negatable = true,
            description =
                    "Drain the topic, run the job and the floor and drain the ceiling once, unmeasured, before measuring them. Default: ${DEFAULT-VALUE}.")
    // picocli: a negatable option that is true by default is declared by its --no- name with the
    // field set to true
    // (with defaultValue = "true" instead, --no-warmup left it true)
    boolean warmup = true;

    @Option(
            names = "--repeat",
            defaultValue = "1",
            paramLabel = "K",
            description =
                    "Raw drain, job pass, floor pass and ceiling drain measured K times, in turn, with the median ratios. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(
            names = "--throughput-checkpoint",
            defaultValue = "PT10S",
            paramLabel = "DURATION",
            description =
                    "Checkpoint interval of the throughput and at-least-once profiles. Default: ${DEFAULT-VALUE}.")
    String throughputCheckpoint;

    @Option(
            names = "--fleet",
            split = ",",
            paramLabel = "R",
            description =
                    "Fleet sizes, comma-separated (e.g. 1000,10000,100000): instead of the passes at --runs, --repeat job passes over --events"
                            + " of each size in turn, then one table of the job's median processing rate and the state bytes per run at each"
                            + " size, and the largest size's rate against the smallest's (issue 17 asks >= 0.8x). Every run needs at least "
                            + BenchSettings.FLEET_MIN_STEPS_PER_RUN
                            + " steps, so --events must be >= "
                            + (1 + BenchSettings.FLEET_MIN_STEPS_PER_RUN)
                            + " x the largest size. --runs then sizes the latency profiles only. Default: off.")
    List<Integer> fleet;

    public Integer call() throws Exception {
        BenchSettings settings;
        try {
            settings =
                    new BenchSettings(
                            events,
                            runs,
                            partitions,
                            parallelism,
                            latencyRate,
                            latencySeconds,
                            latencyCheckpoint,
                            latencyChangelog,
                            warmup,
                            repeat,
                            throughputCheckpoint,
                            fleet == null ? List.of() : fleet);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        new Bench(settings).run();
        return 0;
    }
}
