package io.trainwatch.cli;

import io.trainwatch.bench.StateBench;
import io.trainwatch.job.JobConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code bench-state}: the flags of a {@link StateBench}, which measures and prints. */
@Command(
        name = "bench-state",
        mixinStandardHelpOptions = true,
        description = {
            "Measures what the runs' state costs on each state backend as the fleet grows: heap, RocksDB's files,",
            "checkpoint size and time for R concurrent runs, and per run at the smallest vs the largest fleet."
        })
final class BenchStateCommand implements Callable<Integer> {
    @Option(
            names = "--runs",
            split = ",",
            defaultValue = "10000,100000",
            paramLabel = "R",
            description =
                    "Fleet sizes (concurrent runs), comma-separated. Default: ${DEFAULT-VALUE}.")
    List<Integer> runs;

    @Option(
            names = "--backends",
            split = ",",
            defaultValue = "hashmap,rocksdb",
            paramLabel = "hashmap|rocksdb",
            description = "State backends, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> backends;

    @Option(
            names = "--steps",
            defaultValue = "40",
            paramLabel = "S",
            description =
                    "Steps per run before the checkpoint (32 fill every detector window). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(
            names = "--parallelism",
            defaultValue = "2",
            paramLabel = "N",
            description = "Parallelism of the monitor. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    public Integer call() throws Exception {
        StateBench.Settings settings;
        try {
            settings =
                    new StateBench.Settings(
                            backends.stream().map(BenchStateCommand::backend).toList(),
                            runs,
                            steps,
                            parallelism);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        new StateBench(settings).run();
        return 0;
    }

    private static JobConfig.StateBackend backend(String name) {
        try {
            return JobConfig.parseStateBackend(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--backends must each be hashmap or rocksdb, got \"" + name + "\"");
        }
    }
}
