package io.trainwatch.job;

import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.InstantiationUtil;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class NamedValuesTypeTest {
    static final NamedValues EVERY_KIND =
            NamedValues.builder()
                    .put("long", -(1L << 40))
                    .put("double", 1.0e-5)
                    .put("nan", Double.NaN)
                    .put("unknown", (Double) null)
                    .put("flag", false)
                    .put("text", "\u0000 ü " + "x".repeat(70_000)) // past writeUTF's 64 KiB
                    .put("no_text", (String) null)
                    .put("doubles", new double[] {0.5, Double.NEGATIVE_INFINITY})
                    .put("strings", Arrays.asList("step 4", null))
                    .put("empty", List.of())
                    .build();

    @BeforeAll
    static void registerTheTypesAsTheJobDoes() {
        TrainwatchTypes.register();
    }

    @Test
    void shouldRoundTripEveryKindOfValue() throws Exception {
        TypeSerializer<NamedValues> s = serializer();
        for (NamedValues v : List.of(EVERY_KIND, NamedValues.builder().build())) {
            NamedValues back = roundTrip(s, v);
            assertThat(back).isEqualTo(v);
            assertThat(JsonWriter.namedValues(back)).isEqualTo(JsonWriter.namedValues(v));
            // copying the serialized form gives the same bytes
            DataOutputSerializer copied = new DataOutputSerializer(64);
            s.copy(new DataInputDeserializer(bytes(s, v)), copied);
            assertThat(copied.getCopyOfBuffer()).isEqualTo(bytes(s, v));
        }
    }

    @Test
    void shouldRestoreTheSerializerFromItsSnapshotAsIs() throws Exception {
        TypeSerializer<NamedValues> s = serializer();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, s.snapshotConfiguration());
        TypeSerializerSnapshot<NamedValues> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        getClass().getClassLoader());
        assertThat(
                        s.snapshotConfiguration()
                                .resolveSchemaCompatibility(restored)
                                .isCompatibleAsIs())
                .isTrue();
        assertThat(roundTrip(restored.restoreSerializer(), EVERY_KIND)).isEqualTo(EVERY_KIND);
    }

    @Test
    void shouldShipTheSerializerToTheTaskManagers() throws Exception {
        TypeSerializer<NamedValues> s = serializer();
        TypeSerializer<NamedValues> shipped =
                InstantiationUtil.deserializeObject(
                        InstantiationUtil.serializeObject(s), getClass().getClassLoader());
        assertThat(shipped).isEqualTo(s);
        assertThat(roundTrip(shipped, EVERY_KIND)).isEqualTo(EVERY_KIND);
    }

    private static TypeSerializer<NamedValues> serializer() {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        TypeInformation<NamedValues> t = TypeInformation.of(NamedValues.class);
        assertThat(t).isInstanceOf(NamedValuesType.Info.class);
        return t.createSerializer(noKryo);
    }

    private static NamedValues roundTrip(TypeSerializer<NamedValues> s, NamedValues v)
            throws Exception {
        return s.deserialize(new DataInputDeserializer(bytes(s, v)));
    }

    private static byte[] bytes(TypeSerializer<NamedValues> s, NamedValues v) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(v, out);
        return out.getCopyOfBuffer();
    }
}
