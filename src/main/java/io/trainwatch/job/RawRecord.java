package io.trainwatch.job;

/**
 * One input record as it arrived: the payload text and where it came from. The position is kept in parts and
 * spelled out ({@link #source()}) only for a dead letter, not for every record.
 */
public class RawRecord {
    public String payload;
    /** Topic, file name, or a whole position text. */
    public String origin;
    /** Kafka partition; -1 for a line of a file. */
    public int partition = -1;
    /** Kafka offset or line number; -1 when the origin alone says where. */
    public long position = -1;

    public RawRecord() {
    }

    public RawRecord(String payload, String origin) {
        this.payload = payload;
        this.origin = origin;
    }

    public RawRecord(String payload, String origin, int partition, long position) {
        this(payload, origin);
        this.partition = partition;
        this.position = position;
    }

    /** file:line, topic-partition@offset, or the origin as given. */
    public String source() {
        if (position < 0) {
            return origin;
        }
        return partition < 0 ? origin + ":" + position : origin + "-" + partition + "@" + position;
    }
}
