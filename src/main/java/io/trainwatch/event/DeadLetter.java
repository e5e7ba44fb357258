package io.trainwatch.event;

/**
 * An input record that was not accepted: its raw payload (cut to {@link #MAX_PAYLOAD_CHARS} characters,
 * with the original length kept), the field at fault, the reason, and where it came from. A Flink POJO.
 */
public class DeadLetter {
    public static final int MAX_PAYLOAD_CHARS = 65_536;
    /** A field path or a reason can quote what the record sent (an unknown name): cut so a dead letter stays small. */
    static final int MAX_FIELD_CHARS = 256;
    static final int MAX_REASON_CHARS = 2_048;

    public String payload;
    public int payloadLength;
    public boolean payloadTruncated;
    public String field;
    public String reason;
    public String source;

    public DeadLetter() {
    }

    /** file:line, topic-partition@offset, or the origin as given (null when nothing is known). */
    public static String source(String origin, int partition, long position) {
        if (position < 0) {
            return origin;
        }
        return partition < 0 ? origin + ":" + position : origin + "-" + partition + "@" + position;
    }

    public static DeadLetter of(String raw, String field, String reason, String source) {
        DeadLetter d = new DeadLetter();
        String p = raw == null ? "" : raw;
        d.payloadLength = p.length();
        d.payloadTruncated = p.length() > MAX_PAYLOAD_CHARS;
        d.payload = d.payloadTruncated ? p.substring(0, MAX_PAYLOAD_CHARS) : p;
        d.field = cut(field, MAX_FIELD_CHARS);
        d.reason = cut(reason, MAX_REASON_CHARS);
        d.source = source;
        return d;
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
