package io.trainwatch.job;

import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.InstantiationUtil;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class StateAndTypesTest {
    /**
     * A run's state is bounded: fixed-size windows and counters. 4 KiB until suggestions were
     * anchored to the healthy history (HealthyGradLevel, about 80 bytes more: 4,107 measured).
     */
    static final int MAX_STATE_BYTES = 4608;

    @BeforeAll
    static void registerTheTypesAsTheJobDoes() {
        TrainwatchTypes.register();
    }

    /**
     * The raw record, which every event crosses the keyBy as, has a serializer of its own
     * (RawRecordTypeTest); the others are POJOs. TrainingEvent no longer crosses an operator (it is
     * parsed behind the keyBy) but stays a POJO, as the run's state holds its parts.
     */
    @Test
    void shouldSerializeEveryTypeCrossingOperatorsAsPojoWithoutKryo() {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        assertThat(TypeInformation.of(RawRecord.class)).isInstanceOf(RawRecordType.Info.class);
        for (Class<?> c :
                List.of(
                        TrainingEvent.class,
                        Alert.class,
                        SeriesPoint.class,
                        DeadLetter.class,
                        RunState.class)) {
            TypeInformation<?> t = TypeInformation.of(c);
            assertThat(t).as(c.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
            assertThat(t.createSerializer(noKryo))
                    .as(c.getSimpleName() + " serializer without Kryo")
                    .isNotNull();
        }
    }

    /**
     * An alert's evidence and suggestion cross the shuffle with their own serializer inside Alert's
     * POJO serializer, under the job's configuration: generic types (Kryo) disabled, no JSON.
     */
    @Test
    void shouldRoundTripAnAlertWithItsEvidenceAndSuggestionWithoutKryo() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TrainwatchJob.configure(env);
        SerializerConfig config = env.getConfig().getSerializerConfig();
        assertThat(config.hasGenericTypesDisabled()).isTrue();
        PojoTypeInfo<Alert> type = (PojoTypeInfo<Alert>) TypeInformation.of(Alert.class);
        for (int i = 0; i < type.getArity(); i++) {
            assertThat(type.getTypeAt(i))
                    .as(type.getFieldNames()[i])
                    .isNotInstanceOf(GenericTypeInfo.class);
        }
        for (String field : List.of("evidence", "suggestion")) {
            TypeInformation<?> t = type.getTypeAt(field);
            assertThat(t).as(field).isInstanceOf(NamedValuesType.Info.class);
        }
        TypeSerializer<Alert> serializer = type.createSerializer(config);
        assertThat(serializer).isInstanceOf(PojoSerializer.class);

        Alert a = new Alert();
        a.alertId = Alert.idFor("r", "NON_FINITE", 12);
        a.runId = "r";
        a.kind = "NON_FINITE";
        a.severity = "critical";
        a.status = Alert.OPEN;
        a.step = 12;
        a.onsetStep = 12;
        a.message = "Step 12: loss is NaN.";
        a.diagnosis = "suspect data";
        a.evidence = NamedValuesTypeTest.EVERY_KIND;
        a.suggestion =
                NamedValues.builder()
                        .put("action", "rewind_and_skip")
                        .put("rewind_to_step", 11)
                        .put("skip_batches", List.of("step 12"))
                        .build();
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(a, out);
        Alert back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back).isEqualTo(a);
        assertThat(JsonWriter.alert(back)).isEqualTo(JsonWriter.alert(a));
    }

    /**
     * The PostgreSQL sinks take the pipeline's own types (no new type crosses an operator) and copy
     * them with those types' POJO serializers under object reuse; the sinks themselves travel to
     * the task managers serialized.
     */
    @Test
    void shouldShipThePostgresSinksSerializedOverPojoInputTypes() throws Exception {
        PostgresSinks sinks =
                PostgresSinks.of(
                        new PostgresConfig(
                                "jdbc:postgresql://localhost:5432/trainwatch", "trainwatch", null));
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        for (Class<?> input : List.of(Alert.class, SeriesPoint.class, DeadLetter.class)) {
            assertThat(TypeInformation.of(input).createSerializer(noKryo))
                    .as(input.getSimpleName())
                    .isInstanceOf(PojoSerializer.class);
        }
        for (Object sink : List.of(sinks.alerts(), sinks.series(), sinks.deadLetters())) {
            Object back =
                    InstantiationUtil.deserializeObject(
                            InstantiationUtil.serializeObject(sink), getClass().getClassLoader());
            assertThat(back).isInstanceOf(JdbcSink.class);
        }
    }

    @Test
    void shouldKeepMonitorStateUnder4Point5KiBForAMillionStepRun() throws Exception {
        // with --series-every 100: the series sampler's one field is part of the state too
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 100, true);
        RunState state = new RunState();
        TrainingEvent start = new TrainingEvent();
        start.type = EventType.RUN_START;
        start.runId = "million";
        start.schedule =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":2000,\"num_training_steps\":1000000,\"base_lrs\":[3e-4,3e-5]}}");
        start.gradClip = 1.0;
        monitor.onEvent(state, start);
        var schedule = start.schedule;
        Random rnd = new Random(7);
        TypeSerializer<RunState> serializer =
                TypeInformation.of(RunState.class).createSerializer(new SerializerConfigImpl());
        int largest = 0;
        for (long s = 0; s < 1_000_000; s++) {
            TrainingEvent e = new TrainingEvent();
            e.type = EventType.STEP;
            e.runId = "million";
            e.step = s;
            e.loss = (0.5 + 3 * Math.exp(-s / 50_000.0)) * Math.exp(0.03 * rnd.nextGaussian());
            e.gradNorm = Math.exp(0.2 * rnd.nextGaussian());
            e.lr = schedule.lrs(s);
            e.batch = new String[] {"batch-" + s};
            monitor.onEvent(state, e);
            if (s % 100_000 == 99_999) {
                largest = Math.max(largest, size(serializer, state));
            }
        }
        int size = size(serializer, state);
        System.out.printf(
                "monitor state after %,d steps: %d bytes (largest seen %d bytes, limit %d)%n",
                state.stepsSeen, size, largest, MAX_STATE_BYTES);
        assertThat(state.stepsSeen).isEqualTo(1_000_000);
        assertThat(Math.max(size, largest)).isLessThan(MAX_STATE_BYTES);
        // and it round-trips
        DataOutputSerializer out = new DataOutputSerializer(size);
        serializer.serialize(state, out);
        RunState back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back.stepsSeen).isEqualTo(state.stepsSeen);
        assertThat(back.losses.median()).isEqualTo(state.losses.median());
        assertThat(back.seriesBlock).isEqualTo(state.seriesBlock).isEqualTo(9_999);
    }

    private static int size(TypeSerializer<RunState> serializer, RunState state) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(4096);
        serializer.serialize(state, out);
        return out.length();
    }
}
