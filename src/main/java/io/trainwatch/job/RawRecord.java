package io.trainwatch.job;

import io.trainwatch.event.DeadLetter;

import java.nio.charset.StandardCharsets;

/**
 * One input record as it arrived: the payload (text from a file, UTF-8 bytes from Kafka) and where
 * it came from. Bytes are parsed as they are and the position is kept in parts: both are turned
 * into text ({@link #text()}, {@link #source()}) only for a dead letter, not for every record.
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
     * line of a file or a record without a key. The job keys by the parsed event's run_id and does
     * not read it: kept as bytes, so it costs the job nothing. {@code bench}'s Flink floor keys by
     * it without parsing the payload.
     */
    public byte[] key;

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
}
