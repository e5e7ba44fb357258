package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonReader;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.notify.DispatchSettings;
import io.trainwatch.simulate.SimulatedRun;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live job with {@code --alerts-delivery at-least-once} on a real broker started in-process:
 * every alert of the exactly-once job (the plain replay's, which {@link KafkaITCase} shows the
 * exactly-once job writes for these runs) is on the alerts topic, and its notification at the
 * receiver, before any checkpoint has completed; a kill-and-restore loses no alert (duplicates
 * allowed: exact copies); a restored notifier does not send again what it sent after its
 * checkpoint.
 */
class AtLeastOnceITCase {
    @RegisterExtension static final InProcessBroker BROKER = new InProcessBroker();

    static final Duration DEADLINE = Duration.ofSeconds(60);

    static JobConfig config(String name, Path checkpoints, Duration interval, String from) {
        return JobConfig.builder(BROKER.bootstrapServers())
                .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                .groupId(name)
                .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                .checkpointDir(checkpoints.toString())
                .checkpointInterval(interval)
                .fromCheckpoint(from)
                .transactionalIdPrefix(name)
                .notifyTopics(name + ".notify-failed", name + ".notify-sent")
                .alertsDelivery(JobConfig.AlertsDelivery.AT_LEAST_ONCE)
                .build();
    }

    @Test
    void shouldWriteAndNotifyEveryAlertBeforeAnyCheckpointCompletes(@TempDir Path checkpoints)
            throws Exception {
        List<SimulatedRun> runs = NotificationsITCase.runs(91_000);
        Set<String> expected = new TreeSet<>(KafkaITCase.expectedAlerts(runs));
        try (HttpReceiver receiver = HttpReceiver.healthy()) {
            NotifyConfig notify =
                    NotificationsITCase.everyAlertTo(
                            receiver, "/hook", DispatchSettings.defaults());
            JobConfig cfg =
                    JobConfig.builder(BROKER.bootstrapServers())
                            .topics("alo-early.events", "alo-early.alerts", "alo-early.dead")
                            .groupId("alo-early")
                            .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                            .checkpointDir(checkpoints.toString())
                            // the first checkpoint comes a random time up to one interval after
                            // the start, unless the minimum pause is the interval: an hour away
                            .checkpointInterval(Duration.ofHours(1))
                            .notifications(notify)
                            .notifyTopics("alo-early.notify-failed", "alo-early.notify-sent")
                            .alertsDelivery(JobConfig.AlertsDelivery.AT_LEAST_ONCE)
                            .build();
            TopicAdmin.prepareTopics(cfg);
            Configuration flink = KafkaPipeline.configuration(cfg);
            flink.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, cfg.checkpointInterval());
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(flink);
            env.setParallelism(cfg.parallelism());
            KafkaPipeline.define(env, cfg);
            JobClient job = env.executeAsync("alo-early-itcase");
            try (AlertReader alerts = new AlertReader(cfg.alertsTopic())) {
                long sent = System.nanoTime();
                BROKER.topics().produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0, 1));
                alerts.awaitAll(expected, DEADLINE);
                double alertsAfter = (System.nanoTime() - sent) / 1e9;
                Set<String> keys =
                        NotificationsITCase.keysOf(
                                expected.stream().map(JsonReader::parse).toList(),
                                Set.of("info", "warning", "critical"));
                HttpReceiver.await(
                        "every notification",
                        DEADLINE,
                        () ->
                                receiver.acceptedBy(r -> r.header("Idempotency-Key"))
                                        .keySet()
                                        .equals(keys));
                double notifiedAfter = (System.nanoTime() - sent) / 1e9;
                // what a checkpoint would leave: its folder, and the source's offsets committed
                assertThat(completedCheckpoints(checkpoints)).isEmpty();
                assertThat(committedOffsets(cfg.groupId())).isEmpty();
                alerts.readToEnd();
                System.out.printf(
                        "at least once: %d alerts (%d records) on the topic %.1f s after the events"
                                + " were sent, %d notifications %.1f s after; no checkpoint yet%n",
                        expected.size(),
                        alerts.records.size(),
                        alertsAfter,
                        keys.size(),
                        notifiedAfter);
                assertThat(new TreeSet<>(alerts.records)).isEqualTo(expected);
                assertThat(alerts.records).hasSameSizeAs(expected); // no failure: no duplicate
                assertThat(receiver.acceptedBy(r -> r.header("Idempotency-Key")))
                        .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldLoseNoAlertAcrossAKillAndRestore(@TempDir Path checkpoints) throws Exception {
        List<SimulatedRun> runs = KafkaITCase.runs(93_000);
        List<String> expected = KafkaITCase.expectedAlerts(runs);
        JobConfig first = config("alo-restore", checkpoints, Duration.ofMillis(300), null);
        TopicAdmin.prepareTopics(first);
        List<String[]> records = KafkaITCase.keyed(runs, 0, 1);
        BROKER.topics().produce(first.eventsTopic(), records.subList(0, records.size() / 2));
        JobClient job = start(first);
        KafkaITCase.awaitCheckpoint(checkpoints, 2, DEADLINE);
        job.cancel().get(60, TimeUnit.SECONDS);
        // the latest checkpoint, as Flink's own failover restores it
        Path latest = KafkaITCase.awaitCheckpoint(checkpoints, 2, DEADLINE);
        int beforeKill;
        try (AlertReader alerts = new AlertReader(first.alertsTopic())) {
            beforeKill = alerts.readToEnd().size();
        }

        BROKER.topics()
                .produce(first.eventsTopic(), records.subList(records.size() / 2, records.size()));
        JobConfig second =
                config("alo-restore", checkpoints, Duration.ofMillis(300), latest.toString());
        JobClient restored = start(second);
        try {
            // the offsets reach the end with a checkpoint, which flushed every alert before it
            BROKER.topics().awaitCommittedAtEnd(second.groupId(), second.eventsTopic(), DEADLINE);
        } finally {
            restored.cancel().get(60, TimeUnit.SECONDS);
        }
        List<String> written;
        try (AlertReader alerts = new AlertReader(first.alertsTopic())) {
            written = alerts.readToEnd();
        }
        System.out.printf(
                "at least once, kill after %s and restore: %d alerts expected, %d records (%d before"
                        + " the kill), %d distinct, %d written twice%n",
                latest.getFileName(),
                expected.size(),
                written.size(),
                beforeKill,
                written.stream().distinct().count(),
                written.size() - written.stream().distinct().count());
        // none missing, none that an uninterrupted run would not write; a copy is the same record
        assertThat(new TreeSet<>(written)).isEqualTo(new TreeSet<>(expected));
    }

    @Test
    void shouldNotifyAsRaisedAndNotAgainWhatWasSentAfterTheRestoredCheckpoint() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.healthy();
                Admin admin =
                        Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            admin.createTopics(
                            List.of(
                                    new NewTopic("alo-window.sent", 1, (short) 1),
                                    new NewTopic("alo-window.empty", 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            NotifyConfig notify =
                    NotificationsITCase.everyAlertTo(
                            receiver, "/hook", DispatchSettings.defaults());
            SentNotificationLog.Location log =
                    new SentNotificationLog.Location(
                            BROKER.bootstrapServers(), Map.of(), "alo-window.sent");
            OperatorSubtaskState checkpoint;
            try (var h = harness(notify, log)) {
                h.open();
                checkpoint = h.snapshot(1L, 1L);
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-a", 10)));
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-b", 20)));
                // no checkpoint completes: they go out as they come
                HttpReceiver.await(
                        "both delivered without a checkpoint",
                        DEADLINE,
                        () -> receiver.acceptedBy(r -> r.header("Idempotency-Key")).size() == 2);
                // the job dies here; restored from checkpoint 1, it raises both again
            }
            try (var h = harness(notify, log)) {
                h.initializeState(checkpoint);
                h.open();
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-a", 10)));
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-b", 20)));
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-c", 30)));
                HttpReceiver.await(
                        "the new alert delivered",
                        DEADLINE,
                        () -> receiver.acceptedBy(r -> r.header("Idempotency-Key")).size() == 3);
            }
            assertThat(receiver.requests()).hasSize(3);
            assertThat(receiver.acceptedBy(r -> r.header("Idempotency-Key")))
                    .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));

            // the same restore reading a log that shows nothing delivered sends both again: the log
            // is what prevented it
            try (var h =
                    harness(
                            notify,
                            new SentNotificationLog.Location(
                                    BROKER.bootstrapServers(), Map.of(), "alo-window.empty"))) {
                h.initializeState(checkpoint);
                h.open();
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-a", 10)));
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-b", 20)));
                HttpReceiver.await("sent again", DEADLINE, () -> receiver.requests().size() == 5);
            }
        }
    }

    static JobClient start(JobConfig cfg) throws Exception {
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        return env.executeAsync(cfg.groupId() + "-itcase");
    }

    private static OneInputStreamOperatorTestHarness<Alert, FailedNotification> harness(
            NotifyConfig notify, SentNotificationLog.Location log) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new DeliverNotificationsOperator(notify, log, false));
    }

    /** The chk-N folders holding a completed checkpoint's _metadata. */
    private static List<Path> completedCheckpoints(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root, 2)) {
            return s.filter(
                            p ->
                                    p.getFileName().toString().startsWith("chk-")
                                            && Files.exists(p.resolve("_metadata")))
                    .toList();
        }
    }

    private static Map<TopicPartition, ?> committedOffsets(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            return admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The alerts topic as an at-least-once consumer reads it: read_uncommitted (there are no
     * transactions), from the beginning, every record kept in the order read.
     */
    static final class AlertReader implements AutoCloseable {
        final List<String> records = new ArrayList<>();
        private final KafkaConsumer<String, String> consumer;
        private final List<TopicPartition> partitions;

        AlertReader(String topic) {
            consumer =
                    new KafkaConsumer<>(
                            Map.of(
                                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                    BROKER.bootstrapServers(),
                                    ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                                    "read_uncommitted",
                                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                                    StringDeserializer.class,
                                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                                    StringDeserializer.class));
            partitions =
                    consumer.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        /** Reads until every expected alert has been seen, failing after {@code timeout}. */
        void awaitAll(Set<String> expected, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            Set<String> seen = new TreeSet<>();
            while (!seen.containsAll(expected)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "not within "
                                    + timeout
                                    + ": "
                                    + seen.size()
                                    + " of "
                                    + expected.size()
                                    + " alerts");
                }
                consumer.poll(Duration.ofMillis(50))
                        .forEach(
                                r -> {
                                    records.add(r.value());
                                    seen.add(r.value());
                                });
            }
        }

        /** Reads on to the end offsets of now; returns every record read so far. */
        List<String> readToEnd() {
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("alerts not read to " + end + " in " + DEADLINE);
                }
                consumer.poll(Duration.ofMillis(100)).forEach(r -> records.add(r.value()));
            }
            return records;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
