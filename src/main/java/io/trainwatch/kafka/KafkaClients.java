package io.trainwatch.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.HashMap;
import java.util.Map;

/**
 * The plain Kafka clients trainwatch's own tools use around the job (the demo's producer and alert
 * reader, the bench's producers and drain, the topic check): string keys and values, or raw bytes
 * for a drain, on the brokers given, with the settings given added.
 */
public final class KafkaClients {
    private KafkaClients() {}

    public static KafkaProducer<String, String> producer(
            String bootstrapServers, Map<String, Object> settings) {
        Map<String, Object> c = base(bootstrapServers, settings);
        c.put("key.serializer", StringSerializer.class.getName());
        c.put("value.serializer", StringSerializer.class.getName());
        return new KafkaProducer<>(c);
    }

    public static KafkaConsumer<String, String> consumer(
            String bootstrapServers, Map<String, Object> settings) {
        Map<String, Object> c = base(bootstrapServers, settings);
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", StringDeserializer.class.getName());
        return new KafkaConsumer<>(c);
    }

    /**
     * A consumer in group {@code groupId} that reads only committed records (the job's exactly-once
     * outputs) from the beginning of the topics it subscribes to.
     */
    public static KafkaConsumer<String, String> readCommitted(
            String bootstrapServers, String groupId) {
        return consumer(
                bootstrapServers,
                Map.of(
                        "isolation.level",
                        "read_committed",
                        "group.id",
                        groupId,
                        "auto.offset.reset",
                        "earliest"));
    }

    /** Keys and values as bytes, not decoded: what reading a topic costs at the least. */
    public static KafkaConsumer<byte[], byte[]> bytesConsumer(
            String bootstrapServers, Map<String, Object> settings) {
        Map<String, Object> c = base(bootstrapServers, settings);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(c);
    }

    public static Admin admin(String bootstrapServers, Map<String, Object> settings) {
        return Admin.create(base(bootstrapServers, settings));
    }

    private static Map<String, Object> base(String bootstrapServers, Map<String, Object> settings) {
        Map<String, Object> c = new HashMap<>(settings);
        c.put("bootstrap.servers", bootstrapServers);
        return c;
    }
}
