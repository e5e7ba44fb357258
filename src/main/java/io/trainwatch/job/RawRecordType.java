package io.trainwatch.job;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * How a {@link RawRecord} crosses the keyBy: every record of the job does, so its fields are
 * written by hand, in a fixed order, with no reflection (Flink's POJO serializer sets each field
 * through {@code Field.set} and reads strings through a thread-local buffer: together about a sixth
 * of the monitor thread's time when it carried the parsed event).
 *
 * <p>{@link TrainwatchTypes#register()} makes Flink's type extraction use {@link Info} for every
 * {@code RawRecord} stream built after it: the job's keyBy ({@link TrainwatchJob#defineWorkflow})
 * and the Kafka source ({@link KafkaSerde.RawRecordDeserializationSchema}).
 */
public final class RawRecordType {
    // a string's length prefix, when it is not a count of UTF-8 bytes
    private static final int NULL = -1;
    private static final int UTF16 = -2;

    private RawRecordType() {}

    /** What Flink's type extraction asks for; registered by {@link TrainwatchTypes#register()}. */
    public static final class Factory extends TypeInfoFactory<RawRecord> {
        @Override
        public TypeInformation<RawRecord> createTypeInfo(
                Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new Info();
        }
    }

    /** The type information of a raw record. */
    public static final class Info extends OpaqueValueTypeInfo<RawRecord> {
        public Info() {
            super(RawRecord.class);
        }

        @Override
        public TypeSerializer<RawRecord> createSerializer(SerializerConfig config) {
            return Serializer.INSTANCE;
        }
    }

    /**
     * The fields in declaration order: payload, utf8, origin, partition, position, key, runId. A
     * byte array is its length (-1 for null) and its bytes; a string its UTF-8 length (-1 for null)
     * and its UTF-8 bytes, or, for the rare text that UTF-8 cannot hold as it is (an unpaired
     * surrogate, which a hostile text record may carry and its dead letter must show as it came),
     * -2, its length and its UTF-16 chars. Stateless: one instance serves every thread.
     */
    public static final class Serializer extends TypeSerializerSingleton<RawRecord> {
        static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public RawRecord createInstance() {
            return new RawRecord();
        }

        @Override
        public RawRecord copy(RawRecord from) {
            return copy(from, new RawRecord());
        }

        @Override
        public RawRecord copy(RawRecord from, RawRecord reuse) {
            reuse.payload = from.payload;
            reuse.utf8 = from.utf8 == null ? null : from.utf8.clone();
            reuse.origin = from.origin;
            reuse.partition = from.partition;
            reuse.position = from.position;
            reuse.key = from.key == null ? null : from.key.clone();
            reuse.runId = from.runId;
            return reuse;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(RawRecord r, DataOutputView target) throws IOException {
            writeString(r.payload, target);
            writeBytes(r.utf8, target);
            writeString(r.origin, target);
            target.writeInt(r.partition);
            target.writeLong(r.position);
            writeBytes(r.key, target);
            writeString(r.runId, target);
        }

        @Override
        public RawRecord deserialize(DataInputView source) throws IOException {
            return deserialize(new RawRecord(), source);
        }

        @Override
        public RawRecord deserialize(RawRecord reuse, DataInputView source) throws IOException {
            reuse.payload = readString(source);
            reuse.utf8 = readBytes(source);
            reuse.origin = readString(source);
            reuse.partition = source.readInt();
            reuse.position = source.readLong();
            reuse.key = readBytes(source);
            reuse.runId = readString(source);
            return reuse;
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<RawRecord> snapshotConfiguration() {
            return new Snapshot();
        }

        private static void writeBytes(byte[] b, DataOutputView target) throws IOException {
            if (b == null) {
                target.writeInt(NULL);
                return;
            }
            target.writeInt(b.length);
            target.write(b);
        }

        private static byte[] readBytes(DataInputView source) throws IOException {
            int n = source.readInt();
            if (n == NULL) {
                return null;
            }
            byte[] b = new byte[n];
            source.readFully(b);
            return b;
        }

        private static void writeString(String s, DataOutputView target) throws IOException {
            if (s == null) {
                target.writeInt(NULL);
            } else if (hasUnpairedSurrogate(s)) {
                target.writeInt(UTF16);
                target.writeInt(s.length());
                for (int i = 0; i < s.length(); i++) {
                    target.writeChar(s.charAt(i));
                }
            } else {
                writeBytes(s.getBytes(StandardCharsets.UTF_8), target);
            }
        }

        private static String readString(DataInputView source) throws IOException {
            int n = source.readInt();
            if (n == NULL) {
                return null;
            }
            if (n == UTF16) {
                char[] c = new char[source.readInt()];
                for (int i = 0; i < c.length; i++) {
                    c[i] = source.readChar();
                }
                return new String(c);
            }
            byte[] b = new byte[n];
            source.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }

        /**
         * Whether UTF-8 would change {@code s} (the encoder writes '?' for an unpaired surrogate).
         */
        static boolean hasUnpairedSurrogate(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!Character.isSurrogate(c)) {
                    continue;
                }
                if (Character.isHighSurrogate(c)
                        && i + 1 < s.length()
                        && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return true;
                }
            }
            return false;
        }
    }

    /** The serializer has no configuration: its snapshot only names it. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<RawRecord> {
        public Snapshot() {
            super(() -> Serializer.INSTANCE);
        }
    }
}
