package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * How an alert's {@link Alert#evidence evidence} and {@link Alert#suggestion suggestion} ({@link
 * NamedValues}) cross the shuffle: each value written by its kind, no Kryo (the job disables
 * generic types), no JSON.
 *
 * <p>{@link TrainwatchTypes#register()} makes Flink's type extraction use {@link Info} wherever a
 * {@code NamedValues} field appears (in {@code Alert}, the monitor's output type).
 */
public final class NamedValuesType {

    // the kind of a value on the wire; the numbers are the format, never to be reused
    private static final byte NULL = 0;
    private static final byte LONG = 1;
    private static final byte DOUBLE = 2;
    private static final byte BOOLEAN = 3;
    private static final byte STRING = 4;
    private static final byte DOUBLES = 5;
    private static final byte STRINGS = 6;

    private NamedValuesType() {}

    /** What Flink's type extraction asks for; registered by {@link TrainwatchTypes#register()}. */
    public static final class Factory extends TypeInfoFactory<NamedValues> {
        @Override
        public TypeInformation<NamedValues> createTypeInfo(
                Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new Info();
        }
    }

    /** The type information of named values. */
    public static final class Info extends OpaqueValueTypeInfo<NamedValues> {
        public Info() {
            super(NamedValues.class);
        }

        @Override
        public TypeSerializer<NamedValues> createSerializer(SerializerConfig config) {
            return Serializer.INSTANCE;
        }
    }

    /**
     * The count, then per value its name, its kind and the value (a list: its length, then its
     * elements). Stateless and the type immutable: one instance serves every thread, copies are the
     * value itself.
     */
    public static final class Serializer extends TypeSerializerSingleton<NamedValues> {
        static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public NamedValues createInstance() {
            return NamedValues.builder().build();
        }

        @Override
        public NamedValues copy(NamedValues from) {
            return from;
        }

        @Override
        public NamedValues copy(NamedValues from, NamedValues reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(NamedValues values, DataOutputView target) throws IOException {
            target.writeInt(values.size());
            for (int i = 0; i < values.size(); i++) {
                StringValue.writeString(values.name(i), target);
                write(values.value(i), target);
            }
        }

        private static void write(Object v, DataOutputView target) throws IOException {
            if (v == null) {
                target.writeByte(NULL);
            } else if (v instanceof Long l) {
                target.writeByte(LONG);
                target.writeLong(l);
            } else if (v instanceof Double d) {
                target.writeByte(DOUBLE);
                target.writeDouble(d);
            } else if (v instanceof Boolean b) {
                target.writeByte(BOOLEAN);
                target.writeBoolean(b);
            } else if (v instanceof String s) {
                target.writeByte(STRING);
                StringValue.writeString(s, target);
            } else if (v instanceof List<?> list && isDoubles(list)) {
                target.writeByte(DOUBLES);
                target.writeInt(list.size());
                for (Object d : list) {
                    target.writeDouble((Double) d);
                }
            } else if (v instanceof List<?> list) {
                target.writeByte(STRINGS);
                target.writeInt(list.size());
                for (Object s : list) {
                    StringValue.writeString((String) s, target);
                }
            } else {
                throw new IllegalArgumentException(
                        "not a value NamedValues holds: " + v.getClass().getName());
            }
        }

        /** An empty list is written as strings: it reads back equal either way. */
        private static boolean isDoubles(List<?> list) {
            return !list.isEmpty() && list.get(0) instanceof Double;
        }

        @Override
        public NamedValues deserialize(DataInputView source) throws IOException {
            int size = source.readInt();
            NamedValues.Builder b = NamedValues.builder();
            for (int i = 0; i < size; i++) {
                String name = StringValue.readString(source);
                byte kind = source.readByte();
                switch (kind) {
                    case NULL -> b.put(name, (String) null);
                    case LONG -> b.put(name, source.readLong());
                    case DOUBLE -> b.put(name, source.readDouble());
                    case BOOLEAN -> b.put(name, source.readBoolean());
                    case STRING -> b.put(name, StringValue.readString(source));
                    case DOUBLES -> {
                        double[] d = new double[source.readInt()];
                        for (int k = 0; k < d.length; k++) {
                            d[k] = source.readDouble();
                        }
                        b.put(name, d);
                    }
                    case STRINGS -> {
                        String[] s = new String[source.readInt()];
                        for (int k = 0; k < s.length; k++) {
                            s[k] = StringValue.readString(source);
                        }
                        b.put(name, Arrays.asList(s));
                    }
                    default -> throw new IOException("unknown value kind " + kind + " of " + name);
                }
            }
            return b.build();
        }

        @Override
        public NamedValues deserialize(NamedValues reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<NamedValues> snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** The serializer has no configuration: its snapshot only names it. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<NamedValues> {
        public Snapshot() {
            super(() -> Serializer.INSTANCE);
        }
    }
}
