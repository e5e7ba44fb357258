package io.trainwatch.job;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end against a real Kafka broker started in-process: events in, alerts out (read_committed)
 * equal to the plain replay, and the same run written to a real PostgreSQL started in-process;
 * malformed records on the dead-letter topic with their reason; and a job stopped mid-stream and
 * restored from its last checkpoint leaves exactly the alerts of an uninterrupted run.
 */
class KafkaITCase {
    static LiveServers servers;
    static EmbeddedKafka kafka;
    static EmbeddedPostgres postgres;

    @BeforeAll
    static void startServers() throws Exception {
        servers = LiveServers.start();
        kafka = servers.kafka();
        postgres = servers.postgres();
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (servers != null) {
            servers.close();
        }
    }

    static JobConfig config(
            String name, boolean stopAtEnd, String checkpointDir, String fromCheckpoint) {
        return config(name, stopAtEnd, checkpointDir, fromCheckpoint, null);
    }

    static JobConfig config(
            String name,
            boolean stopAtEnd,
            String checkpointDir,
            String fromCheckpoint,
            PostgresConfig pg) {
        return config(
                kafka.bootstrapServers(), name, null, stopAtEnd, checkpointDir, fromCheckpoint, pg);
    }

    /** Topics named after {@code name}; {@code seriesTopic} null: no series topic. */
    static JobConfig config(
            String bootstrapServers,
            String name,
            String seriesTopic,
            boolean stopAtEnd,
            String checkpointDir,
            String fromCheckpoint,
            PostgresConfig pg) {
        return config(
                bootstrapServers,
                name,
                seriesTopic,
                stopAtEnd,
                checkpointDir,
                fromCheckpoint,
                pg,
                JobConfig.StateBackend.HASHMAP);
    }

    /**
     * As above, on {@code backend}; the heap backend with a checkpoint folder takes the changelog
     * (the riskier restore path), RocksDB its incremental checkpoints.
     */
    static JobConfig config(
            String bootstrapServers,
            String name,
            String seriesTopic,
            boolean stopAtEnd,
            String checkpointDir,
            String fromCheckpoint,
            PostgresConfig pg,
            JobConfig.StateBackend backend) {
        return JobConfig.builder(bootstrapServers)
                .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                .seriesTopic(seriesTopic)
                .groupId(name)
                .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                .checkpointDir(checkpointDir)
                .checkpointInterval(Duration.ofMillis(300))
                .fromCheckpoint(fromCheckpoint)
                .stopAtEnd(stopAtEnd)
                .transactionalIdPrefix(name)
                .stateBackend(backend)
                .stateChangelog(checkpointDir != null && backend == JobConfig.StateBackend.HASHMAP)
                .postgres(pg)
                .build();
    }

    static List<SimulatedRun> runs(long seedBase) {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : Fault.values()) {
            runs.add(RunSimulator.generate(seedBase + f.ordinal(), f));
        }
        return runs;
    }

    /** The broker's topics, as the tests write and read them. */
    static BrokerTopics topics() {
        return new BrokerTopics(kafka.bootstrapServers());
    }

    static void produce(String topic, List<String[]> keyedRecords) {
        topics().produce(topic, keyedRecords);
    }

    /**
     * Every run's events keyed by run_id, interleaved; from {@code fromFraction} to {@code
     * toFraction} of each run.
     */
    static List<String[]> keyed(List<SimulatedRun> runs, double fromFraction, double toFraction) {
        List<String[]> out = new ArrayList<>();
        int longest = runs.stream().mapToInt(r -> r.events().size()).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (SimulatedRun r : runs) {
                int from = (int) (r.events().size() * fromFraction);
                int to = (int) (r.events().size() * toFraction);
                if (i >= from && i < to) {
                    out.add(new String[] {r.runId(), r.events().get(i)});
                }
            }
        }
        return out;
    }

    /**
     * All committed records of a topic, read with isolation.level=read_committed up to its current
     * end.
     */
    static List<ConsumerRecord<String, String>> readCommitted(String topic) {
        return topics().readCommitted(topic);
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        List<String> v = new ArrayList<>(records.stream().map(ConsumerRecord::value).toList());
        Collections.sort(v);
        return v;
    }

    static List<String> expectedAlerts(List<SimulatedRun> runs) throws Exception {
        List<String> e = PipelineITCase.plainReplay(runs);
        Collections.sort(e);
        return e;
    }

    @Test
    void shouldWriteTheReplayAlertsExactlyOnceAndDeadLetterMalformedRecordsAlsoToPostgres()
            throws Exception {
        PostgresConfig pg =
                new PostgresConfig(
                        postgres.createDatabase("kafka_e2e"), EmbeddedPostgres.USER, null);
        JobConfig cfg = config("e2e", true, null, null, pg);
        TopicAdmin.prepareTopics(cfg);
        assertThat(PostgresSchema.prepare(pg).roleWarning()).isNull();
        List<SimulatedRun> runs = runs(31_000);
        List<String[]> records = keyed(runs, 0, 1);
        // read from the records' bytes: broken JSON, a negative step, no run_id, wrong types, a
        // step too large for a long
        List<String> malformed =
                List.of(
                        "{broken",
                        "{\"type\":\"step\",\"run_id\":\"x\",\"step\":-1,\"loss\":1}",
                        "{\"type\":\"step\",\"step\":1,\"loss\":1}",
                        "{\"type\":\"step\",\"run_id\":\"x\",\"step\":1,\"loss\":[1]}",
                        "{\"type\":\"step\",\"run_id\":\"r\u00e9\",\"step\":1,\"loss\":1,\"lr\":\"high\"}",
                        "{\"type\":\"step\",\"run_id\":\"x\",\"step\":1e30,\"loss\":1}");
        malformed.forEach(m -> records.add(records.size() / 2, new String[] {"bad", m}));
        produce(cfg.eventsTopic(), records);

        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        env.execute("kafka-itcase-e2e");

        List<String> alerts = values(readCommitted(cfg.alertsTopic()));
        System.out.printf(
                "kafka e2e: %d events in, %d alerts out (read_committed)%n",
                records.size(), alerts.size());
        assertThat(alerts).isNotEmpty().isEqualTo(expectedAlerts(runs));
        List<ConsumerRecord<String, String>> dead = readCommitted(cfg.deadLetterTopic());
        assertThat(dead)
                .extracting(ConsumerRecord::value)
                .containsExactlyInAnyOrderElementsOf(malformed);
        for (ConsumerRecord<String, String> d : dead) {
            assertThat(
                            new String(
                                    d.headers().lastHeader(KafkaSerde.HEADER_REASON).value(),
                                    StandardCharsets.UTF_8))
                    .isNotBlank();
            assertThat(
                            new String(
                                    d.headers().lastHeader(KafkaSerde.HEADER_SOURCE).value(),
                                    StandardCharsets.UTF_8))
                    .startsWith(cfg.eventsTopic() + "-");
        }

        // the same outputs in PostgreSQL: one row per (run, step), per alert id (its latest
        // status), per rejected record
        long[] rows = postgresRows(pg, cfg.eventsTopic());
        System.out.printf(
                "kafka e2e to postgres: %d series rows, %d alert rows, %d dead letters%n",
                rows[0], rows[1], rows[2]);
        assertThat(rows)
                .containsExactly(distinctSteps(runs), distinctAlertIds(alerts), malformed.size());
    }

    /** How many (run, step) pairs the runs log. */
    static long distinctSteps(List<SimulatedRun> runs) throws Exception {
        EventCodec codec = new EventCodec();
        Set<String> steps = new HashSet<>();
        for (SimulatedRun run : runs) {
            for (String line : run.events()) {
                TrainingEvent e = codec.parse(line);
                if (e.type == EventType.STEP) {
                    steps.add(e.runId + "@" + e.step);
                }
            }
        }
        return steps.size();
    }

    static long distinctAlertIds(List<String> alerts) {
        return alerts.stream()
                .map(a -> JsonReader.parse(a).path("alert_id").asText())
                .distinct()
                .count();
    }

    /**
     * Rows of trainwatch_series, trainwatch_alerts, and of trainwatch_dead_letters from {@code
     * topic}.
     */
    static long[] postgresRows(PostgresConfig pg, String topic) throws Exception {
        try (Connection c = PostgresSchema.connect(pg);
                Statement st = c.createStatement()) {
            long[] rows = new long[3];
            String[] queries = {
                "SELECT count(*) FROM trainwatch_series",
                "SELECT count(*) FROM trainwatch_alerts",
                "SELECT count(*) FROM trainwatch_dead_letters WHERE source LIKE '" + topic + "-%@%'"
            };
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = st.executeQuery(queries[i])) {
                    rs.next();
                    rows[i] = rs.getLong(1);
                }
            }
            return rows;
        }
    }

    @ParameterizedTest
    @EnumSource(JobConfig.StateBackend.class)
    void shouldLeaveExactlyTheUninterruptedAlertsAfterAKillAndRestore(
            JobConfig.StateBackend backend, @TempDir Path checkpoints) throws Exception {
        String name = "restore-" + backend.flinkName();
        PostgresConfig pg =
                new PostgresConfig(
                        postgres.createDatabase("kafka_" + name.replace('-', '_')),
                        EmbeddedPostgres.USER,
                        null);
        PostgresSchema.prepare(pg);
        JobConfig first = restoreConfig(name, checkpoints, null, pg, backend);
        TopicAdmin.prepareTopics(first);
        List<SimulatedRun> runs = runs(47_000);
        produce(first.eventsTopic(), keyed(runs, 0, 0.5));

        StreamExecutionEnvironment env = KafkaPipeline.environment(first);
        KafkaPipeline.define(env, first);
        JobClient job = env.executeAsync("kafka-itcase-before-kill");
        Path checkpoint = awaitCheckpoint(checkpoints, 2, Duration.ofSeconds(60));
        job.cancel().get();
        System.out.println("killed after checkpoint " + checkpoint);

        produce(first.eventsTopic(), keyed(runs, 0.5, 1));
        // restored splits keep the first job's (unbounded) stopping offsets, so the restored job
        // runs until its
        // committed offsets reach the end of the topic: everything read is then checkpointed and
        // its alerts committed
        JobConfig second = restoreConfig(name, checkpoints, checkpoint.toString(), pg, backend);
        StreamExecutionEnvironment env2 = KafkaPipeline.environment(second);
        KafkaPipeline.define(env2, second);
        JobClient restored = env2.executeAsync("kafka-itcase-after-restore");
        awaitCommittedAtEnd(second.groupId(), second.eventsTopic(), Duration.ofSeconds(120));
        restored.cancel().get();

        List<String> alerts = values(readCommitted(first.alertsTopic()));
        List<String> expected = expectedAlerts(runs);
        System.out.printf(
                "kill and restore (%s): %d alerts after restore, %d expected, %d distinct%n",
                backend.flinkName(),
                alerts.size(),
                expected.size(),
                alerts.stream().distinct().count());
        assertThat(alerts).hasSameSizeAs(alerts.stream().distinct().toList()); // no duplicates
        assertThat(alerts).isEqualTo(expected); // none missing, none extra
        // PostgreSQL is written at least once: what the killed job wrote after its last checkpoint
        // is written again after
        // the restore, onto the same rows (upserts): the rows of an uninterrupted run, none added
        long[] rows = postgresRows(pg, first.eventsTopic());
        System.out.printf(
                "kill and restore to postgres: %d series rows, %d alert rows%n", rows[0], rows[1]);
        assertThat(rows).containsExactly(distinctSteps(runs), distinctAlertIds(expected), 0);
    }

    private static JobConfig restoreConfig(
            String name,
            Path checkpoints,
            String fromCheckpoint,
            PostgresConfig pg,
            JobConfig.StateBackend backend) {
        return config(
                kafka.bootstrapServers(),
                name,
                null,
                false,
                checkpoints.toString(),
                fromCheckpoint,
                pg,
                backend);
    }

    /** Waits until the consumer group's committed offsets reach the topic's end offsets. */
    static void awaitCommittedAtEnd(String group, String topic, Duration timeout) throws Exception {
        topics().awaitCommittedAtEnd(group, topic, timeout);
    }

    /**
     * Waits until a completed checkpoint (a chk-N folder with _metadata, N >= minimum) exists;
     * returns its folder.
     */
    static Path awaitCheckpoint(Path root, int minimum, Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (System.currentTimeMillis() < deadline) {
            Optional<Path> chk;
            try (Stream<Path> s = Files.walk(root, 2)) {
                chk =
                        s.filter(
                                        p ->
                                                p.getFileName().toString().startsWith("chk-")
                                                        && Files.exists(p.resolve("_metadata")))
                                .filter(
                                        p ->
                                                Integer.parseInt(
                                                                p.getFileName()
                                                                        .toString()
                                                                        .substring(4))
                                                        >= minimum)
                                .max(
                                        (a, b) ->
                                                Integer.compare(
                                                        Integer.parseInt(
                                                                a.getFileName()
                                                                        .toString()
                                                                        .substring(4)),
                                                        Integer.parseInt(
                                                                b.getFileName()
                                                                        .toString()
                                                                        .substring(4))));
            }
            if (chk.isPresent()) {
                return chk.get();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
        }
        throw new AssertionError("no completed checkpoint within " + timeout);
    }

    static final ObjectMapper JSON = new ObjectMapper();
}
