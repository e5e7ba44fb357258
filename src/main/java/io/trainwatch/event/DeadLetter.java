package io.trainwatch.event;

/**
 * An input record that was not accepted: its raw payload (cut to {@link #MAX_PAYLOAD_CHARS} characters,
 * with the original length kept), the field at fault, the reason, and where it came from. A Flink POJO.
 */
public class DeadLetter {
    public static final int MAX_PAYLOAD_CHARS = 65_536;

    public String payload;
    public int payloadLength;
    public boolean payloadTruncated;
    public String field;
    public String reason;
    public String source;

    public DeadLetter() {
    }

    public static DeadLetter of(String raw, String field, String reason, String source) {
        DeadLetter d = new DeadLetter();
        String p = raw == null ? "" : raw;
        d.payloadLength = p.length();
        d.payloadTruncated = p.length() > MAX_PAYLOAD_CHARS;
        d.payload = d.payloadTruncated ? p.substring(0, MAX_PAYLOAD_CHARS) : p;
        d.field = field;
        d.reason = reason;
        d.source = source;
        return d;
    }
}
