package io.trainwatch.bench;

import java.util.List;
import java.util.Locale;

/**
 * What a bench measures: {@code events} of {@code runs} concurrent runs on a topic of {@code
 * partitions}, the job at {@code parallelism}; {@code repeat} passes of a raw drain, a job pass, a
 * Flink floor pass and an engine-free ceiling drain in turn (after one unmeasured of each with
 * {@code warmup}); then, unless {@code latencySeconds} is 0, event→alert latency at {@code
 * latencyRate} events/s for a latency profile ({@code latencyCheckpoint}, with the changelog state
 * backend if {@code latencyChangelog}) and a throughput profile ({@code throughputCheckpoint}).
 * Checkpoint intervals as given on the command line.
 *
 * <p>With {@code fleet} sizes (ascending, distinct; empty: off), the throughput passes are instead
 * {@link FleetScaling}'s: {@code repeat} job passes over {@code events} of each fleet size, and the
 * state per run; {@code runs} then sizes the latency profiles only.
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
        String throughputCheckpoint,
        List<Integer> fleet) {
    /**
     * Steps every run of a fleet gets at least: twice the 100-step LR warm-up the bench's runs
     * declare ({@link BenchEvents#start}), during which the divergence, stall and
     * vanishing-gradient checks skip a run and spikes are judged as warm-up spikes. With fewer, the
     * largest fleet's events would be judged by fewer detectors than the smallest's (and a run's
     * first steps cost more: its windows fill), and the ratio between them would measure that, not
     * the fleet's size.
     */
    public static final int FLEET_MIN_STEPS_PER_RUN = 200;

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
        if (fleet.stream().anyMatch(r -> r < 1)) {
            throw new IllegalArgumentException("--fleet sizes must all be >= 1, got " + fleet);
        }
        fleet = fleet.stream().sorted().distinct().toList();
        if (!fleet.isEmpty()) {
            int largest = fleet.get(fleet.size() - 1);
            long needed = minEventsForFleet(largest);
            if (events < needed) {
                throw new IllegalArgumentException(
                        String.format(
                                Locale.ROOT,
                                "--events %d is too few for --fleet %d: each run needs its run_start and at least %d steps"
                                        + " (twice the bench runs' 100-step LR warm-up), so --events must be >= %d"
                                        + " (the events of every fleet size), or leave %d out of --fleet",
                                events,
                                largest,
                                FLEET_MIN_STEPS_PER_RUN,
                                needed,
                                largest));
            }
        }
    }

    /**
     * The events a pass over {@code runs} runs needs: each run's start and {@link
     * #FLEET_MIN_STEPS_PER_RUN} steps.
     */
    public static long minEventsForFleet(int runs) {
        return (long) runs * (1 + FLEET_MIN_STEPS_PER_RUN);
    }
}
