package io.trainwatch.cluster;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.event.JsonReader;
import io.trainwatch.job.BrokerTopics;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.PipelineITCase;
import io.trainwatch.kafka.RateLimitedProducer;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job on a real standalone Flink cluster, as a user runs it: a JobManager and two TaskManagers
 * (2 slots each) in their own JVMs, started from the project's Flink version's Maven jars ({@link
 * FlinkLib}), the job jar submitted, stopped and resumed with the Flink CLI, and a real Kafka
 * broker. A TaskManager killed with {@code kill -9} mid-stream, and a stop-with-savepoint rescale
 * from 2 to 3, each leave on the alerts topic (read_committed) exactly the alerts of a plain replay
 * of the events: none lost, none twice. Prints how long recovery and rescaling took. Logs of every
 * process: target/flink-cluster/logs.
 */
class ClusterITCase {
    /**
     * The jar submitted to the cluster: the slim job jar, as users submit it (Flink's own modules
     * come from the cluster's lib).
     */
    static final Path JOB_JAR = Path.of("target/trainwatch-job.jar");

    static final String ENTRY_POINT = "io.trainwatch.cli.FlinkEntryPoint";

    /** The lib directory (reused between runs) and the processes' logs. */
    static final Path CLUSTER_DIR = Path.of("target/flink-cluster");

    static final int TOPIC_PARTITIONS = 4;

    /** Generous: three Flink JVMs and a CLI start on a busy 2-core machine. */
    static final Duration STARTUP = Duration.ofMinutes(3);

    static final Duration PROGRESS = Duration.ofMinutes(2);

    /**
     * How long the events after the first part take to stream in the kill scenario: long enough
     * that the kill and the recovery happen while they arrive.
     */
    static final int LIVE_STREAM_SECONDS = 20;

    static final Set<String> SPIKE_KINDS = Set.of("LOSS_SPIKE", "GRAD_EXPLOSION");

    @TempDir static Path tmp;

    static EmbeddedKafka kafka;
    static StandaloneCluster cluster;

    @BeforeAll
    static void startClusterAndBroker() throws Exception {
        assertThat(JOB_JAR).as("the job jar (mvn package builds it)").isRegularFile();
        Path lib = FlinkLib.resolve(CLUSTER_DIR);
        Path logs = CLUSTER_DIR.resolve("logs");
        deleteRecursively(logs);
        cluster = StandaloneCluster.start(lib, tmp.resolve("cluster"), logs, 2);
        kafka = EmbeddedKafka.start(); // while the cluster's JVMs start
        cluster.awaitTaskManagers(2, STARTUP);
    }

    @AfterAll
    static void stopClusterAndBroker() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            if (kafka != null) {
                kafka.close();
            }
        }
    }

    @Test
    void shouldLoseNoAlertAndDuplicateNoneWhenTheTaskManagerRunningTheMonitorIsKilled()
            throws Exception {
        String name = "kill";
        Path checkpoints = tmp.resolve("kill-checkpoints");
        createTopics(name);
        List<SimulatedRun> runs = runs(81_000);
        BrokerTopics topics = new BrokerTopics(kafka.bootstrapServers());
        String job = cluster.submit(JOB_JAR, ENTRY_POINT, null, jobArgs(name, checkpoints, 2));
        try {
            StandaloneCluster.await(
                    "job running", STARTUP, () -> present(cluster.allTasksRunning(job)));
            List<String[]> first = keyed(runs, r -> 0, r -> part(r, 0.4));
            topics.produce(name + ".events", first);
            topics.awaitCommittedAtEnd(name, name + ".events", PROGRESS);

            // the rest streams live, as trainers log, on through the kill and the recovery; the
            // TaskManager running the monitor is killed once a checkpoint holds some of it
            List<String[]> rest = keyed(runs, r -> part(r, 0.4), r -> r.events().size());
            CompletableFuture<Void> streaming =
                    CompletableFuture.runAsync(() -> stream(name + ".events", rest));
            StandaloneCluster.await(
                    "a checkpoint amid the live stream",
                    PROGRESS,
                    () -> present(committedRecords(name, name + ".events") > first.size()));
            String victim = taskManagerRunningTheMonitor(job);
            Map<String, Integer> attempts = attempts(job);
            assertThat(attempts).isNotEmpty().doesNotContainValue(-1);
            long killedMillis = System.currentTimeMillis();
            long killed = System.nanoTime();
            cluster.killTaskManager(victim);
            cluster.startTaskManager();
            StandaloneCluster.await(
                    "the job noticing the lost TaskManager",
                    PROGRESS,
                    () -> {
                        Map<String, Integer> now = attempts(job);
                        return present(!now.isEmpty() && !now.equals(attempts));
                    });
            double noticed = secondsSince(killed);
            StandaloneCluster.await(
                    "every task running again, restarted",
                    PROGRESS,
                    () -> present(cluster.allTasksRunning(job) && restarted(attempts, job)));
            double running = secondsSince(killed);
            JsonNode next =
                    StandaloneCluster.await(
                            "a checkpoint after the kill",
                            PROGRESS,
                            () -> cluster.firstCheckpointCompletedAfter(job, killedMillis));
            // completed when its last acknowledgement came (the JobManager's clock: this machine's)
            double checkpointed =
                    (next.path("latest_ack_timestamp").asLong() - killedMillis) / 1000.0;
            System.out.printf(
                    Locale.ROOT,
                    "cluster recovery after kill -9 of the TaskManager running the monitor (%s; heartbeat %s / %s):"
                            + " noticed after %.1f s, all tasks running again after %.1f s,"
                            + " next checkpoint completed after %.1f s%n",
                    victim,
                    StandaloneCluster.HEARTBEAT_INTERVAL,
                    StandaloneCluster.HEARTBEAT_TIMEOUT,
                    noticed,
                    running,
                    checkpointed);

            streaming.get(PROGRESS.toSeconds(), TimeUnit.SECONDS);
            topics.awaitCommittedAtEnd(name, name + ".events", PROGRESS);
            List<String> expected = sorted(PipelineITCase.plainReplay(runs));
            List<String> alerts = awaitAlerts(topics, name + ".alerts", expected.size());
            System.out.printf(
                    "cluster kill: %d alerts (read_committed), %d expected%n",
                    alerts.size(), expected.size());
            assertThat(alerts).doesNotHaveDuplicates().isEqualTo(expected);

            // the fresh TaskManager took the killed one's place
            cluster.awaitTaskManagers(2, STARTUP);
            assertCheckpointsIn(checkpoints.resolve(job));
        } finally {
            cancelIfRunning(job);
        }
    }

    @Test
    void shouldJudgeRunsInFlightAgainstTheirStatisticsAfterARescaleFromTwoToThree()
            throws Exception {
        String name = "rescale";
        Path checkpoints = tmp.resolve("rescale-checkpoints");
        createTopics(name);
        List<SimulatedRun> runs = runs(82_000);
        // each run's fault comes after the rescale, judged against statistics from before it
        Map<String, Integer> cut = new HashMap<>();
        runs.forEach(r -> cut.put(r.runId(), beforeOnset(r)));
        BrokerTopics topics = new BrokerTopics(kafka.bootstrapServers());
        String job = cluster.submit(JOB_JAR, ENTRY_POINT, null, jobArgs(name, checkpoints, 2));
        String resumed = null;
        try {
            StandaloneCluster.await(
                    "job running", STARTUP, () -> present(cluster.allTasksRunning(job)));
            topics.produce(name + ".events", keyed(runs, r -> 0, r -> cut.get(r.runId())));
            topics.awaitCommittedAtEnd(name, name + ".events", PROGRESS);

            long stoppedMillis = System.currentTimeMillis();
            long stopped = System.nanoTime();
            String savepoint =
                    cluster.stopWithSavepoint(job, tmp.resolve("savepoints").toUri().toString());
            double saved = secondsSince(stopped);
            StandaloneCluster.await(
                    "the stopped job finished",
                    PROGRESS,
                    () -> cluster.jobState(job).filter(s -> s.equals("FINISHED")));
            long submitted = System.nanoTime();
            resumed =
                    cluster.submit(JOB_JAR, ENTRY_POINT, savepoint, jobArgs(name, checkpoints, 3));
            String restored = resumed;
            StandaloneCluster.await(
                    "the restored job running",
                    STARTUP,
                    () -> present(cluster.allTasksRunning(restored)));
            double running = secondsSince(stopped);
            double resubmitted = secondsSince(submitted);
            JsonNode first =
                    StandaloneCluster.await(
                            "a checkpoint of the restored job",
                            PROGRESS,
                            () -> cluster.firstCheckpointCompletedAfter(restored, 0));
            double checkpointed =
                    (first.path("latest_ack_timestamp").asLong() - stoppedMillis) / 1000.0;
            System.out.printf(
                    Locale.ROOT,
                    "cluster rescale 2 -> 3: savepoint taken (flink stop) after %.1f s, restored job running at"
                            + " parallelism 3 after %.1f s (flink run -s: %.1f s), first checkpoint after %.1f s%n",
                    saved,
                    running,
                    resubmitted,
                    checkpointed);
            assertThat(monitorVertex(restored).path("parallelism").asInt()).isEqualTo(3);

            topics.produce(
                    name + ".events", keyed(runs, r -> cut.get(r.runId()), r -> r.events().size()));
            topics.awaitCommittedAtEnd(name, name + ".events", PROGRESS);
            List<String> expected = sorted(PipelineITCase.plainReplay(runs));
            List<String> alerts = awaitAlerts(topics, name + ".alerts", expected.size());
            System.out.printf(
                    "cluster rescale: %d alerts (read_committed), %d expected%n",
                    alerts.size(), expected.size());
            assertThat(alerts).doesNotHaveDuplicates().isEqualTo(expected);

            // what makes the check above a check of the state: spikes raised by events after the
            // rescale, which the runs' statistics from before it decide (a run started afresh at
            // the rescale would not raise the same alerts)
            List<String> afterRescale = new ArrayList<>(expected);
            PipelineITCase.plainReplay(truncated(runs, r -> 0, r -> cut.get(r.runId())))
                    .forEach(afterRescale::remove);
            assertThat(afterRescale.stream().map(ClusterITCase::kind))
                    .as("alerts raised by events after the rescale")
                    .containsAnyElementsOf(SPIKE_KINDS);
            assertThat(
                            sorted(
                                    PipelineITCase.plainReplay(
                                            truncated(
                                                    runs,
                                                    r -> cut.get(r.runId()),
                                                    r -> r.events().size()))))
                    .as("the same events judged without the state from before the rescale")
                    .isNotEqualTo(sorted(afterRescale));
            assertCheckpointsIn(checkpoints.resolve(restored));
        } finally {
            cancelIfRunning(job);
            if (resumed != null) {
                cancelIfRunning(resumed);
            }
        }
    }

    /** One run per fault, as the other end-to-end tests stream them. */
    static List<SimulatedRun> runs(long seedBase) {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : Fault.values()) {
            runs.add(RunSimulator.generate(seedBase + f.ordinal(), f));
        }
        return runs;
    }

    /** Sends the records at a rate that spreads them over {@link #LIVE_STREAM_SECONDS}. */
    static void stream(String topic, List<String[]> records) {
        int rate = Math.max(1, records.size() / LIVE_STREAM_SECONDS);
        try (RateLimitedProducer p =
                new RateLimitedProducer(kafka.bootstrapServers(), topic, rate, Map.of())) {
            for (String[] kv : records) {
                p.send(kv[0], kv[1]);
            }
            p.flush();
        }
    }

    /**
     * Records of {@code topic} the consumer group has committed (the sum of its offsets: the topic
     * has no transactional records).
     */
    static long committedRecords(String group, String topic) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            return admin
                    .listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .entrySet()
                    .stream()
                    .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset())
                    .sum();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The index of a run's event {@code fraction} of the way through. */
    static int part(SimulatedRun run, double fraction) {
        return (int) (run.events().size() * fraction);
    }

    /**
     * Where a run is cut at the rescale: two steps before its fault becomes observable, so the
     * steps that show it are judged after the rescale; half way for a run without one.
     */
    static int beforeOnset(SimulatedRun run) {
        if (run.onsetEventIndex() < 0) {
            return run.events().size() / 2;
        }
        int steps = 0;
        for (int i = 0; i < run.events().size(); i++) {
            if (run.events().get(i).contains("\"type\":\"step\"")) {
                if (steps == run.onsetEventIndex()) {
                    return Math.max(1, i - 2);
                }
                steps++;
            }
        }
        throw new IllegalStateException("run " + run.runId() + " has no step at its onset");
    }

    /**
     * Events {@code from} (inclusive) to {@code to} (exclusive) of every run, keyed by run_id and
     * interleaved as a shared topic carries them.
     */
    static List<String[]> keyed(
            List<SimulatedRun> runs,
            ToIntFunction<SimulatedRun> from,
            ToIntFunction<SimulatedRun> to) {
        List<SimulatedRun> parts = truncated(runs, from, to);
        int longest = parts.stream().mapToInt(r -> r.events().size()).max().orElse(0);
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < longest; i++) {
            for (SimulatedRun r : parts) {
                if (i < r.events().size()) {
                    out.add(new String[] {r.runId(), r.events().get(i)});
                }
            }
        }
        return out;
    }

    /** The runs with only their events {@code from} (inclusive) to {@code to} (exclusive). */
    static List<SimulatedRun> truncated(
            List<SimulatedRun> runs,
            ToIntFunction<SimulatedRun> from,
            ToIntFunction<SimulatedRun> to) {
        return runs.stream()
                .map(
                        r ->
                                new SimulatedRun(
                                        r.runId(),
                                        r.fault(),
                                        r.onsetStep(),
                                        r.onsetEventIndex(),
                                        r.faultStartEventIndex(),
                                        r.events().subList(from.applyAsInt(r), to.applyAsInt(r)),
                                        r.description()))
                .toList();
    }

    static void createTopics(String name) {
        TopicAdmin.prepareTopics(
                JobConfig.builder(kafka.bootstrapServers())
                        .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                        .topicPartitions(TOPIC_PARTITIONS)
                        .build());
    }

    /** {@code trainwatch run ...} as a user passes it to {@code flink run}. */
    static List<String> jobArgs(String name, Path checkpoints, int parallelism) {
        return List.of(
                "run",
                JobConfig.BOOTSTRAP_SERVERS,
                kafka.bootstrapServers(),
                JobConfig.EVENTS_TOPIC,
                name + ".events",
                JobConfig.ALERTS_TOPIC,
                name + ".alerts",
                JobConfig.DEAD_LETTER_TOPIC,
                name + ".dead-letter",
                JobConfig.GROUP_ID,
                name,
                JobConfig.STARTING_OFFSETS,
                "earliest",
                JobConfig.TRANSACTIONAL_ID_PREFIX,
                name,
                JobConfig.TOPIC_PARTITIONS,
                Integer.toString(TOPIC_PARTITIONS),
                // file:///... : where Flink must put them, not under a working directory
                JobConfig.CHECKPOINT_DIR,
                checkpoints.toUri().toString(),
                JobConfig.CHECKPOINT_INTERVAL,
                "PT1S",
                JobConfig.PARALLELISM,
                Integer.toString(parallelism));
    }

    static JsonNode monitorVertex(String job) {
        return cluster.vertices(job).stream()
                .filter(v -> v.path("name").asText().contains("monitor-runs"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no monitor-runs vertex in job " + job));
    }

    /** The TaskManager (resource id) running the monitor's first subtask. */
    static String taskManagerRunningTheMonitor(String job) {
        String vertex = monitorVertex(job).path("id").asText();
        return cluster.subtasks(job, vertex).stream()
                .map(s -> s.path("taskmanager-id").asText())
                .filter(id -> id.startsWith("tm-"))
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError("no TaskManager runs the monitor of job " + job));
    }

    /**
     * Every subtask's attempt number by vertex/subtask, -1 for a subtask not RUNNING; empty when
     * the REST API does not answer.
     */
    static Map<String, Integer> attempts(String job) {
        Map<String, Integer> out = new HashMap<>();
        for (JsonNode v : cluster.vertices(job)) {
            String vertex = v.path("id").asText();
            List<JsonNode> subtasks = cluster.subtasks(job, vertex);
            if (subtasks.isEmpty()) {
                return Map.of();
            }
            for (JsonNode s : subtasks) {
                boolean running = s.path("status").asText().equals("RUNNING");
                out.put(
                        vertex + "/" + s.path("subtask").asInt(),
                        running ? s.path("attempt").asInt() : -1);
            }
        }
        return out;
    }

    /** Whether every subtask runs a later attempt than in {@code before}. */
    static boolean restarted(Map<String, Integer> before, String job) {
        Map<String, Integer> now = attempts(job);
        return !now.isEmpty()
                && now.keySet().equals(before.keySet())
                && before.entrySet().stream().allMatch(e -> now.get(e.getKey()) > e.getValue());
    }

    /**
     * The alerts topic's committed values, sorted, once there are at least {@code expected} of them
     * (the sink commits at the checkpoint after the source's offsets: a moment later).
     */
    static List<String> awaitAlerts(BrokerTopics topics, String topic, int expected) {
        List<String> last = new ArrayList<>();
        try {
            return StandaloneCluster.await(
                    expected + " alerts committed on " + topic,
                    PROGRESS,
                    () -> {
                        last.clear();
                        last.addAll(values(topics.readCommitted(topic)));
                        return last.size() >= expected ? Optional.of(last) : Optional.empty();
                    });
        } catch (AssertionError e) {
            return last; // the comparison then shows what is missing
        }
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        return sorted(records.stream().map(ConsumerRecord::value).toList());
    }

    static List<String> sorted(List<String> values) {
        List<String> v = new ArrayList<>(values);
        Collections.sort(v);
        return v;
    }

    static String kind(String alert) {
        return JsonReader.parse(alert).path("kind").asText();
    }

    /**
     * Completed checkpoints (chk-N with _metadata) in the folder --checkpoint-dir named, and
     * nothing under the processes' working directories that a {@code file:} URI taken for a
     * relative path would have made.
     */
    static void assertCheckpointsIn(Path jobCheckpoints) throws IOException {
        assertThat(jobCheckpoints).isDirectory();
        try (Stream<Path> chk = Files.list(jobCheckpoints)) {
            assertThat(
                            chk.filter(p -> p.getFileName().toString().startsWith("chk-"))
                                    .filter(p -> Files.exists(p.resolve("_metadata"))))
                    .isNotEmpty();
        }
        try (Stream<Path> files = Files.walk(cluster.work())) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("file:")))
                    .as("checkpoint folders made under a working directory")
                    .isEmpty();
        }
    }

    static void cancelIfRunning(String job) throws Exception {
        if (cluster.jobState(job)
                .filter(s -> !Set.of("FINISHED", "CANCELED", "FAILED").contains(s))
                .isPresent()) {
            cluster.cancel(job);
        }
    }

    static Optional<Boolean> present(boolean condition) {
        return condition ? Optional.of(true) : Optional.empty();
    }

    static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
