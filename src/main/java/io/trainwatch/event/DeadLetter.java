package io.trainwatch.event;

/**
 * An input record that was not accepted: its raw payload (cut to {@link #MAX_PAYLOAD_CHARS}
 * characters, with the original length kept), the field at fault, the reason, and where it came
 * from. A Flink POJO.
 */
public class DeadLetter {
    public static final int MAX_PAYLOAD_CHARS = 65_536;

    /**
     * A field path or a reason can quote what the record sent (an unknown name): cut so a dead
     * letter stays small.
     */
    public static final int MAX_FIELD_CHARS = 256;

    public static final int MAX_REASON_CHARS = 2_048;

    public String payload;
    public int payloadLength;
    public boolean payloadTruncated;
    public String field;
    public String reason;
    public String source;

    public DeadLetter() {}

    /** file:line, topic-partition@offset, or the origin as given (null when nothing is known). */
    public static String source(String origin, int partition, long position) {
        if (position < 0) {
            return origin;
        }
        return partition < 0 ? origin + ":" + position : origin + "-" + partition + "@" + position;
    }

    /**
     * A dead letter whose texts every sink can write: cut to their limits, and with unpaired
     * surrogates replaced by U+FFFD (a reason may quote what a record spelled with an escape like
     * {@code \ud800}, and a UTF-8 writer refuses it).
     */
    public static DeadLetter of(String raw, String field, String reason, String source) {
        DeadLetter d = new DeadLetter();
        String p = raw == null ? "" : raw;
        d.payloadLength = p.length();
        d.payloadTruncated = p.length() > MAX_PAYLOAD_CHARS;
        d.payload =
                wellFormed(
                        d.payloadTruncated
                                ? p.substring(0, pairBoundary(p, MAX_PAYLOAD_CHARS))
                                : p);
        d.field = wellFormed(cut(field, MAX_FIELD_CHARS));
        d.reason = wellFormed(cut(reason, MAX_REASON_CHARS));
        d.source = wellFormed(source);
        return d;
    }

    /**
     * {@code s} cut to {@code max} characters and "..." (never between the two halves of a
     * surrogate pair).
     */
    static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, pairBoundary(s, max)) + "...";
    }

    /** {@code end}, or one less if a surrogate pair straddles it. */
    private static int pairBoundary(String s, int end) {
        return end > 0
                        && end < s.length()
                        && Character.isHighSurrogate(s.charAt(end - 1))
                        && Character.isLowSurrogate(s.charAt(end))
                ? end - 1
                : end;
    }

    /**
     * {@code s} with every unpaired surrogate replaced by U+FFFD, as a UTF-8 encoder that does not
     * fail would write it.
     */
    static String wellFormed(String s) {
        if (s == null) {
            return null;
        }
        int i = 0;
        while (i < s.length() && !Character.isSurrogate(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s; // the usual case: no surrogate at all
        }
        StringBuilder b = new StringBuilder(s.length()).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return b.toString();
    }
}
