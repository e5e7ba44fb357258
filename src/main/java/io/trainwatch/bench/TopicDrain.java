package io.trainwatch.bench;

import io.trainwatch.kafka.KafkaClients;

import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One thread's plain KafkaConsumer reading a topic from its beginning to the end offsets of the
 * moment, each poll handed to a callback: the raw drain and the engine-free ceiling read alike.
 */
final class TopicDrain {
    /**
     * Records read, and the time from creating the consumer, and from its first record, to its
     * last.
     */
    record Timing(long records, double seconds, double steadySeconds) {}

    private TopicDrain() {}

    static Timing drain(
            String bootstrapServers,
            String topic,
            Consumer<ConsumerRecords<byte[], byte[]>> eachPoll) {
        long t0 = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c =
                KafkaClients.bytesConsumer(bootstrapServers, Map.of("max.poll.records", 5000))) {
            List<TopicPartition> parts =
                    c.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long n = 0;
            long first = 0;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                ConsumerRecords<byte[], byte[]> polled = c.poll(Duration.ofMillis(100));
                if (n == 0 && !polled.isEmpty()) {
                    first = System.nanoTime();
                }
                n += polled.count();
                eachPoll.accept(polled);
            }
            return new Timing(n, Bench.secs(t0), Bench.secs(first));
        }
    }
}
