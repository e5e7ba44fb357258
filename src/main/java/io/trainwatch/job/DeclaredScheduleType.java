package io.trainwatch.job;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.InvalidScheduleException;
import io.trainwatch.schedule.ScheduleSpec;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a parsed {@link DeclaredSchedule} lives in checkpoints (and crosses operators, wherever a
 * type holding one does): as its spec text ({@link DeclaredSchedule#spec()}), parsed back once per
 * distinct spec. The run's state carries the schedule itself, never JSON to parse again per event;
 * Kryo is not involved (the job disables generic types).
 *
 * <p>{@link TrainwatchTypes#register()} makes Flink's type extraction use {@link Info} wherever a
 * {@code DeclaredSchedule} field appears (in {@code TrainingEvent} and {@code RunState}).
 */
public final class DeclaredScheduleType {
    private static final Logger LOG = LoggerFactory.getLogger(DeclaredScheduleType.class);

    /** Distinct specs a serializer keeps parsed: a fleet declares few, its runs share them. */
    static final int PARSED_SPECS_KEPT = 256;

    private DeclaredScheduleType() {}

    /** What Flink's type extraction asks for; registered by {@link TrainwatchTypes#register()}. */
    public static final class Factory extends TypeInfoFactory<DeclaredSchedule> {
        @Override
        public TypeInformation<DeclaredSchedule> createTypeInfo(
                Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new Info();
        }
    }

    /** The type information of a declared schedule. */
    public static final class Info extends OpaqueValueTypeInfo<DeclaredSchedule> {
        public Info() {
            super(DeclaredSchedule.class);
        }

        @Override
        public TypeSerializer<DeclaredSchedule> createSerializer(SerializerConfig config) {
            return new Serializer();
        }
    }

    /**
     * Writes the spec text (null allowed); reading parses it, once per distinct spec, so the runs
     * that declared the same spec share one immutable schedule (and its computed warmup). Each
     * instance keeps its own parsed specs: Flink gives every thread its own {@link #duplicate()}.
     */
    public static final class Serializer extends TypeSerializer<DeclaredSchedule> {
        private final Map<String, DeclaredSchedule> parsed =
                new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, DeclaredSchedule> e) {
                        return size() > PARSED_SPECS_KEPT;
                    }
                };

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public TypeSerializer<DeclaredSchedule> duplicate() {
            return new Serializer();
        }

        @Override
        public DeclaredSchedule createInstance() {
            return null;
        }

        @Override
        public DeclaredSchedule copy(DeclaredSchedule from) {
            return from;
        }

        @Override
        public DeclaredSchedule copy(DeclaredSchedule from, DeclaredSchedule reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(DeclaredSchedule schedule, DataOutputView target) throws IOException {
            StringValue.writeString(schedule == null ? null : schedule.spec(), target);
        }

        @Override
        public DeclaredSchedule deserialize(DataInputView source) throws IOException {
            String spec = StringValue.readString(source);
            if (spec == null) {
                return null;
            }
            DeclaredSchedule schedule = parsed.get(spec);
            if (schedule == null) {
                schedule = parse(spec);
                if (schedule != null) {
                    parsed.put(spec, schedule);
                }
            }
            return schedule;
        }

        /**
         * The spec passed the same parser when its run_start was read; only a checkpoint of an
         * older trainwatch may hold one this version refuses. That run goes on without LR checks
         * (said in the log) rather than failing the restore of every run.
         */
        private static DeclaredSchedule parse(String spec) {
            try {
                return ScheduleSpec.parse(spec);
            } catch (InvalidScheduleException e) {
                LOG.warn(
                        "a restored run's schedule no longer parses ({}: {}); the run is judged"
                                + " without its declared schedule",
                        e.field(),
                        e.reason());
                return null;
            }
        }

        @Override
        public DeclaredSchedule deserialize(DeclaredSchedule reuse, DataInputView source)
                throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            StringValue.copyString(source, target);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Serializer;
        }

        @Override
        public int hashCode() {
            return Serializer.class.hashCode();
        }

        @Override
        public TypeSerializerSnapshot<DeclaredSchedule> snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** The serializer has no configuration: its snapshot only names it. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<DeclaredSchedule> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
