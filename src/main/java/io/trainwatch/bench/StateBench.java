package io.trainwatch.bench;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.MonitorConfig;
import io.trainwatch.job.RawRecord;
import io.trainwatch.job.TrainwatchJob;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.state.rocksdb.RocksDBOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * What the runs' state costs on each state backend as the fleet grows: for R concurrent runs of S
 * steps each (enough to fill every detector window), the heap the state takes, RocksDB's files on
 * local disk, and a checkpoint of it all (size, time), then one more step of every run and the
 * checkpoint after it (what an incremental checkpoint writes when every run changed).
 *
 * <p>The job is the real pipeline ({@link TrainwatchJob#defineWorkflow}) with the live job's Flink
 * configuration ({@link KafkaPipeline#configuration}) on an in-process cluster, fed by a generator
 * instead of Kafka: the bench holds the source back between phases and triggers each checkpoint
 * itself, once everything sent has been judged, so a checkpoint's time is the checkpoint's alone.
 * Heap is measured in this JVM after a full GC, before and after the runs are loaded.
 */
public final class StateBench {
    private static final Duration PHASE_TIMEOUT_MIN = Duration.ofMinutes(2);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);

    /**
     * Managed memory of the bench's TaskManager, what one of Flink's default size (1728m process)
     * gets: RocksDB's block cache and write buffers live in it. An in-process cluster's default,
     * 128m, starves RocksDB at 100,000 runs.
     */
    static final String MANAGED_MEMORY = "512m";

    private final Settings settings;

    /**
     * Backends and fleet sizes to measure (each backend at each size), steps per run, the monitor's
     * parallelism.
     */
    public record Settings(
            List<JobConfig.StateBackend> backends, List<Integer> runs, int steps, int parallelism) {
        public Settings {
            if (backends.isEmpty() || runs.isEmpty()) {
                throw new IllegalArgumentException("--backends and --runs must not be empty");
            }
            if (runs.stream().anyMatch(r -> r < 1)) {
                throw new IllegalArgumentException("--runs must all be >= 1, got " + runs);
            }
            if (steps < 1) {
                throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
            }
            if (parallelism < 1) {
                throw new IllegalArgumentException(
                        "--parallelism must be >= 1, got " + parallelism);
            }
            backends = List.copyOf(backends);
            runs = runs.stream().sorted().distinct().toList();
        }
    }

    /** One checkpoint: the whole state's size, what it wrote, end to end time. */
    public record Checkpoint(long stateBytes, long writtenBytes, long millis) {}

    /**
     * One backend at one fleet size. {@code heapBytes}: heap after loading minus before; {@code
     * localBytes}: RocksDB's working files (0 on the heap backend); {@code full}: the checkpoint of
     * the loaded state; {@code afterStep}: the checkpoint after one more step of every run.
     */
    public record Result(
            JobConfig.StateBackend backend,
            int runs,
            long events,
            double loadSeconds,
            long heapBytes,
            long localBytes,
            Checkpoint full,
            Checkpoint afterStep,
            long deadLetters) {
        public double perRun(long bytes) {
            return (double) bytes / runs;
        }
    }

    public StateBench(Settings settings) {
        this.settings = settings;
    }

    /** Measures every backend at every size, printing as it goes, then the per-run summary. */
    public List<Result> run() throws Exception {
        System.out.printf(
                "trainwatch bench-state: %s state at %s concurrent runs, %d steps each, parallelism %d, %d cores, max heap %s, managed memory %s%n",
                String.join(" and ", settings.backends().stream().map(b -> b.flinkName()).toList()),
                String.join(
                        ", ",
                        settings.runs().stream()
                                .map(r -> String.format(Locale.ROOT, "%,d", r))
                                .toList()),
                settings.steps(),
                settings.parallelism(),
                Runtime.getRuntime().availableProcessors(),
                mb(Runtime.getRuntime().maxMemory()),
                MANAGED_MEMORY);
        List<Result> results = new ArrayList<>();
        for (JobConfig.StateBackend backend : settings.backends()) {
            for (int runs : settings.runs()) {
                results.add(measure(backend, runs));
            }
        }
        printSummary(results);
        return results;
    }

    private Result measure(JobConfig.StateBackend backend, int runs) throws Exception {
        Path dir = ScratchDirectories.create("trainwatch-bench-state");
        String name = backend.flinkName() + "-" + runs;
        BenchGate gate = BenchGate.open(name);
        try (MiniCluster cluster =
                new MiniCluster(miniCluster(clusterConfiguration(backend, dir)))) {
            cluster.start();
            JobID job = cluster.submitJob(jobGraph(backend, runs, dir, name)).get().getJobID();
            awaitRunning(cluster, job);
            long heapBefore = usedHeapAfterGc();

            long events = (long) runs * (1 + settings.steps());
            long t = System.nanoTime();
            gate.allow(events);
            long judged = (long) runs * settings.steps();
            awaitShowingProgress(gate, judged, phaseTimeout(events));
            double loadSeconds = (System.nanoTime() - t) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%-8s %,9d runs  %,d events judged in %.1f s (%,.0f events/s)%n",
                    backend.flinkName(),
                    runs,
                    events,
                    loadSeconds,
                    events / loadSeconds);

            Checkpoint full = checkpoint(cluster, job);
            long heap = usedHeapAfterGc() - heapBefore;
            long local =
                    backend == JobConfig.StateBackend.ROCKSDB ? size(dir.resolve("rocksdb")) : 0;

            gate.allow(events + runs);
            await(
                    () -> gate.seriesPoints() >= judged + runs,
                    phaseTimeout(runs),
                    () -> "the step after the load: " + gate.describe(judged + runs));
            Checkpoint afterStep = checkpoint(cluster, job);
            cluster.cancelJob(job).get();

            Result r =
                    new Result(
                            backend,
                            runs,
                            events,
                            loadSeconds,
                            heap,
                            local,
                            full,
                            afterStep,
                            gate.deadLetters());
            print(r);
            return r;
        } finally {
            BenchGate.close(name);
            ScratchDirectories.delete(dir);
        }
    }

    /**
     * The live job's Flink configuration on {@code backend}, checkpoints only when the bench
     * triggers them, no restarts (a failure ends the bench), RocksDB's files under {@code dir}.
     */
    private Configuration clusterConfiguration(JobConfig.StateBackend backend, Path dir) {
        JobConfig cfg =
                JobConfig.builder("unused:9092") // the bench reads no Kafka
                        .checkpointDir(dir.resolve("checkpoints").toString())
                        .checkpointInterval(Duration.ofDays(1))
                        .parallelism(settings.parallelism())
                        .stateBackend(backend)
                        .build();
        Configuration c = KafkaPipeline.configuration(cfg);
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        c.set(RocksDBOptions.LOCAL_DIRECTORIES, dir.resolve("rocksdb").toString());
        c.set(TaskManagerOptions.NUM_TASK_SLOTS, settings.parallelism());
        c.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(MANAGED_MEMORY));
        return c;
    }

    private org.apache.flink.streaming.api.graph.StreamGraph jobGraph(
            JobConfig.StateBackend backend, int runs, Path dir, String gate) {
        StreamExecutionEnvironment env =
                new StreamExecutionEnvironment(clusterConfiguration(backend, dir));
        env.setParallelism(settings.parallelism());
        // one generator: a run's events in order, as one Kafka partition delivers them
        DataStream<RawRecord> events =
                env.fromSource(
                                new DataGeneratorSource<>(
                                        new HeldBackEvents(gate, runs),
                                        Long.MAX_VALUE,
                                        TypeInformation.of(RawRecord.class)),
                                WatermarkStrategy.noWatermarks(),
                                "bench-events")
                        .setParallelism(1)
                        .filter(HeldBackEvents::isEvent)
                        .setParallelism(1)
                        .name("held-back");
        TrainwatchJob.Outputs outputs =
                TrainwatchJob.defineWorkflow(
                        env, events, new MonitorConfig(Thresholds.DEFAULTS, 1, true));
        outputs.series()
                .sinkTo(new CountingSink<>(gate, BenchGate.Count.SERIES))
                .name("count-series");
        outputs.alerts()
                .sinkTo(new CountingSink<>(gate, BenchGate.Count.ALERTS))
                .name("count-alerts");
        outputs.deadLetters()
                .sinkTo(new CountingSink<>(gate, BenchGate.Count.DEAD_LETTERS))
                .name("count-dead-letters");
        return env.getStreamGraph();
    }

    private static void awaitRunning(MiniCluster cluster, JobID job) throws Exception {
        // a checkpoint can be triggered only once every task runs: the first that succeeds says so
        long deadline = System.nanoTime() + PHASE_TIMEOUT_MIN.toNanos();
        while (true) {
            if (cluster.getJobStatus(job).get().isTerminalState()) {
                throw new IllegalStateException("the bench job ended before it ran: " + job);
            }
            try {
                cluster.triggerCheckpoint(job, CheckpointType.CONFIGURED).get();
                return;
            } catch (Exception notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "the bench job did not start within " + PHASE_TIMEOUT_MIN, notYet);
                }
                Thread.sleep(50);
            }
        }
    }

    /** Triggers a checkpoint and returns its statistics once Flink reports it completed. */
    private static Checkpoint checkpoint(MiniCluster cluster, JobID job) throws Exception {
        long id = cluster.triggerCheckpoint(job, CheckpointType.CONFIGURED).get();
        CompletedCheckpointStats[] stats = new CompletedCheckpointStats[1];
        await(
                () -> {
                    AbstractCheckpointStats s =
                            cluster.getExecutionGraph(job)
                                    .join()
                                    .getCheckpointStatsSnapshot()
                                    .getHistory()
                                    .getCheckpointById(id);
                    if (s instanceof CompletedCheckpointStats done) {
                        stats[0] = done;
                        return true;
                    }
                    if (cluster.getJobStatus(job).join() != JobStatus.RUNNING) {
                        throw new IllegalStateException("the bench job stopped: " + job);
                    }
                    return false;
                },
                PHASE_TIMEOUT_MIN,
                () -> "the statistics of checkpoint " + id);
        return new Checkpoint(
                stats[0].getStateSize(),
                stats[0].getCheckpointedSize(),
                stats[0].getEndToEndDuration());
    }

    /** Waits for the load phase, printing how far it got every 10 s (it takes minutes). */
    private static void awaitShowingProgress(BenchGate gate, long judged, Duration timeout)
            throws InterruptedException {
        long start = System.nanoTime();
        long[] nextReport = {start + PROGRESS_EVERY.toNanos()};
        await(
                () -> {
                    long now = System.nanoTime();
                    if (now >= nextReport[0]) {
                        nextReport[0] = now + PROGRESS_EVERY.toNanos();
                        System.out.printf(
                                Locale.ROOT,
                                "         ... %,d of %,d steps judged after %.0f s%n",
                                gate.seriesPoints(),
                                judged,
                                (now - start) / 1e9);
                    }
                    return gate.seriesPoints() >= judged;
                },
                timeout,
                () -> "the load phase: " + gate.describe(judged));
    }

    /** Long enough for a slow machine to judge {@code events}: 2 min, or 1,000 events/s. */
    private static Duration phaseTimeout(long events) {
        Duration atSlowRate = Duration.ofMillis(events);
        return atSlowRate.compareTo(PHASE_TIMEOUT_MIN) > 0 ? atSlowRate : PHASE_TIMEOUT_MIN;
    }

    private static void await(
            BooleanSupplier done, Duration timeout, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "gave up after " + timeout + " waiting for " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** Heap in use after a full collection: the smallest of three, to see past floating garbage. */
    static long usedHeapAfterGc() throws InterruptedException {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            least =
                    Math.min(
                            least,
                            ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    private static void print(Result r) {
        System.out.printf(
                Locale.ROOT,
                "%-8s %,9d runs  heap %s (%s/run)%s; checkpoint of the loaded state %s (%s/run) in %,d ms;"
                        + " after one step of every run it wrote %s (%s/run) in %,d ms; %,d dead letters%n",
                r.backend().flinkName(),
                r.runs(),
                mb(r.heapBytes()),
                kb(r.perRun(r.heapBytes())),
                r.localBytes() > 0
                        ? String.format(
                                Locale.ROOT,
                                ", RocksDB files %s (%s/run)",
                                mb(r.localBytes()),
                                kb(r.perRun(r.localBytes())))
                        : "",
                mb(r.full().writtenBytes()),
                kb(r.perRun(r.full().writtenBytes())),
                r.full().millis(),
                mb(r.afterStep().writtenBytes()),
                kb(r.perRun(r.afterStep().writtenBytes())),
                r.afterStep().millis(),
                r.deadLetters());
    }

    /**
     * Per backend, per run at the smallest and the largest fleet side by side, and their ratio
     * (1.00: the cost grows exactly linearly with runs).
     */
    private static void printSummary(List<Result> results) {
        System.out.println("per run, smallest vs largest fleet (ratio 1.00 = linear in runs):");
        for (JobConfig.StateBackend backend : JobConfig.StateBackend.values()) {
            List<Result> mine = results.stream().filter(r -> r.backend() == backend).toList();
            if (mine.size() < 2) {
                continue;
            }
            Result small = mine.get(0);
            Result large = mine.get(mine.size() - 1);
            row(backend, "heap", small, large, r -> r.perRun(r.heapBytes()), true);
            if (backend == JobConfig.StateBackend.ROCKSDB) {
                row(backend, "RocksDB files", small, large, r -> r.perRun(r.localBytes()), true);
            }
            row(
                    backend,
                    "checkpoint size",
                    small,
                    large,
                    r -> r.perRun(r.full().writtenBytes()),
                    true);
            row(
                    backend,
                    "checkpoint time",
                    small,
                    large,
                    r -> (double) r.full().millis() * 1000 / r.runs(),
                    false);
            row(
                    backend,
                    "after-step written",
                    small,
                    large,
                    r -> r.perRun(r.afterStep().writtenBytes()),
                    true);
        }
    }

    private static void row(
            JobConfig.StateBackend backend,
            String what,
            Result small,
            Result large,
            java.util.function.ToDoubleFunction<Result> perRun,
            boolean bytes) {
        double a = perRun.applyAsDouble(small);
        double b = perRun.applyAsDouble(large);
        System.out.printf(
                Locale.ROOT,
                "  %-8s %-19s %,9d runs %12s   %,9d runs %12s   ratio %s%n",
                backend.flinkName(),
                what,
                small.runs(),
                bytes ? kb(a) : String.format(Locale.ROOT, "%.1f µs", a),
                large.runs(),
                bytes ? kb(b) : String.format(Locale.ROOT, "%.1f µs", b),
                a > 0 ? String.format(Locale.ROOT, "%.2f", b / a) : "n/a");
    }

    static String mb(double bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / (1024 * 1024));
    }

    static String kb(double bytes) {
        return String.format(Locale.ROOT, "%.2f KB", bytes / 1024);
    }

    private static long size(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(
                            f -> {
                                try {
                                    return Files.size(f);
                                } catch (IOException gone) {
                                    return 0; // compacted away while walking
                                }
                            })
                    .sum();
        }
    }

    static MiniClusterConfiguration miniCluster(Configuration c) {
        return new MiniClusterConfiguration.Builder()
                .setConfiguration(c)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(c.get(TaskManagerOptions.NUM_TASK_SLOTS))
                .build();
    }
}
