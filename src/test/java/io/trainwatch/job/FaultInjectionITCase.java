package io.trainwatch.job;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.event.JsonReader;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.simulate.SimulatedRun;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ErrorInfo;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults on the live path, against the real broker and PostgreSQL started in-process, with the job
 * started as the {@code run} command starts it ({@link KafkaPipeline#environment}, {@link
 * KafkaPipeline#define}): the broker stopped mid-stream for {@link #OUTAGE} and restarted on its
 * data, and PostgreSQL stopped for as long and restarted on its data. The job is never FAILED and
 * recovers by itself: the alerts topic, read_committed, then holds exactly the alerts of an
 * uninterrupted run, and the tables every series row, alert and dead letter. The recovery times,
 * and how often the job restarted, are printed (quoted in the README). The job runs on a
 * MiniCluster the test holds, so that its restarts can be counted from the execution graph.
 */
class FaultInjectionITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.parallelismTwo();

    /** How long a server is held down: the fault itself, measured with a clock. */
    static final Duration OUTAGE = Duration.ofSeconds(20);

    /**
     * From a server's restart until the outputs are complete: generous, for a loaded 2-core
     * machine.
     */
    static final Duration RECOVERY_DEADLINE = Duration.ofSeconds(180);

    static final Duration CATCH_UP_DEADLINE = Duration.ofSeconds(120);
    static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final List<String> MALFORMED =
            List.of(
                    "{broken",
                    "{\"type\":\"step\",\"run_id\":\"x\",\"step\":-1,\"loss\":1}",
                    "{\"type\":\"step\",\"step\":1,\"loss\":1}",
                    "{\"type\":\"step\",\"run_id\":\"x\",\"step\":1,\"loss\":[1]}");

    static LiveServers servers;
    static EmbeddedKafka kafka;
    static EmbeddedPostgres postgres;
    static BrokerTopics topics;

    @BeforeAll
    static void startServers() throws Exception {
        servers = LiveServers.start();
        kafka = servers.kafka();
        postgres = servers.postgres();
        topics = new BrokerTopics(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    void shouldLeaveExactlyTheUninterruptedAlertsWhenTheBrokerIsDownMidStream(
            @TempDir Path checkpoints, @InjectMiniCluster MiniCluster flink) throws Exception {
        JobConfig cfg =
                KafkaITCase.config(
                        kafka.bootstrapServers(),
                        "fault-broker",
                        null,
                        false,
                        checkpoints.toString(),
                        null,
                        null);
        TopicAdmin.prepareTopics(cfg);
        List<SimulatedRun> runs = KafkaITCase.runs(53_000);
        List<String> expected = KafkaITCase.expectedAlerts(runs);
        topics.produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0, 0.4));

        RunningJob job = RunningJob.start(cfg, "fault-injection-broker", flink);
        boolean brokerDown = false;
        try {
            List<String> committedBefore =
                    awaitEqual(
                            () -> KafkaITCase.values(topics.readCommitted(cfg.alertsTopic())),
                            KafkaITCase.expectedAlerts(prefix(runs, 0.4)),
                            CATCH_UP_DEADLINE,
                            "alerts of the first 40 % of the events");
            // mid-stream: the job is reading these while the broker goes away, its alerts in open
            // transactions
            topics.produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0.4, 0.7));
            long downAt = System.nanoTime();
            brokerDown = true;
            kafka.stop();
            double stopSeconds = secondsSince(downAt);
            job.watchUntil(downAt + OUTAGE.toNanos());
            long restartAt = System.nanoTime();
            kafka.restart();
            brokerDown = false;
            long upAt = System.nanoTime();
            double downSeconds = (upAt - downAt) / 1e9;
            // the trainers' events of the outage arrive once the broker is back
            topics.produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0.7, 1));

            // caught up: every alert of the whole input committed, which needs every event judged
            // and a checkpoint after
            List<String> complete =
                    awaitEqual(
                            () -> KafkaITCase.values(topics.readCommitted(cfg.alertsTopic())),
                            expected,
                            RECOVERY_DEADLINE,
                            "read_committed alerts after the broker restart");
            double caughtUpSeconds = secondsSince(upAt);
            job.watch();
            topics.awaitCommittedAtEnd(cfg.groupId(), cfg.eventsTopic(), CATCH_UP_DEADLINE);
            double offsetsSeconds = secondsSince(upAt);
            job.watch();
            System.out.printf(
                    "fault broker: broker down %.1f s (stop %.1f s, restart %.1f s); job caught up %.1f s after broker restart;"
                            + " alerts complete (%d, %d of them committed before the outage); consumer group at the end of the events after %.1f s; %s%n",
                    downSeconds,
                    stopSeconds,
                    (upAt - restartAt) / 1e9,
                    caughtUpSeconds,
                    complete.size(),
                    committedBefore.size(),
                    offsetsSeconds,
                    job.summary());
            assertThat(job.status()).isEqualTo(JobStatus.RUNNING);
            // an outage within the producers' window passes without a restart; one restart from the
            // checkpoint would
            // still be a recovery by itself, restart after restart is the crash loop this must
            // never be
            assertThat(job.restarts()).as(job.summary()).isLessThanOrEqualTo(1);
        } finally {
            if (brokerDown) {
                kafka.restart(); // for the next test, whatever failed here
            }
            job.cancel();
        }
        assertThat(job.seen()).doesNotContain(JobStatus.FAILING, JobStatus.FAILED);

        // after the job is gone: nothing late, nothing twice
        List<String> alerts = KafkaITCase.values(topics.readCommitted(cfg.alertsTopic()));
        assertThat(alerts).doesNotHaveDuplicates();
        assertThat(alerts).isEqualTo(expected);
    }

    @Test
    void shouldFillThePostgresTablesCompletelyAfterAnOutageWithoutFailingTheJob(
            @TempDir Path checkpoints, @InjectMiniCluster MiniCluster flink) throws Exception {
        PostgresConfig pg =
                new PostgresConfig(
                        postgres.createDatabase("fault_postgres"), EmbeddedPostgres.USER, null);
        PostgresSchema.prepare(pg);
        JobConfig cfg =
                KafkaITCase.config(
                        kafka.bootstrapServers(),
                        "fault-postgres",
                        "fault-postgres.series",
                        false,
                        checkpoints.toString(),
                        null,
                        pg);
        TopicAdmin.prepareTopics(cfg);
        List<SimulatedRun> runs = KafkaITCase.runs(59_000);
        List<String> expected = KafkaITCase.expectedAlerts(runs);
        long[] expectedRows = {
            KafkaITCase.distinctSteps(runs),
            KafkaITCase.distinctAlertIds(expected),
            MALFORMED.size()
        };
        topics.produce(
                cfg.eventsTopic(),
                withMalformed(KafkaITCase.keyed(runs, 0, 0.4), MALFORMED.subList(0, 2)));

        RunningJob job = RunningJob.start(cfg, "fault-injection-postgres", flink);
        boolean postgresDown = false;
        try {
            awaitEqual(
                    () -> KafkaITCase.values(topics.readCommitted(cfg.alertsTopic())),
                    KafkaITCase.expectedAlerts(prefix(runs, 0.4)),
                    CATCH_UP_DEADLINE,
                    "alerts of the first 40 % of the events");
            // mid-stream: the job writes these rows while PostgreSQL goes away
            topics.produce(
                    cfg.eventsTopic(),
                    withMalformed(
                            KafkaITCase.keyed(runs, 0.4, 0.7),
                            MALFORMED.subList(2, MALFORMED.size())));
            long downAt = System.nanoTime();
            postgresDown = true;
            postgres.stop();
            double stopSeconds = secondsSince(downAt);
            int alertsAtStop = topics.readCommitted(cfg.alertsTopic()).size();
            job.watchUntil(downAt + OUTAGE.toNanos());
            int alertsAtRestart = topics.readCommitted(cfg.alertsTopic()).size();
            long restartAt = System.nanoTime();
            postgres.restart();
            postgresDown = false;
            long upAt = System.nanoTime();
            double downSeconds = (upAt - downAt) / 1e9;
            topics.produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0.7, 1));

            awaitEqual(
                    () -> rows(pg, cfg.eventsTopic()),
                    expectedRows,
                    RECOVERY_DEADLINE,
                    "rows of trainwatch_series, trainwatch_alerts, trainwatch_dead_letters");
            double tablesSeconds = secondsSince(upAt);
            job.watch();
            awaitEqual(
                    () -> KafkaITCase.values(topics.readCommitted(cfg.alertsTopic())),
                    expected,
                    RECOVERY_DEADLINE,
                    "read_committed alerts");
            double alertsSeconds = secondsSince(upAt);
            job.watch();
            System.out.printf(
                    "fault postgres: postgres down %.1f s (stop %.1f s, restart %.1f s); tables complete %.1f s after restart"
                            + " (%d series rows, %d alert rows, %d dead letters); Kafka alerts complete after %.1f s; alerts committed to Kafka while"
                            + " postgres was down: %d; %s%n",
                    downSeconds,
                    stopSeconds,
                    (upAt - restartAt) / 1e9,
                    tablesSeconds,
                    expectedRows[0],
                    expectedRows[1],
                    expectedRows[2],
                    alertsSeconds,
                    alertsAtRestart - alertsAtStop,
                    job.summary());
            assertThat(job.status()).isEqualTo(JobStatus.RUNNING);
            // the sinks wait the outage out (without that: a restart every 1-5 s while PostgreSQL
            // is down); one restart
            // from the checkpoint would still be a recovery by itself, restart after restart is a
            // crash loop
            assertThat(job.restarts()).as(job.summary()).isLessThanOrEqualTo(1);
        } finally {
            if (postgresDown) {
                postgres.restart();
            }
            job.cancel();
        }
        assertThat(job.seen()).doesNotContain(JobStatus.FAILING, JobStatus.FAILED);

        // the rows are those of the Kafka topics, which are those of an uninterrupted run
        assertThat(KafkaITCase.values(topics.readCommitted(cfg.alertsTopic()))).isEqualTo(expected);
        Set<String> seriesOnKafka = new HashSet<>();
        for (ConsumerRecord<String, String> r : topics.readCommitted(cfg.seriesTopic())) {
            JsonNode p = JsonReader.parse(r.value());
            seriesOnKafka.add(p.path("run_id").asText() + "@" + p.path("step").asLong());
        }
        assertThat(query(pg, "SELECT run_id || '@' || step FROM trainwatch_series"))
                .hasSize((int) expectedRows[0])
                .containsExactlyInAnyOrderElementsOf(seriesOnKafka);
        Map<String, String> latestAlert = new HashMap<>();
        for (String a :
                PipelineITCase.plainReplay(
                        runs)) { // in the order raised: the last is an alert's latest status
            JsonNode n = JsonReader.parse(a);
            latestAlert.put(
                    n.path("alert_id").asText(),
                    String.join(
                            "|",
                            n.path("alert_id").asText(),
                            n.path("run_id").asText(),
                            n.path("kind").asText(),
                            n.path("severity").asText(),
                            n.path("status").asText(),
                            n.path("onset_step").asText(),
                            n.path("step").asText(),
                            n.path("message").asText()));
        }
        assertThat(
                        query(
                                pg,
                                "SELECT concat_ws('|', alert_id, run_id, kind, severity, status, onset_step, step, message) FROM trainwatch_alerts"))
                .containsExactlyInAnyOrderElementsOf(latestAlert.values());
        List<String> deadSources =
                topics.readCommitted(cfg.deadLetterTopic()).stream()
                        .map(
                                r ->
                                        new String(
                                                r.headers()
                                                        .lastHeader(KafkaSerde.HEADER_SOURCE)
                                                        .value(),
                                                StandardCharsets.UTF_8))
                        .toList();
        assertThat(deadSources).hasSize(MALFORMED.size());
        assertThat(query(pg, "SELECT source FROM trainwatch_dead_letters"))
                .containsExactlyInAnyOrderElementsOf(deadSources);
    }

    /** Each run's first {@code fraction} of events, as {@link KafkaITCase#keyed} cuts them. */
    static List<SimulatedRun> prefix(List<SimulatedRun> runs, double fraction) {
        return runs.stream()
                .map(
                        r ->
                                new SimulatedRun(
                                        r.runId(),
                                        r.fault(),
                                        r.onsetStep(),
                                        r.onsetEventIndex(),
                                        r.faultStartEventIndex(),
                                        r.events().subList(0, (int) (r.events().size() * fraction)),
                                        r.description()))
                .toList();
    }

    /** The records with the malformed ones spread among them (key "bad"). */
    static List<String[]> withMalformed(List<String[]> records, List<String> malformed) {
        List<String[]> out = new ArrayList<>(records);
        for (int i = 0; i < malformed.size(); i++) {
            out.add(
                    (i + 1) * out.size() / (malformed.size() + 1),
                    new String[] {"bad", malformed.get(i)});
        }
        return out;
    }

    /** Row counts of the three tables, or null while PostgreSQL does not answer. */
    static long[] rows(PostgresConfig pg, String eventsTopic) {
        try {
            return KafkaITCase.postgresRows(pg, eventsTopic);
        } catch (Exception notYet) {
            return null;
        }
    }

    static List<String> query(PostgresConfig pg, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = PostgresSchema.connect(pg);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * Polls {@code actual} until it equals {@code expected}; fails with the last value seen after
     * {@code deadline}.
     */
    static <T> T awaitEqual(Supplier<T> actual, T expected, Duration deadline, String what) {
        long end = System.nanoTime() + deadline.toNanos();
        T last = actual.get();
        while (!Objects.deepEquals(last, expected) && System.nanoTime() < end) {
            LockSupport.parkNanos(POLL_NANOS);
            last = actual.get();
        }
        assertThat(last).as("%s within %s", what, deadline).isEqualTo(expected);
        return last;
    }

    static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    /** The live job, every status it was seen in, and how often it restarted. */
    static final class RunningJob {
        private final JobClient client;
        private final MiniCluster cluster;
        private final Set<JobStatus> seen = new LinkedHashSet<>();

        private RunningJob(JobClient client, MiniCluster cluster) {
            this.client = client;
            this.cluster = cluster;
        }

        /** As the run command starts it (the environment's executor submits to {@code cluster}). */
        static RunningJob start(JobConfig cfg, String name, MiniCluster cluster) throws Exception {
            StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
            KafkaPipeline.define(env, cfg);
            RunningJob job = new RunningJob(env.executeAsync(name), cluster);
            job.watch();
            return job;
        }

        JobStatus status() throws Exception {
            return client.getJobStatus().get(30, TimeUnit.SECONDS);
        }

        /** Notes the current status; fails at once when the job has ended. */
        void watch() throws Exception {
            JobStatus s = status();
            seen.add(s);
            assertThat(s.isTerminalState()).as("job status %s (seen: %s)", s, seen).isFalse();
        }

        /**
         * Watches the job until the clock reaches {@code nanoTime} (the outage is held for that
         * long).
         */
        void watchUntil(long nanoTime) throws Exception {
            while (System.nanoTime() < nanoTime) {
                watch();
                LockSupport.parkNanos(
                        Math.min(POLL_NANOS, Math.max(0, nanoTime - System.nanoTime())));
            }
        }

        Set<JobStatus> seen() {
            return seen;
        }

        /**
         * Restarts so far: every task is restarted together (keyBy joins them in one failover
         * region).
         */
        int restarts() throws Exception {
            int attempts = 0;
            for (AccessExecutionVertex v : graph().getAllExecutionVertices()) {
                attempts = Math.max(attempts, v.getCurrentExecutionAttempt().getAttemptNumber());
            }
            return attempts;
        }

        /** For the printed line: statuses, restarts, and the last failure's cause. */
        String summary() throws Exception {
            ErrorInfo failure = graph().getFailureInfo();
            String cause =
                    failure == null
                            ? ""
                            : "; last failure: "
                                    + failure.getException().getOriginalErrorClassName()
                                    + ": "
                                    + String.valueOf(failure.getException().getMessage())
                                            .lines()
                                            .findFirst()
                                            .orElse("");
            return "job statuses seen: " + seen + ", restarts: " + restarts() + cause;
        }

        private AccessExecutionGraph graph() throws Exception {
            return cluster.getExecutionGraph(client.getJobID()).get(30, TimeUnit.SECONDS);
        }

        void cancel() throws Exception {
            if (!client.getJobExecutionResult().isDone()) {
                client.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }
}
