package io.trainwatch.event;

import java.nio.charset.StandardCharsets;

/**
 * Finds a record's top-level {@code "run_id"} without parsing it: one pass over the characters that
 * follows the object's structure (strings with their escapes, nested objects and arrays skipped
 * whole), reads no number and builds no text but the run_id's. Only a key of the outermost object
 * counts, however its name is spelled (with escapes, it is decoded as the full parser decodes it).
 *
 * <p>It answers only when it is sure, and null otherwise, for {@link EventCodec#runId} to parse the
 * record in full: when the outermost value is not an object, when run_id is missing, not a string,
 * not a valid id, repeated (the full parser keeps the last one; rare enough not to imitate), not
 * well-formed UTF-8, or when the structure around it is broken. Contract, checked by
 * EventCodecRunIdTest: whenever the full parser accepts a record, this finds its run_id or answers
 * null. It does not check the rest of the record: a run_id found in a record the full parser
 * refuses only means that record is refused after the keyBy instead of before.
 */
final class RunIdScan {
    private static final String RUN_ID = "run_id";

    /** The record as bytes (UTF-8), or null when it is {@link #text}. */
    private final byte[] bytes;

    private final String text;
    private final int end;
    private int at;

    /** Whether the last string skipped held a backslash escape. */
    private boolean escaped;

    private RunIdScan(byte[] bytes, String text, int end) {
        this.bytes = bytes;
        this.text = text;
        this.end = end;
    }

    /** The run_id of the UTF-8 record, or null when the full parser must decide. */
    static String find(byte[] utf8) {
        return new RunIdScan(utf8, null, utf8.length).scan();
    }

    /** The run_id of the record, or null when the full parser must decide. */
    static String find(String text) {
        return new RunIdScan(null, text, text.length()).scan();
    }

    /**
     * The character (or byte, 0-255) at {@code i}: every byte of a multi-byte UTF-8 character is >=
     * 0x80, never JSON syntax.
     */
    private int ch(int i) {
        return bytes != null ? bytes[i] & 0xFF : text.charAt(i);
    }

    private String scan() {
        skipWhitespace();
        if (!take('{')) {
            return null;
        }
        String runId = null;
        while (true) {
            skipWhitespace();
            if (at >= end || ch(at) != '"') {
                return null; // also an empty object: no run_id
            }
            int keyFrom = at + 1;
            int keyTo = skipString();
            if (keyTo < 0) {
                return null;
            }
            boolean isRunId =
                    escaped ? RUN_ID.equals(unescape(keyFrom, keyTo)) : isRunId(keyFrom, keyTo);
            skipWhitespace();
            if (!take(':')) {
                return null;
            }
            skipWhitespace();
            if (isRunId) {
                if (runId != null || at >= end || ch(at) != '"') {
                    return null; // repeated, or not a string: the full parser says what it makes of
                    // it
                }
                int from = at + 1;
                int to = skipString();
                if (to < 0) {
                    return null;
                }
                runId = escaped ? unescape(from, to) : slice(from, to);
                if (runId == null || EventCodec.idProblem(runId) != null) {
                    return null;
                }
            } else if (!skipValue()) {
                return null;
            }
            skipWhitespace();
            if (take('}')) {
                return runId;
            }
            if (!take(',')) {
                return null;
            }
        }
    }

    /** JSON's whitespace, the only whitespace Jackson accepts. */
    private void skipWhitespace() {
        while (at < end) {
            int c = ch(at);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            at++;
        }
    }

    private boolean take(char c) {
        if (at < end && ch(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    /**
     * Skips the string that starts at {@link #at} (its opening quote); returns the index of its
     * closing quote, or -1 if it does not close.
     */
    private int skipString() {
        escaped = false;
        int i = at + 1;
        while (i < end) {
            int c = ch(i);
            if (c == '"') {
                at = i + 1;
                return i;
            }
            if (c == '\\') {
                escaped = true;
                i += 2; // the escaped character, whatever it is, cannot end the string
            } else {
                i++;
            }
        }
        return -1;
    }

    /**
     * Skips one value other than a top-level key's string: a string, a nested object or array, or a
     * literal.
     */
    private boolean skipValue() {
        if (at >= end) {
            return false;
        }
        int c = ch(at);
        if (c == '"') {
            return skipString() >= 0;
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (at < end) {
                c = ch(at);
                if (c == '"') {
                    if (skipString() < 0) {
                        return false;
                    }
                    continue;
                }
                if (c == '{' || c == '[') {
                    depth++;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                    at++;
                    return true;
                }
                at++;
            }
            return false;
        }
        // a number, true, false, null, NaN, Infinity: up to what may follow a value
        int from = at;
        while (at < end) {
            c = ch(at);
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r'
                    || c == '\t') {
                break;
            }
            at++;
        }
        return at > from;
    }

    private boolean isRunId(int from, int to) {
        if (to - from != RUN_ID.length()) {
            return false;
        }
        for (int i = 0; i < RUN_ID.length(); i++) {
            if (ch(from + i) != RUN_ID.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The text of {@code [from, to)}; null for bytes that are not well-formed UTF-8 (the full
     * parser reads those as U+FFFD: its message is the one to give).
     */
    private String slice(int from, int to) {
        if (bytes == null) {
            return text.substring(from, to);
        }
        for (int i = from; i < to; i++) {
            if (bytes[i] < 0) {
                return StepFastPath.isWellFormedUtf8(bytes, from, to)
                        ? new String(bytes, from, to - from, StandardCharsets.UTF_8)
                        : null;
            }
        }
        return new String(bytes, from, to - from, StandardCharsets.ISO_8859_1); // ASCII
    }

    /**
     * The text of {@code [from, to)} with its escapes decoded, as JSON defines them; null if one is
     * not valid.
     */
    private String unescape(int from, int to) {
        String s = slice(from, to);
        if (s == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (++i == s.length()) {
                return null;
            }
            switch (s.charAt(i)) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 >= s.length()) {
                        return null;
                    }
                    int code = 0;
                    for (int k = 1; k <= 4; k++) {
                        int digit = hexDigit(s.charAt(i + k));
                        if (digit < 0) {
                            return null;
                        }
                        code = code * 16 + digit;
                    }
                    b.append((char) code);
                    i += 4;
                }
                default -> {
                    return null;
                }
            }
        }
        return b.toString();
    }

    /** An ASCII hex digit's value, or -1 (JSON allows no other digits in an escape). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
