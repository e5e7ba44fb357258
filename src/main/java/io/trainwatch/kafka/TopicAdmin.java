package io.trainwatch.kafka;

import io.trainwatch.job.JobConfig;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The topics around the job: checked and created before it starts ({@link #prepareTopics}), created
 * for a producer that may come first, and whether the job has read a topic to its end. Each failure
 * is one sentence without secrets.
 */
public final class TopicAdmin {
    static final int ADMIN_TIMEOUT_SECONDS = 15;

    private TopicAdmin() {}

    /**
     * Checks the brokers answer and the job's topics exist, creating missing ones unless told not
     * to; returns the topics it created (not one another start created meanwhile: that is no
     * error). Throws {@link IllegalStateException} with one clear sentence (no secrets) when the
     * brokers cannot be reached or a topic is missing.
     */
    public static List<String> prepareTopics(JobConfig cfg) {
        Map<String, Object> settings = new HashMap<>(cfg.kafkaProperties());
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ADMIN_TIMEOUT_SECONDS * 1000);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ADMIN_TIMEOUT_SECONDS * 1000);
        List<String> created = new ArrayList<>();
        Admin admin;
        try {
            admin = KafkaClients.admin(cfg.bootstrapServers(), settings);
        } catch (KafkaException e) {
            // an address that does not resolve or parse, or unusable security settings, fail here,
            // before any request
            throw cannotReach(cfg, " (" + rootMessage(e) + ")");
        }
        try (Admin a = admin) {
            try {
                a.describeCluster().nodes().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                throw cannotReach(
                        cfg, " within " + ADMIN_TIMEOUT_SECONDS + " s (" + rootMessage(e) + ")");
            }
            Set<String> existing =
                    a.listTopics().names().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<String> wanted =
                    new ArrayList<>(
                            List.of(cfg.eventsTopic(), cfg.alertsTopic(), cfg.deadLetterTopic()));
            if (cfg.seriesTopic() != null) {
                wanted.add(cfg.seriesTopic());
            }
            if (cfg.notifications() != null) {
                wanted.add(cfg.notifyFailedTopic());
                wanted.add(cfg.notifySentLogTopic());
            }
            List<NewTopic> missing = new ArrayList<>();
            for (String t : wanted) {
                if (!existing.contains(t)) {
                    if (!cfg.createTopics()) {
                        throw new IllegalStateException(
                                "topic "
                                        + t
                                        + " does not exist (and "
                                        + JobConfig.NO_CREATE_TOPICS
                                        + " was given)");
                    }
                    missing.add(new NewTopic(t, cfg.topicPartitions(), (short) 1));
                }
            }
            if (!missing.isEmpty()) {
                Map<String, KafkaFuture<Void>> creating = a.createTopics(missing).values();
                for (NewTopic t : missing) {
                    try {
                        creating.get(t.name()).get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        created.add(t.name());
                    } catch (ExecutionException e) {
                        // another start (a job, the demo's producer) created it since it was listed
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            throw e;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking Kafka topics");
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "Kafka topic check failed at "
                            + cfg.bootstrapServers()
                            + ": "
                            + rootMessage(e));
        }
        return created;
    }

    /**
     * Creates {@code topic} with the broker's default partitions and replication unless it exists.
     */
    public static void createIfMissing(String bootstrapServers, String topic)
            throws InterruptedException {
        try (Admin admin =
                KafkaClients.admin(
                        bootstrapServers,
                        Map.of(
                                "request.timeout.ms",
                                ADMIN_TIMEOUT_SECONDS * 1000,
                                "default.api.timeout.ms",
                                ADMIN_TIMEOUT_SECONDS * 1000))) {
            if (!admin.listTopics()
                    .names()
                    .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                    .contains(topic)) {
                admin.createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())))
                        .all()
                        .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            // a KafkaException: the admin client refused the address or settings, before any
            // request
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (!(cause instanceof TopicExistsException)) {
                throw new IllegalStateException(
                        "cannot reach Kafka at "
                                + bootstrapServers
                                + " to create "
                                + topic
                                + " within "
                                + ADMIN_TIMEOUT_SECONDS
                                + " s ("
                                + cause.getClass().getSimpleName()
                                + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
                                + ")");
            }
        }
    }

    /** Creates {@code topic} with {@code partitions} partitions (one replica). */
    public static void create(String bootstrapServers, String topic, int partitions)
            throws ExecutionException, InterruptedException {
        try (Admin a = KafkaClients.admin(bootstrapServers, Map.of())) {
            a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /**
     * True when {@code group}'s committed offsets (the job commits them at each checkpoint) reach
     * the end of {@code topic}.
     */
    public static boolean committedAtEnd(String bootstrapServers, String group, String topic)
            throws ExecutionException, InterruptedException {
        try (Admin admin = KafkaClients.admin(bootstrapServers, Map.of());
                KafkaConsumer<String, String> c =
                        KafkaClients.consumer(bootstrapServers, Map.of())) {
            List<TopicPartition> parts =
                    c.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            return parts.stream()
                    .allMatch(
                            p ->
                                    committed.get(p) != null
                                            && committed.get(p).offset() >= end.get(p));
        }
    }

    private static IllegalStateException cannotReach(JobConfig cfg, String how) {
        return new IllegalStateException(
                "cannot reach Kafka at "
                        + cfg.bootstrapServers()
                        + how
                        + "; check "
                        + JobConfig.BOOTSTRAP_SERVERS
                        + " and the security settings given with "
                        + JobConfig.KAFKA_PROPERTY);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
