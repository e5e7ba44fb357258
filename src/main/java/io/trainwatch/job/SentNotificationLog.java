package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.notify.WebhookRequest;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The record of notifications delivered, on a Kafka topic, written the moment a receiver accepts
 * one. A checkpoint keeps what is still owed, but a notification delivered after the last
 * checkpoint would be owed again after a kill-and-restore; the restore reads this log from that
 * checkpoint on and drops what it shows delivered. What is left is the few milliseconds between a
 * receiver's answer and this record, which the Idempotency-Key (webhook) and the dedup key
 * (PagerDuty) cover.
 *
 * <p>Keys: {@code <target fingerprint>:<idempotency key>}; values: a small JSON object for people
 * reading the topic (no secret: the target is named by its fingerprint).
 */
public final class SentNotificationLog implements AutoCloseable {
    /** Where the log is: brokers, client properties, topic. */
    public record Location(
            String bootstrapServers, Map<String, String> kafkaProperties, String topic)
            implements Serializable {
        public Location {
            kafkaProperties = Map.copyOf(kafkaProperties);
        }
    }

    private final Location location;
    private final KafkaProducer<String, String> producer;

    private SentNotificationLog(Location location, KafkaProducer<String, String> producer) {
        this.location = location;
        this.producer = producer;
    }

    public static SentNotificationLog open(Location location) {
        Map<String, Object> p = new HashMap<>(location.kafkaProperties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, location.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // a transactional id in the job's properties is not for this producer
        p.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        return new SentNotificationLog(
                location, new KafkaProducer<>(p, new StringSerializer(), new StringSerializer()));
    }

    public static String key(String targetFingerprint, Alert alert) {
        return targetFingerprint + ":" + WebhookRequest.idempotencyKey(alert);
    }

    /** Records one delivery; asynchronous (the producer sends at once, linger 0). */
    public void delivered(String key, Alert alert, long atMillis) {
        producer.send(
                new ProducerRecord<>(
                        location.topic(),
                        null,
                        atMillis,
                        key,
                        JsonWriter.object(
                                "alert_id", alert.alertId,
                                "status", alert.status,
                                "occurrences", alert.occurrences,
                                "delivered_at",
                                        java.time.Instant.ofEpochMilli(atMillis).toString())));
    }

    /** Waits until every record so far is on the brokers. */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }

    /**
     * The keys recorded at or after {@code fromMillis}: every partition read from the first record
     * at that time to the end present now. Throws when the brokers do not answer within {@code
     * timeout}.
     */
    public static Set<String> keysSince(Location location, long fromMillis, Duration timeout) {
        Map<String, Object> c = new HashMap<>(location.kafkaProperties());
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, location.bootstrapServers());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        Set<String> keys = new HashSet<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(location.topic(), timeout);
            if (infos == null || infos.isEmpty()) {
                return keys;
            }
            List<TopicPartition> partitions =
                    infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, fromMillis));
            Map<TopicPartition, OffsetAndTimestamp> starts =
                    consumer.offsetsForTimes(query, timeout);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp start = starts.get(tp);
                long from = start == null ? ends.get(tp) : start.offset();
                consumer.seek(tp, from);
                if (from < ends.get(tp)) {
                    remaining.put(tp, ends.get(tp));
                }
            }
            while (!remaining.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "reading the sent-notification log "
                                    + location.topic()
                                    + " took longer than "
                                    + timeout);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    keys.add(r.key());
                }
                remaining.keySet().removeIf(tp -> consumer.position(tp) >= remaining.get(tp));
            }
        }
        return keys;
    }
}
