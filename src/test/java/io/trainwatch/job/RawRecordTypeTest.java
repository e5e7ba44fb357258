package io.trainwatch.job;

import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.util.InstantiationUtil;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every record crosses the keyBy with {@link RawRecordType}'s serializer: Flink's own serializer
 * checks (copy, serialize alone and in sequence, reuse, snapshot and restore, duplicate, shipping),
 * over records with every field null or set, non-ASCII text, text UTF-8 cannot hold as it is, and a
 * payload past 64 KiB; and the job's keyBy uses it.
 */
class RawRecordTypeTest extends SerializerTestBase<RawRecord> {
    static final String EVENT = "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":0.5}";

    @BeforeAll
    static void registerTheTypesAsTheJobDoes() {
        TrainwatchTypes.register();
    }

    @Override
    protected TypeSerializer<RawRecord> createSerializer() {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        return TypeInformation.of(RawRecord.class).createSerializer(noKryo);
    }

    @Override
    protected int getLength() {
        return -1;
    }

    @Override
    protected Class<RawRecord> getTypeClass() {
        return RawRecord.class;
    }

    @Override
    protected RawRecord[] getTestData() {
        RawRecord keyed = RawRecord.ofKafka(utf8("run-1"), utf8(EVENT), "trainwatch.events", 1, 9);
        keyed.runId = "run-1";
        RawRecord keyless = RawRecord.ofKafka(utf8(EVENT), "trainwatch.events", 0, 0);
        keyless.runId = "r";
        RawRecord line =
                new RawRecord(EVENT.replace("\"r\"", "\"été-中文-🚀\""), "runs.jsonl", -1, 12);
        line.runId = "été-中文-🚀";
        // a hostile text record: its dead letter must show it as it came
        RawRecord unpaired =
                new RawRecord("{\"run_id\":\"\uD800 \uDC00x\uDBFF\"}", "hostile:\uDFFF");
        RawRecord large = RawRecord.ofKafka(new byte[70_000], "t", 2, Long.MAX_VALUE);
        large.payload = "x".repeat(70_000);
        RawRecord empty = RawRecord.ofKafka(new byte[0], new byte[0], "", 0, 0);
        empty.runId = "";
        return new RawRecord[] {new RawRecord(), keyed, keyless, line, unpaired, large, empty};
    }

    @Test
    void shouldBeTheTypeFlinkExtractsForRawRecords() {
        assertThat(TypeInformation.of(RawRecord.class)).isInstanceOf(RawRecordType.Info.class);
        assertThat(createSerializer()).isSameAs(RawRecordType.Serializer.INSTANCE);
        assertThat(new KafkaSerde.RawRecordDeserializationSchema().getProducedType())
                .isInstanceOf(RawRecordType.Info.class);
    }

    @Test
    void shouldKeepAnUnpairedSurrogateWhereUtf8WouldWriteAQuestionMark() throws Exception {
        String hostile = "a\uD800b";
        assertThat(new String(hostile.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
                .isEqualTo("a?b");
        RawRecord r = new RawRecord(hostile, "hostile", -1, 3);
        assertThat(roundTrip(r).payload).isEqualTo(hostile);
        assertThat(RawRecordType.Serializer.hasUnpairedSurrogate(hostile)).isTrue();
        assertThat(RawRecordType.Serializer.hasUnpairedSurrogate("🚀 é")).isFalse();
    }

    /** Strings are UTF-8 with a length: a plain Kafka record is its bytes and a few more. */
    @Test
    void shouldWriteAKafkaRecordAsItsBytesAndAFewMore() throws Exception {
        RawRecord r = RawRecord.ofKafka(utf8("run-1"), utf8(EVENT), "events", 1, 9);
        r.runId = "run-1";
        DataOutputSerializer out = new DataOutputSerializer(256);
        createSerializer().serialize(r, out);
        // payload null, utf8, origin, partition, position, key, runId
        int expected = 4 + (4 + EVENT.length()) + (4 + 6) + 4 + 8 + (4 + 5) + (4 + 5);
        assertThat(out.length()).isEqualTo(expected);
    }

    @Test
    void shouldShipTheSerializerToTheTaskManagers() throws Exception {
        TypeSerializer<RawRecord> shipped =
                InstantiationUtil.deserializeObject(
                        InstantiationUtil.serializeObject(createSerializer()),
                        getClass().getClassLoader());
        assertThat(shipped).isEqualTo(createSerializer());
        for (RawRecord r : getTestData()) {
            assertThat(roundTrip(shipped, r)).isEqualTo(r);
        }
    }

    /** The job's keyBy carries records with this serializer, not Flink's POJO serializer. */
    @Test
    void shouldCarryRecordsAcrossTheJobsKeyByWithThisSerializer() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TrainwatchJob.defineWorkflow(
                env,
                env.fromData(RawRecord.class, new RawRecord(EVENT, "test")),
                new MonitorConfig(Thresholds.DEFAULTS, 1, false));
        StreamGraph graph = env.getStreamGraph();
        StreamNode monitor =
                graph.getStreamNodes().stream()
                        .filter(n -> n.getOperatorName().equals("monitor-runs"))
                        .findFirst()
                        .orElseThrow();
        assertThat(monitor.getTypeSerializersIn())
                .singleElement()
                .isInstanceOf(RawRecordType.Serializer.class);
    }

    private RawRecord roundTrip(RawRecord r) throws Exception {
        return roundTrip(createSerializer(), r);
    }

    private static RawRecord roundTrip(TypeSerializer<RawRecord> s, RawRecord r) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(r, out);
        return s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
