package io.trainwatch.bench;

/**
 * What a bench measures: {@code events} of {@code runs} concurrent runs on a topic of {@code
 * partitions}, the job at {@code parallelism}; {@code repeat} passes of a raw drain, a job pass, a
 * Flink floor pass and an engine-free ceiling drain in turn (after one unmeasured of each with
 * {@code warmup}); then, unless {@code latencySeconds} is 0, event→alert latency at {@code
 * latencyRate} events/s for a latency profile ({@code latencyCheckpoint}, with the changelog state
 * backend if {@code latencyChangelog}) and a throughput profile ({@code throughputCheckpoint}).
 * Checkpoint intervals as given on the command line.
 */
public record BenchSettings(
        long events,
        int runs,
        int partitions,
        int parallelism,
        int latencyRate,
        int latencySeconds,
        String latencyCheckpoint,
        boolean latencyChangelog,
        boolean warmup,
        int repeat,
        String throughputCheckpoint) {
    public BenchSettings {
        if (events < runs || runs < 1) {
            throw new IllegalArgumentException("--events must be >= --runs >= 1");
        }
        if (repeat < 1) {
            throw new IllegalArgumentException("--repeat must be >= 1");
        }
        if (latencySeconds < 0 || latencyRate < 1) {
            throw new IllegalArgumentException(
                    "--latency-seconds must be >= 0 and --latency-rate >= 1");
        }
    }
}
