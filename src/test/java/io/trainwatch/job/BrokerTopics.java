package io.trainwatch.job;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the end-to-end tests do with a real broker's topics: write keyed records as trainers would,
 * read what a read_committed consumer sees, and wait for the job's consumer group to reach the end
 * of its input.
 */
public record BrokerTopics(String bootstrapServers) {

    /** Sends the (key, value) records in order and waits until the broker has them all. */
    public void produce(String topic, List<String[]> keyedRecords) {
        try (KafkaProducer<String, String> p =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrapServers,
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.LINGER_MS_CONFIG,
                                5))) {
            for (String[] kv : keyedRecords) {
                p.send(new ProducerRecord<>(topic, kv[0], kv[1]));
            }
            p.flush();
        }
    }

    /**
     * All committed records of a topic, read with isolation.level=read_committed up to its current
     * end.
     */
    public List<ConsumerRecord<String, String>> readCommitted(String topic) {
        try (KafkaConsumer<String, String> c =
                new KafkaConsumer<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrapServers,
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                                "read_committed",
                                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class,
                                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class))) {
            List<TopicPartition> parts = partitions(c, topic);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))
                    && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    /**
     * Every committed record value of a topic written so far, open transactions included once they
     * commit: read with read_committed until the position passes the high watermark taken first (a
     * read_committed consumer's own end offsets stop at the first open transaction, so {@link
     * #readCommitted} may stop before records a checkpoint is about to commit).
     */
    public List<String> valuesPastHighWatermark(String topic, Duration timeout) {
        Map<TopicPartition, Long> high;
        try (KafkaConsumer<String, String> uncommitted = consumer(Map.of())) {
            high = uncommitted.endOffsets(partitions(uncommitted, topic));
        }
        try (KafkaConsumer<String, String> c =
                consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            c.assign(high.keySet());
            c.seekToBeginning(high.keySet());
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (high.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            topic + " not read past its high watermark " + high + " in " + timeout);
                }
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
            }
            return out;
        }
    }

    private KafkaConsumer<String, String> consumer(Map<String, Object> extra) {
        Map<String, Object> config =
                new java.util.HashMap<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                bootstrapServers,
                                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class,
                                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                                StringDeserializer.class));
        config.putAll(extra);
        return new KafkaConsumer<>(config);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        return c.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
    }

    /** The values of {@link #readCommitted}, in partition order. */
    public List<String> values(String topic) {
        return readCommitted(topic).stream().map(ConsumerRecord::value).toList();
    }

    /**
     * Waits until the consumer group's committed offsets reach the topic's end offsets; returns the
     * records in it.
     */
    public long awaitCommittedAtEnd(String group, String topic, Duration timeout) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers));
                KafkaConsumer<String, String> c = consumer(Map.of())) {
            List<TopicPartition> parts = partitions(c, topic);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            while (System.currentTimeMillis() < deadline) {
                var committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                if (parts.stream()
                        .allMatch(
                                p ->
                                        committed.get(p) != null
                                                && committed.get(p).offset() >= end.get(p))) {
                    return end.values().stream().mapToLong(Long::longValue).sum();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
            }
            throw new AssertionError(
                    "consumer group "
                            + group
                            + " did not reach the end of "
                            + topic
                            + " within "
                            + timeout);
        }
    }
}
