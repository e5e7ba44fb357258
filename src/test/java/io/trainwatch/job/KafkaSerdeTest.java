package io.trainwatch.job;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Event records come off Kafka as they are: value, position and key, none of them decoded. */
class KafkaSerdeTest {
    @Test
    void shouldKeepTheValueThePositionAndTheKeyAsBytes() throws Exception {
        byte[] key = "run-1".getBytes(StandardCharsets.UTF_8);
        byte[] value = "{\"type\":\"step\"}".getBytes(StandardCharsets.UTF_8);
        List<RawRecord> out = new ArrayList<>();
        new KafkaSerde.RawRecordDeserializationSchema()
                .deserialize(new ConsumerRecord<>("events", 3, 41L, key, value), collector(out));
        assertThat(out).hasSize(1);
        RawRecord r = out.get(0);
        assertThat(r.key).isSameAs(key);
        assertThat(r.utf8).isSameAs(value);
        assertThat(r.payload).isNull();
        assertThat(r.source()).isEqualTo(RawRecord.ofKafka(value, "events", 3, 41).source());
    }

    @Test
    void shouldReadARecordWithoutKeyOrValue() throws Exception {
        List<RawRecord> out = new ArrayList<>();
        new KafkaSerde.RawRecordDeserializationSchema()
                .deserialize(new ConsumerRecord<>("events", 0, 0L, null, null), collector(out));
        assertThat(out.get(0).key).isNull();
        assertThat(out.get(0).utf8).isEmpty();
    }

    /**
     * The job and bench's Flink floor ship raw records across their keyBy: with their key, without
     * Kryo.
     */
    @Test
    void shouldRoundTripARawRecordWithItsKeyThroughItsSerializer() throws Exception {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        TypeSerializer<RawRecord> serializer =
                new KafkaSerde.RawRecordDeserializationSchema()
                        .getProducedType()
                        .createSerializer(noKryo);
        assertThat(serializer).isInstanceOf(RawRecordType.Serializer.class);
        RawRecord r =
                RawRecord.ofKafka(
                        "run-1".getBytes(StandardCharsets.UTF_8),
                        "{}".getBytes(StandardCharsets.UTF_8),
                        "events",
                        1,
                        9);
        DataOutputSerializer bytes = new DataOutputSerializer(64);
        serializer.serialize(r, bytes);
        RawRecord back = serializer.deserialize(new DataInputDeserializer(bytes.getCopyOfBuffer()));
        assertThat(back.key).isEqualTo(r.key);
        assertThat(back.utf8).isEqualTo(r.utf8);
        assertThat(back.source()).isEqualTo(r.source());
    }

    private static Collector<RawRecord> collector(List<RawRecord> out) {
        return new Collector<>() {
            @Override
            public void collect(RawRecord record) {
                out.add(record);
            }

            @Override
            public void close() {}
        };
    }
}
