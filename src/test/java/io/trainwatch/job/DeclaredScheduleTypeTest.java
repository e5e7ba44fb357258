package io.trainwatch.job;

import io.trainwatch.detect.RunState;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.DeclaredSchedule;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.StringValue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The declared schedule travels parsed: in the run state through checkpoints (and in a run_start
 * event, should one cross operators), as its spec text, without Kryo, parsed once per distinct
 * spec.
 */
class DeclaredScheduleTypeTest {
    static final String RUN_START =
            "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"cosine\","
                    + "\"name\":\"a golden case's name, not kept\",\"params\":{\"num_warmup_steps\":20,"
                    + "\"num_training_steps\":500,\"base_lrs\":[3e-4]}}}";

    static SerializerConfigImpl noKryo;

    @BeforeAll
    static void registerAsTheJobDoes() {
        TrainwatchTypes.register();
        noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
    }

    @Test
    void shouldGiveTheScheduleFieldsTheirOwnTypeNotAGenericOne() {
        for (Class<?> c : new Class<?>[] {TrainingEvent.class, RunState.class}) {
            PojoTypeInfo<?> pojo = (PojoTypeInfo<?>) TypeInformation.of(c);
            int field = pojo.getFieldIndex("schedule");
            assertThat(pojo.getTypeAt(field))
                    .as(c.getSimpleName() + ".schedule")
                    .isInstanceOf(DeclaredScheduleType.Info.class);
        }
    }

    @Test
    void shouldCarryARunStartAcrossTheShuffleAsTheSameSchedule() throws Exception {
        TrainingEvent start = new EventCodec().parse(RUN_START);
        TypeSerializer<TrainingEvent> serializer =
                TypeInformation.of(TrainingEvent.class).createSerializer(noKryo);

        TrainingEvent first = roundTrip(serializer, start);
        TrainingEvent second = roundTrip(serializer, start);

        assertThat(first).isEqualTo(start);
        assertThat(first.schedule.spec()).doesNotContain("golden case");
        assertThat(first.schedule.lr(0, 20)).isEqualTo(start.schedule.lr(0, 20)).isEqualTo(3e-4);
        // parsed once: the runs that declare one spec share one schedule (and its warmup)
        assertThat(second.schedule).isSameAs(first.schedule);
    }

    @Test
    void shouldKeepTheRunStatesScheduleThroughACheckpoint() throws Exception {
        RunState state = new RunState();
        state.runId = "r";
        state.schedule = new EventCodec().parse(RUN_START).schedule;
        TypeSerializer<RunState> serializer =
                TypeInformation.of(RunState.class).createSerializer(noKryo);

        RunState restored = roundTrip(serializer, state);

        assertThat(restored.schedule).isEqualTo(state.schedule);
        assertThat(restored.schedule.warmup()).isEqualTo(state.schedule.warmup());
        RunState without = roundTrip(serializer, new RunState());
        assertThat(without.schedule).isNull();
    }

    @Test
    void shouldRestoreASpecThisVersionRefusesAsNoScheduleInsteadOfFailingTheRestore()
            throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        StringValue.writeString("{\"scheduler\":\"NoSuchLR\"}", out);
        DeclaredSchedule back =
                new DeclaredScheduleType.Serializer()
                        .deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back).isNull();
    }

    private static <T> T roundTrip(TypeSerializer<T> serializer, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(value, out);
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }
}
