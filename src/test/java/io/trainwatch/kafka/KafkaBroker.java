package io.trainwatch.kafka;

import io.trainwatch.embedded.EmbeddedKafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A real Kafka broker (KRaft, in this JVM) for the tests of one class: {@code @RegisterExtension
 * static final KafkaBroker broker = new KafkaBroker();}. Its helpers look at the broker with plain
 * Kafka clients, not with the classes under test.
 */
final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
    /** Generous: the machine may be loaded, and a deadline only costs time when a test fails. */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private EmbeddedKafka kafka;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (kafka != null) {
            kafka.close();
        }
    }

    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    EmbeddedKafka kafka() {
        return kafka;
    }

    Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrapServers()));
    }

    Set<String> topicNames() throws Exception {
        try (Admin a = admin()) {
            return a.listTopics().names().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /**
     * The topics as the broker describes them, once it does: a topic just created may be unknown to
     * it for a moment.
     */
    Map<String, TopicDescription> describe(Collection<String> topics) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        try (Admin a = admin()) {
            while (true) {
                try {
                    return a.describeTopics(topics)
                            .allTopicNames()
                            .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                            || System.nanoTime() > deadline) {
                        throw e;
                    }
                    LockSupport.parkNanos(50_000_000);
                }
            }
        }
    }

    /** Creates the topic (one replica) and returns once the broker describes it. */
    void createTopic(String name, int partitions) throws Exception {
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        describe(List.of(name));
    }

    int partitions(String topic) throws Exception {
        return describe(List.of(topic)).get(topic).partitions().size();
    }

    /**
     * Every record of the topic up to its current end (read_uncommitted), partition by partition,
     * each in offset order.
     */
    List<ConsumerRecord<String, String>> readAll(String topic) {
        try (KafkaConsumer<String, String> c =
                KafkaClients.consumer(bootstrapServers(), Map.of())) {
            List<TopicPartition> parts =
                    c.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .sorted(Comparator.comparingInt(TopicPartition::partition))
                            .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end " + end);
                }
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            out.sort(
                    Comparator.comparingInt((ConsumerRecord<String, String> r) -> r.partition())
                            .thenComparingLong(ConsumerRecord::offset));
            return out;
        }
    }

    /**
     * Checks {@code condition} until it holds, failing after {@link #DEADLINE}; each check should
     * itself wait a little (a consumer poll), this loop does not.
     */
    static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + DEADLINE + ": " + what);
            }
        }
    }
}
