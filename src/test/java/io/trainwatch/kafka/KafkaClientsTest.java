package io.trainwatch.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client factories against a real broker: string (or raw byte) records on the brokers given,
 * the settings given added, and the read_committed consumer that reads a topic from its beginning.
 */
class KafkaClientsTest {
    @RegisterExtension static final KafkaBroker broker = new KafkaBroker();

    /**
     * Settings that would break a client if they replaced what the factory sets itself: brokers
     * where none listens, and (de)serializers of the other kind ({@code kind}: serializer or
     * deserializer).
     */
    static Map<String, Object> conflicting(String kind, Class<?> other) {
        Map<String, Object> s = new HashMap<>();
        s.put("bootstrap.servers", "localhost:1");
        s.put("key." + kind, other.getName());
        s.put("value." + kind, other.getName());
        return s;
    }

    @Test
    void shouldSendAndReadStringsOnTheBrokersGivenWithTheSettingsAdded() throws Exception {
        String topic = "clients-strings";
        broker.createTopic(topic, 1);
        List<String[]> sent =
                List.of(
                        new String[] {"run-1", "{\"loss\":1.5}"},
                        new String[] {"run-\u00e9", "lr \u03bb = 3e-4 \ud83d\ude80"},
                        new String[] {null, ""});
        Map<String, Object> settings = conflicting("serializer", ByteArraySerializer.class);
        settings.put("client.id", "clients-test-producer");
        try (KafkaProducer<String, String> p =
                KafkaClients.producer(broker.bootstrapServers(), settings)) {
            for (String[] kv : sent) {
                p.send(new ProducerRecord<>(topic, kv[0], kv[1])).get(30, TimeUnit.SECONDS);
            }
            // the settings given reach the client: its metrics carry the client id
            assertThat(p.metrics().keySet())
                    .anyMatch(m -> "clients-test-producer".equals(m.tags().get("client-id")));
        }

        try (KafkaConsumer<String, String> c =
                KafkaClients.consumer(
                        broker.bootstrapServers(),
                        conflicting("deserializer", ByteArrayDeserializer.class))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> read = new ArrayList<>();
            KafkaBroker.awaitTrue(
                    () -> {
                        c.poll(Duration.ofMillis(100)).forEach(read::add);
                        return read.size() >= sent.size();
                    },
                    "all records read back");
            assertThat(read)
                    .extracting(r -> new String[] {r.key(), r.value()})
                    .containsExactlyElementsOf(sent);
        }
    }

    @Test
    void shouldHandTheBytesConsumerTheEncodedRecordsUndecoded() throws Exception {
        String topic = "clients-bytes";
        broker.createTopic(topic, 1);
        try (KafkaProducer<String, String> p =
                KafkaClients.producer(broker.bootstrapServers(), Map.of())) {
            p.send(new ProducerRecord<>(topic, "k\u00e9", "v\u00e9")).get(30, TimeUnit.SECONDS);
            p.send(new ProducerRecord<>(topic, null, "no key")).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<byte[], byte[]> c =
                KafkaClients.bytesConsumer(
                        broker.bootstrapServers(),
                        conflicting("deserializer", StringDeserializer.class))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
            KafkaBroker.awaitTrue(
                    () -> {
                        c.poll(Duration.ofMillis(100)).forEach(read::add);
                        return read.size() >= 2;
                    },
                    "both records read back");
            assertThat(read).hasSize(2);
            // UTF-8, as the string serializer wrote them: é is two bytes
            assertThat(read.get(0).key())
                    .isEqualTo("k\u00e9".getBytes(StandardCharsets.UTF_8))
                    .hasSize(3);
            assertThat(read.get(0).value()).isEqualTo("v\u00e9".getBytes(StandardCharsets.UTF_8));
            assertThat(read.get(1).key()).isNull();
            assertThat(read.get(1).value()).isEqualTo("no key".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldReadOnlyCommittedRecordsFromTheBeginningInTheGroupGiven() throws Exception {
        String topic = "clients-committed";
        broker.createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        long openOffset;
        try (KafkaProducer<String, String> tx =
                KafkaClients.producer(
                        broker.bootstrapServers(), Map.of("transactional.id", "clients-test-tx"))) {
            tx.initTransactions();
            transaction(tx, topic, "committed-1", true);
            transaction(tx, topic, "aborted", false);
            transaction(tx, topic, "committed-2", true);
            // a transaction left open: on the broker, but not committed yet
            tx.beginTransaction();
            openOffset =
                    tx.send(new ProducerRecord<>(topic, "k", "open"))
                            .get(30, TimeUnit.SECONDS)
                            .offset();

            // every record was written before the consumer exists: it must start at the beginning
            try (KafkaConsumer<String, String> c =
                    KafkaClients.readCommitted(broker.bootstrapServers(), "clients-reader")) {
                c.subscribe(List.of(topic));
                List<String> read = new ArrayList<>();
                // read_committed stops at the open transaction; read_uncommitted would pass it
                KafkaBroker.awaitTrue(
                        () -> {
                            c.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                            return c.assignment().contains(tp) && c.position(tp) >= openOffset;
                        },
                        "the reader at the open transaction");
                assertThat(c.position(tp)).isEqualTo(openOffset);
                assertThat(read).containsExactly("committed-1", "committed-2");

                tx.commitTransaction();
                KafkaBroker.awaitTrue(
                        () -> {
                            c.poll(Duration.ofMillis(100)).forEach(r -> read.add(r.value()));
                            return read.size() >= 3;
                        },
                        "the record of the transaction committed last");
                assertThat(read).containsExactly("committed-1", "committed-2", "open");
                c.commitSync();
            }
        }
        try (Admin a = broker.admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    a.listConsumerGroupOffsets("clients-reader")
                            .partitionsToOffsetAndMetadata()
                            .get(30, TimeUnit.SECONDS);
            assertThat(committed.get(tp).offset()).isGreaterThan(openOffset);
        }
    }

    @Test
    void shouldConnectTheAdminToTheBrokersGivenWithTheSettingsAdded() throws Exception {
        try (Admin a =
                KafkaClients.admin(
                        broker.bootstrapServers(),
                        Map.of(
                                "bootstrap.servers",
                                "localhost:1",
                                "client.id",
                                "clients-test-admin"))) {
            Collection<Node> nodes = a.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            assertThat(nodes)
                    .extracting(n -> n.host() + ":" + n.port())
                    .containsExactly(broker.bootstrapServers());
            assertThat(a.metrics().keySet())
                    .anyMatch(m -> "clients-test-admin".equals(m.tags().get("client-id")));
        }
    }

    /** One record in a transaction of its own, committed or aborted. */
    private static void transaction(
            KafkaProducer<String, String> tx, String topic, String value, boolean commit)
            throws Exception {
        tx.beginTransaction();
        // on the broker before the transaction ends: an aborted record is there too
        tx.send(new ProducerRecord<>(topic, "k", value)).get(30, TimeUnit.SECONDS);
        if (commit) {
            tx.commitTransaction();
        } else {
            tx.abortTransaction();
        }
    }
}
