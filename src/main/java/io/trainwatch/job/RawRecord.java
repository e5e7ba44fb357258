package io.trainwatch.job;

import io.trainwatch.event.DeadLetter;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One input record as it arrived: the payload (text from a file, UTF-8 bytes from Kafka), where it
 * came from, and the run it is routed by. It crosses the keyBy as it came and is parsed once,
 * behind it ({@link MonitorRunsFunction}); bytes are parsed as they are and the position is kept in
 * parts: both are turned into text ({@link #text()}, {@link #source()}) only for a dead letter, not
 * for every record. Flink carries it with {@link RawRecordType}'s serializer.
 */
public class RawRecord {
    /** The payload as text (a line of a file); null when it came as {@link #utf8}. */
    public String payload;

    /** The payload as it came from Kafka; null when it came as text. */
    public byte[] utf8;

    /** Topic, file name, or a whole position text. */
    public String origin;

    /** Kafka partition; -1 for a line of a file. */
    public int partition = -1;

    /** Kafka offset or line number; -1 when the origin alone says where. */
    public long position = -1;

    /**
     * The Kafka record's key as it came (the run_id, by the event format's convention); null for a
     * line of a file or a record without a key. {@link KeyRecordsFunction} decodes it into {@link
     * #runId}; {@code bench}'s Flink floor keys by it directly.
     */
    public byte[] key;

    /**
     * The run the record is routed by (the keyBy's key), set by {@link KeyRecordsFunction}: its
     * Kafka key, or else the run_id in its payload. Null before that.
     */
    public String runId;

    public RawRecord() {}

    public RawRecord(String payload, String origin) {
        this.payload = payload;
        this.origin = origin;
    }

    public RawRecord(String payload, String origin, int partition, long position) {
        this(payload, origin);
        this.partition = partition;
        this.position = position;
    }

    /** A Kafka record's value. */
    public static RawRecord ofKafka(byte[] utf8, String topic, int partition, long offset) {
        RawRecord r = new RawRecord(null, topic, partition, offset);
        r.utf8 = utf8 == null ? new byte[0] : utf8;
        return r;
    }

    /** A Kafka record's value and its key (may be null). */
    public static RawRecord ofKafka(
            byte[] key, byte[] utf8, String topic, int partition, long offset) {
        RawRecord r = ofKafka(utf8, topic, partition, offset);
        r.key = key;
        return r;
    }

    /** The payload as text. */
    public String text() {
        return payload != null ? payload : new String(utf8, StandardCharsets.UTF_8);
    }

    /** file:line, topic-partition@offset, or the origin as given. */
    public String source() {
        return DeadLetter.source(origin, partition, position);
    }

    /** Field by field, the byte arrays by content (tests, and Flink's serializer checks). */
    @Override
    public boolean equals(Object o) {
        return o instanceof RawRecord r
                && partition == r.partition
                && position == r.position
                && Objects.equals(payload, r.payload)
                && Arrays.equals(utf8, r.utf8)
                && Objects.equals(origin, r.origin)
                && Arrays.equals(key, r.key)
                && Objects.equals(runId, r.runId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(runId, origin, partition, position);
    }

    @Override
    public String toString() {
        return "RawRecord{" + source() + ", run=" + runId + "}";
    }
}
