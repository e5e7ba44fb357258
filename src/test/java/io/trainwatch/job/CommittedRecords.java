package io.trainwatch.job;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every committed record written to a topic so far, open transactions included once they commit:
 * read with isolation.level=read_committed until the position passes the high watermark taken first
 * (a read_committed consumer's own end offsets stop at the first open transaction, so {@link
 * BrokerTopics#readCommitted} may stop before records a checkpoint is about to commit).
 */
final class CommittedRecords {
    private CommittedRecords() {}

    static List<String> values(String bootstrapServers, String topic, Duration timeout) {
        Map<String, Object> common =
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                        StringDeserializer.class,
                        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                        StringDeserializer.class);
        Map<TopicPartition, Long> high;
        try (KafkaConsumer<String, String> uncommitted = new KafkaConsumer<>(common)) {
            high =
                    uncommitted.endOffsets(
                            uncommitted.partitionsFor(topic).stream()
                                    .map(p -> new TopicPartition(topic, p.partition()))
                                    .toList());
        }
        Map<String, Object> committed = new java.util.HashMap<>(common);
        committed.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(committed)) {
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
}
