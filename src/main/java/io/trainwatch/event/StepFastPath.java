package io.trainwatch.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the common step event straight from its UTF-8 bytes with a hand-written scanner: no tree,
 * no parser object, no symbol table, no text of a number (a Jackson parser per record, its field
 * names and its number text were over half the time of reading a step). It accepts only what it is
 * sure of and returns null for anything else — another event type, an escape in a string, a string
 * where a number is usual, a duplicate field, an out-of-range value, broken or unusual JSON — so
 * {@link EventCodec}'s tree path decides those, with its error messages. Contract, checked by
 * EventCodecFastPathTest: whenever this returns an event, the tree path returns an equal one.
 */
final class StepFastPath {
    private static final int TYPE = 1;
    private static final int RUN_ID = 1 << 1;
    private static final int STEP = 1 << 2;
    private static final int TIME = 1 << 3;
    private static final int LOSS = 1 << 4;
    private static final int GRAD_NORM = 1 << 5;
    private static final int LOSS_SCALE = 1 << 6;
    private static final int EPOCH = 1 << 7;
    private static final int LR = 1 << 8;
    private static final int BATCH = 1 << 9;
    private static final int SCHEDULER_LAG = 1 << 10;
    private static final int STEP_TIME = 1 << 11;
    private static final int TOKENS = 1 << 12;
    private static final int SAMPLES = 1 << 13;
    private static final int REQUIRED = TYPE | RUN_ID | STEP | LOSS;

    private static final byte[][] NAMES = {
        ascii("type"),
        ascii("run_id"),
        ascii("step"),
        ascii("time"),
        ascii("loss"),
        ascii("grad_norm"),
        ascii("loss_scale"),
        ascii("epoch"),
        ascii("lr"),
        ascii("batch"),
        ascii("scheduler_lag"),
        ascii("step_time_s"),
        ascii("tokens"),
        ascii("samples")
    };

    private static final byte[] STEP_TYPE = ascii("step");

    /** Deeper than this, an unknown field's value is the tree path's to judge. */
    private static final int MAX_SKIP_DEPTH = 8;

    /** Longer names are the tree path's (Jackson refuses past its own limit). */
    private static final int MAX_NAME_BYTES = 1_000;

    /** Longer numbers are the tree path's (Jackson refuses past its own limit). */
    private static final int MAX_NUMBER_CHARS = 64;

    /** Powers of ten a double holds exactly: m / 10^k is then correctly rounded (Clinger). */
    private static final double[] EXACT_POWERS_OF_TEN = new double[23];

    static {
        double p = 1;
        for (int i = 0; i < EXACT_POWERS_OF_TEN.length; i++) {
            EXACT_POWERS_OF_TEN[i] = p;
            p *= 10;
        }
    }

    // what the last value read was: a number's kind and value, a string's bounds
    private static final int NUMBER_INT = 1;
    private static final int NUMBER_BIG_INT = 2;
    private static final int NUMBER_FLOAT = 3;

    /** The step event in {@code raw}, or null when the tree path must decide. */
    TrainingEvent tryParse(String raw) {
        if (raw.length() < 2 || raw.charAt(0) != '{' || raw.charAt(1) == 0 || !isPaired(raw)) {
            return null;
        }
        return new Scan(raw.getBytes(StandardCharsets.UTF_8)).step();
    }

    /**
     * The same for a UTF-8 record, read from its bytes. Only a record that starts with '{' and a
     * non-zero byte (a UTF-16 or UTF-32 record, or one with a byte order mark, is the text path's),
     * and only well-formed UTF-8: the text path decodes bad bytes to U+FFFD, so bytes that are not
     * UTF-8 are its to judge. Outside strings only ASCII is JSON; inside them the scan checks each
     * sequence as it passes ({@link #utf8SequenceLength}), so the record is read once.
     */
    TrainingEvent tryParse(byte[] utf8) {
        if (utf8.length < 2 || utf8[0] != '{' || utf8[1] == 0) {
            return null;
        }
        return new Scan(utf8).step();
    }

    /** No unpaired surrogate: the text's UTF-8 bytes are then exactly its characters. */
    private static boolean isPaired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Well-formed UTF-8 (RFC 3629): no stray continuation byte, overlong form, surrogate, or code
     * point past U+10FFFF.
     */
    static boolean isWellFormedUtf8(byte[] b) {
        return isWellFormedUtf8(b, 0, b.length);
    }

    /** The same for {@code b[from..to)}. */
    static boolean isWellFormedUtf8(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int len = b[i] >= 0 ? 1 : utf8SequenceLength(b, i, to);
            if (len == 0) {
                return false;
            }
            i += len;
        }
        return true;
    }

    /**
     * The length of the well-formed multi-byte UTF-8 sequence at {@code i}, before {@code end} (RFC
     * 3629), or 0: a stray continuation byte, an overlong form, a surrogate, a code point past
     * U+10FFFF, or a cut sequence.
     */
    static int utf8SequenceLength(byte[] b, int i, int end) {
        int c = b[i] & 0xFF;
        int len =
                c >= 0xC2 && c <= 0xDF
                        ? 2
                        : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len == 0 || i + len > end) {
            return 0;
        }
        for (int k = 1; k < len; k++) {
            if ((b[i + k] & 0xC0) != 0x80) {
                return 0;
            }
        }
        int second = b[i + 1] & 0xFF;
        if ((c == 0xE0 && second < 0xA0)
                || (c == 0xED && second > 0x9F)
                || (c == 0xF0 && second < 0x90)
                || (c == 0xF4 && second > 0x8F)) {
            return 0; // overlong, surrogate, or beyond U+10FFFF
        }
        return len;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * One record's scan. Each reading method returns false (or null) at the first thing it is not
     * sure of; the record then goes to the tree path.
     */
    private static final class Scan {
        private final byte[] b;
        private int pos;

        // the last number read
        private int numberKind;
        private long longValue;
        private double doubleValue;

        // the last string read: its bytes, between quotes, with no escape
        private int stringStart;
        private int stringEnd;

        Scan(byte[] b) {
            this.b = b;
        }

        TrainingEvent step() {
            pos = 1; // past '{'
            TrainingEvent e = new TrainingEvent();
            e.type = EventType.STEP;
            int seen = 0;
            skipWhitespace();
            if (peek() != '}') {
                while (true) {
                    if (!name()) {
                        return null;
                    }
                    int bit = fieldBit();
                    skipWhitespace();
                    if (next() != ':') {
                        return null;
                    }
                    skipWhitespace();
                    if (bit == 0) {
                        if (!skipValue(0)) {
                            return null; // unknown fields are ignored, when plainly written
                        }
                    } else if ((seen & bit) != 0 || !field(e, bit)) {
                        return null;
                    }
                    seen |= bit;
                    skipWhitespace();
                    int c = next();
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        return null;
                    }
                    skipWhitespace();
                }
            } else {
                pos++;
            }
            skipWhitespace();
            if (pos != b.length || (seen & REQUIRED) != REQUIRED) {
                return null; // something after the object, or a required field missing
            }
            if (e.schedulerLag != null && !EventCodec.isValidSchedulerLag(e.schedulerLag, e.step)) {
                return null;
            }
            return e;
        }

        /** The bit of the field name just read, 0 for a name the fast path does not know. */
        private int fieldBit() {
            int len = stringEnd - stringStart;
            for (int i = 0; i < NAMES.length; i++) {
                if (NAMES[i].length == len
                        && Arrays.equals(b, stringStart, stringEnd, NAMES[i], 0, len)) {
                    return 1 << i;
                }
            }
            return 0;
        }

        /** Reads the value of a known field into {@code e}; false when unsure. */
        private boolean field(TrainingEvent e, int bit) {
            switch (bit) {
                case TYPE -> {
                    return string()
                            && Arrays.equals(
                                    b, stringStart, stringEnd, STEP_TYPE, 0, STEP_TYPE.length);
                }
                case RUN_ID -> {
                    String s = text();
                    if (s == null || EventCodec.idProblem(s) != null) {
                        return false;
                    }
                    e.runId = s;
                    return true;
                }
                case STEP -> {
                    if (!number()
                            || numberKind != NUMBER_INT
                            || !EventCodec.isValidStep(longValue)) {
                        return false;
                    }
                    e.step = longValue;
                    return true;
                }
                case TIME -> {
                    int c = peek();
                    if (c == '"') {
                        String s = text();
                        e.timeMillis = s == null ? null : EventCodec.isoMillis(s);
                        return e.timeMillis != null;
                    }
                    if (c == 'n') {
                        return literal("null");
                    }
                    if (!number()) {
                        return false;
                    }
                    e.timeMillis = EventCodec.epochMillis(doubleValue);
                    return e.timeMillis != null;
                }
                case LOSS -> {
                    if (!number()) {
                        return false;
                    }
                    e.loss = doubleValue;
                    return true;
                }
                case GRAD_NORM, LOSS_SCALE, EPOCH, STEP_TIME, TOKENS, SAMPLES -> {
                    Double d;
                    if (peek() == 'n') {
                        if (!literal("null")) {
                            return false;
                        }
                        d = null;
                    } else if (number()) {
                        d = doubleValue;
                    } else {
                        return false;
                    }
                    return optionalNumber(e, bit, d);
                }
                case LR -> {
                    int c = peek();
                    if (c == '[') {
                        e.lr = lrs();
                        return e.lr != null;
                    }
                    if (c == 'n') {
                        return literal("null");
                    }
                    if (!number() || !EventCodec.isValidLr(doubleValue)) {
                        return false;
                    }
                    e.lr = new double[] {doubleValue};
                    return true;
                }
                case BATCH -> {
                    int c = peek();
                    if (c == '[') {
                        e.batch = batchIds();
                        return e.batch != null;
                    }
                    if (c == 'n') {
                        return literal("null");
                    }
                    String id = batchId();
                    if (id == null) {
                        return false;
                    }
                    e.batch = new String[] {id};
                    return true;
                }
                case SCHEDULER_LAG -> {
                    if (peek() == 'n') {
                        return literal("null");
                    }
                    if (!number() || numberKind != NUMBER_INT || longValue < 0) {
                        return false;
                    }
                    e.schedulerLag = longValue; // checked against the step once both are read
                    return true;
                }
                default -> throw new IllegalStateException("unhandled field bit " + bit);
            }
        }

        private static boolean optionalNumber(TrainingEvent e, int bit, Double d) {
            switch (bit) {
                case GRAD_NORM -> {
                    if (d != null && !EventCodec.isValidGradNorm(d)) {
                        return false;
                    }
                    e.gradNorm = d;
                }
                case LOSS_SCALE -> e.lossScale = d;
                case STEP_TIME -> {
                    if (d != null && !EventCodec.isValidStepTime(d)) {
                        return false;
                    }
                    e.stepTimeS = d;
                }
                case TOKENS, SAMPLES -> {
                    if (d != null && !EventCodec.isValidCount(d)) {
                        return false;
                    }
                    if (bit == TOKENS) {
                        e.tokens = d;
                    } else {
                        e.samples = d;
                    }
                }
                default -> e.epoch = d;
            }
            return true;
        }

        private double[] lrs() {
            pos++; // '['
            double[] out = new double[4];
            int n = 0;
            skipWhitespace();
            if (peek() == ']') {
                return null; // no group: the tree path says so
            }
            while (true) {
                if (n == EventCodec.MAX_PARAM_GROUPS
                        || !number()
                        || !EventCodec.isValidLr(doubleValue)) {
                    return null;
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = doubleValue;
                skipWhitespace();
                int c = next();
                if (c == ']') {
                    return Arrays.copyOf(out, n);
                }
                if (c != ',') {
                    return null;
                }
                skipWhitespace();
            }
        }

        private String[] batchIds() {
            pos++; // '['
            String[] out = new String[4];
            int n = 0;
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return new String[0];
            }
            while (true) {
                String id = n == EventCodec.MAX_BATCH_IDS ? null : batchId();
                if (id == null) {
                    return null;
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = id;
                skipWhitespace();
                int c = next();
                if (c == ']') {
                    return Arrays.copyOf(out, n);
                }
                if (c != ',') {
                    return null;
                }
                skipWhitespace();
            }
        }

        /** A batch id: a string, or an integer in its decimal spelling. */
        private String batchId() {
            String s;
            if (peek() == '"') {
                s = text();
            } else if (number() && numberKind == NUMBER_INT) {
                s = Long.toString(longValue);
            } else {
                return null;
            }
            return s == null || EventCodec.idProblem(s) != null ? null : s;
        }

        /** A field name: a plain string of a usual length. */
        private boolean name() {
            return string() && stringEnd - stringStart <= MAX_NAME_BYTES;
        }

        /** A string value as text, or null when it is not a plain string. */
        private String text() {
            return string()
                    ? new String(b, stringStart, stringEnd - stringStart, StandardCharsets.UTF_8)
                    : null;
        }

        /**
         * A string with no escape and no control character (the bytes are well-formed UTF-8); false
         * for anything else.
         */
        private boolean string() {
            if (next() != '"') {
                return false;
            }
            int start = pos;
            while (pos < b.length) {
                byte c = b[pos];
                if (c == '"') {
                    stringStart = start;
                    stringEnd = pos++;
                    return true;
                }
                if (c >= 0) {
                    if (c == '\\' || c < 0x20) {
                        return false;
                    }
                    pos++;
                } else {
                    int len = utf8SequenceLength(b, pos, b.length);
                    if (len == 0) {
                        return false;
                    }
                    pos += len;
                }
            }
            return false;
        }

        /**
         * A JSON number, or NaN, Infinity, -Infinity (accepted by the codec): its kind, and its
         * value as a long (integers) and as a double (all).
         */
        private boolean number() {
            int start = pos;
            boolean negative = peek() == '-';
            if (negative) {
                pos++;
            }
            int c = peek();
            if (c == 'N' && !negative) {
                return nonNumeric("NaN", Double.NaN);
            }
            if (c == 'I') {
                return nonNumeric(
                        "Infinity", negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
            }
            long mantissa = 0;
            int digits = 0; // significant digits in the mantissa
            int dropped = 0; // integer digits past 18 (the mantissa would overflow)
            if (c == '0') {
                pos++;
            } else if (c >= '1' && c <= '9') {
                while ((c = peek()) >= '0' && c <= '9') {
                    if (digits < 18) {
                        mantissa = mantissa * 10 + (c - '0');
                        digits++;
                    } else {
                        dropped++;
                    }
                    pos++;
                }
            } else {
                return false;
            }
            int fraction = 0;
            boolean isFloat = false;
            if (peek() == '.') {
                pos++;
                isFloat = true;
                int before = pos;
                while ((c = peek()) >= '0' && c <= '9') {
                    if (digits < 18 && dropped == 0) {
                        mantissa = mantissa * 10 + (c - '0');
                        if (mantissa != 0) {
                            digits++;
                        }
                        fraction++;
                    } else {
                        dropped++;
                    }
                    pos++;
                }
                if (pos == before) {
                    return false;
                }
            }
            int exponent = 0;
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                isFloat = true;
                boolean negativeExponent = peek() == '-';
                if (negativeExponent || peek() == '+') {
                    pos++;
                }
                int before = pos;
                while ((c = peek()) >= '0' && c <= '9') {
                    if (exponent < 10_000) {
                        exponent = exponent * 10 + (c - '0');
                    }
                    pos++;
                }
                if (pos == before) {
                    return false;
                }
                if (negativeExponent) {
                    exponent = -exponent;
                }
            }
            if (pos - start > MAX_NUMBER_CHARS) {
                return false;
            }
            if (!isFloat) {
                if (dropped > 0) {
                    return integerPastEighteenDigits(start, negative);
                }
                numberKind = NUMBER_INT;
                longValue = negative ? -mantissa : mantissa;
                doubleValue = longValue; // an integer's double, as the tree reads it (-0 is 0)
                return true;
            }
            numberKind = NUMBER_FLOAT;
            int power = exponent - fraction;
            if (dropped == 0 && mantissa < (1L << 53) && Math.abs(power) <= 22) {
                double m = mantissa;
                double v =
                        power >= 0
                                ? m * EXACT_POWERS_OF_TEN[power]
                                : m / EXACT_POWERS_OF_TEN[-power];
                doubleValue = negative ? -v : v;
            } else {
                doubleValue =
                        Double.parseDouble(
                                new String(b, start, pos - start, StandardCharsets.ISO_8859_1));
            }
            return true;
        }

        /** 19 digits or more: a long when it fits, else a big integer (not a long to anyone). */
        private boolean integerPastEighteenDigits(int start, boolean negative) {
            String digits = new String(b, start, pos - start, StandardCharsets.ISO_8859_1);
            try {
                longValue = Long.parseLong(digits);
                numberKind = NUMBER_INT;
                doubleValue = longValue;
            } catch (NumberFormatException tooLarge) {
                numberKind = NUMBER_BIG_INT;
                doubleValue = new java.math.BigInteger(digits).doubleValue();
            }
            return true;
        }

        private boolean nonNumeric(String word, double value) {
            if (!literal(word)) {
                return false;
            }
            numberKind = NUMBER_FLOAT;
            doubleValue = value;
            return true;
        }

        /** Exactly {@code word}, ending where a value may end. */
        private boolean literal(String word) {
            int n = word.length();
            if (pos + n > b.length) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (b[pos + i] != word.charAt(i)) {
                    return false;
                }
            }
            pos += n;
            int c = peek();
            return c == -1 || c == ',' || c == '}' || c == ']' || isWhitespace(c);
        }

        /** Skips an unknown field's value when it is plainly written; false otherwise. */
        private boolean skipValue(int depth) {
            int c = peek();
            switch (c) {
                case '"' -> {
                    return string();
                }
                case 't' -> {
                    return literal("true");
                }
                case 'f' -> {
                    return literal("false");
                }
                case 'n' -> {
                    return literal("null");
                }
                case '[', '{' -> {
                    if (depth == MAX_SKIP_DEPTH) {
                        return false;
                    }
                    boolean object = c == '{';
                    pos++;
                    skipWhitespace();
                    if (peek() == (object ? '}' : ']')) {
                        pos++;
                        return true;
                    }
                    while (true) {
                        if (object) {
                            if (!name()) {
                                return false;
                            }
                            skipWhitespace();
                            if (next() != ':') {
                                return false;
                            }
                            skipWhitespace();
                        }
                        if (!skipValue(depth + 1)) {
                            return false;
                        }
                        skipWhitespace();
                        int d = next();
                        if (d == (object ? '}' : ']')) {
                            return true;
                        }
                        if (d != ',') {
                            return false;
                        }
                        skipWhitespace();
                    }
                }
                default -> {
                    return number();
                }
            }
        }

        private void skipWhitespace() {
            while (pos < b.length && isWhitespace(b[pos])) {
                pos++;
            }
        }

        private static boolean isWhitespace(int c) {
            return c == ' ' || c == '\n' || c == '\r' || c == '\t';
        }

        private int peek() {
            return pos < b.length ? b[pos] : -1;
        }

        private int next() {
            return pos < b.length ? b[pos++] : -1;
        }
    }
}
