package io.trainwatch.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.util.Arrays;

/**
 * Reads the common step event straight off Jackson's token stream, without building a tree (the
 * tree parse was over half of the source thread's time in the throughput benchmark). It accepts
 * only what it is sure of and returns null for anything else — another event type, a string where a
 * number is usual, a duplicate field, an out-of-range value, broken JSON — so {@link EventCodec}'s
 * tree path decides those, with its error messages. Contract, checked by EventCodecFastPathTest:
 * whenever this returns an event, the tree path returns an equal one.
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

    private final JsonFactory factory;

    StepFastPath(JsonFactory factory) {
        this.factory = factory;
    }

    /** The step event in {@code raw}, or null when the tree path must decide. */
    TrainingEvent tryParse(String raw) {
        try (JsonParser p = factory.createParser(raw)) {
            return read(p);
        } catch (Exception e) {
            return null; // broken JSON, limits, odd numbers: the tree path says exactly what is
            // wrong
        }
    }

    /**
     * The same for a UTF-8 record, read from its bytes. Only a record that starts with '{' and a
     * non-zero byte (Jackson would read a UTF-16 or UTF-32 record, zero bytes or a byte order mark,
     * in that encoding, where the text path reads UTF-8), and only well-formed UTF-8: Jackson's
     * byte reader does not check every byte (a name's bytes are matched to the names it has seen
     * without decoding, and {@code "run_\xFFid"} matches {@code "run_id"}), while the text path
     * decodes bad bytes to U+FFFD. Bytes that are not UTF-8 are the text path's to judge.
     */
    TrainingEvent tryParse(byte[] utf8) {
        if (utf8.length < 2 || utf8[0] != '{' || utf8[1] == 0 || !isWellFormedUtf8(utf8)) {
            return null;
        }
        try (JsonParser p = factory.createParser(utf8)) {
            return read(p);
        } catch (Exception e) {
            return null;
        }
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
        int n = to;
        while (i < n) {
            if (b[i] >= 0) {
                i++; // ASCII: the whole of a usual record
                continue;
            }
            int c = b[i] & 0xFF;
            int len =
                    c >= 0xC2 && c <= 0xDF
                            ? 2
                            : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
            if (len == 0 || i + len > n) {
                return false;
            }
            for (int k = 1; k < len; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    return false;
                }
            }
            int second = b[i + 1] & 0xFF;
            if ((c == 0xE0 && second < 0xA0)
                    || (c == 0xED && second > 0x9F)
                    || (c == 0xF0 && second < 0x90)
                    || (c == 0xF4 && second > 0x8F)) {
                return false; // overlong, surrogate, or beyond U+10FFFF
            }
            i += len;
        }
        return true;
    }

    private static TrainingEvent read(JsonParser p) throws Exception {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.STEP;
        int seen = 0;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            int bit =
                    switch (name) {
                        case "type" -> TYPE;
                        case "run_id" -> RUN_ID;
                        case "step" -> STEP;
                        case "time" -> TIME;
                        case "loss" -> LOSS;
                        case "grad_norm" -> GRAD_NORM;
                        case "loss_scale" -> LOSS_SCALE;
                        case "epoch" -> EPOCH;
                        case "lr" -> LR;
                        case "batch" -> BATCH;
                        case "scheduler_lag" -> SCHEDULER_LAG;
                        case "step_time_s" -> STEP_TIME;
                        case "tokens" -> TOKENS;
                        case "samples" -> SAMPLES;
                        default -> 0;
                    };
            if (bit == 0) {
                p.skipChildren(); // unknown fields are ignored
                continue;
            }
            if ((seen & bit) != 0) {
                return null;
            }
            seen |= bit;
            switch (bit) {
                case TYPE -> {
                    if (v != JsonToken.VALUE_STRING
                            || !EventType.STEP.wireName().equals(p.getText())) {
                        return null;
                    }
                }
                case RUN_ID -> {
                    if (v != JsonToken.VALUE_STRING) {
                        return null;
                    }
                    String s = p.getText();
                    if (EventCodec.idProblem(s) != null) {
                        return null;
                    }
                    e.runId = s;
                }
                case STEP -> {
                    if (!isLong(p, v) || !EventCodec.isValidStep(p.getLongValue())) {
                        return null;
                    }
                    e.step = p.getLongValue();
                }
                case TIME -> {
                    if (v == JsonToken.VALUE_STRING) {
                        e.timeMillis = EventCodec.isoMillis(p.getText());
                        if (e.timeMillis == null) {
                            return null;
                        }
                    } else if (v != JsonToken.VALUE_NULL) {
                        if (!v.isNumeric()) {
                            return null;
                        }
                        e.timeMillis = EventCodec.epochMillis(p.getDoubleValue());
                        if (e.timeMillis == null) {
                            return null;
                        }
                    }
                }
                case LOSS -> {
                    if (!v.isNumeric()) {
                        return null;
                    }
                    e.loss = p.getDoubleValue();
                }
                case GRAD_NORM, LOSS_SCALE, EPOCH, STEP_TIME, TOKENS, SAMPLES -> {
                    Double d;
                    if (v == JsonToken.VALUE_NULL) {
                        d = null;
                    } else if (v.isNumeric()) {
                        d = p.getDoubleValue();
                    } else {
                        return null;
                    }
                    if (bit == GRAD_NORM) {
                        if (d != null && !EventCodec.isValidGradNorm(d)) {
                            return null;
                        }
                        e.gradNorm = d;
                    } else if (bit == LOSS_SCALE) {
                        e.lossScale = d;
                    } else if (bit == STEP_TIME) {
                        if (d != null && !EventCodec.isValidStepTime(d)) {
                            return null;
                        }
                        e.stepTimeS = d;
                    } else if (bit == TOKENS || bit == SAMPLES) {
                        if (d != null && !EventCodec.isValidCount(d)) {
                            return null;
                        }
                        if (bit == TOKENS) {
                            e.tokens = d;
                        } else {
                            e.samples = d;
                        }
                    } else {
                        e.epoch = d;
                    }
                }
                case LR -> {
                    if (v == JsonToken.START_ARRAY) {
                        e.lr = lrs(p);
                        if (e.lr == null) {
                            return null;
                        }
                    } else if (v.isNumeric()) {
                        double d = p.getDoubleValue();
                        if (!EventCodec.isValidLr(d)) {
                            return null;
                        }
                        e.lr = new double[] {d};
                    } else if (v != JsonToken.VALUE_NULL) {
                        return null;
                    }
                }
                case BATCH -> {
                    if (v == JsonToken.START_ARRAY) {
                        e.batch = batchIds(p);
                        if (e.batch == null) {
                            return null;
                        }
                    } else if (v != JsonToken.VALUE_NULL) {
                        String id = batchId(p, v);
                        if (id == null) {
                            return null;
                        }
                        e.batch = new String[] {id};
                    }
                }
                case SCHEDULER_LAG -> {
                    if (v != JsonToken.VALUE_NULL) {
                        if (!isLong(p, v) || p.getLongValue() < 0) {
                            return null;
                        }
                        e.schedulerLag =
                                p.getLongValue(); // checked against the step once both are read
                    }
                }
                default -> throw new IllegalStateException("unhandled field bit " + bit);
            }
        }
        if (t != JsonToken.END_OBJECT || (seen & REQUIRED) != REQUIRED) {
            return null;
        }
        if (e.schedulerLag != null && !EventCodec.isValidSchedulerLag(e.schedulerLag, e.step)) {
            return null;
        }
        return e;
    }

    private static boolean isLong(JsonParser p, JsonToken v) throws Exception {
        return v == JsonToken.VALUE_NUMBER_INT
                && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER;
    }

    private static double[] lrs(JsonParser p) throws Exception {
        double[] out = new double[4];
        int n = 0;
        JsonToken v;
        while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            if (!v.isNumeric() || n == EventCodec.MAX_PARAM_GROUPS) {
                return null;
            }
            double d = p.getDoubleValue();
            if (!EventCodec.isValidLr(d)) {
                return null;
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = d;
        }
        return n == 0 ? null : Arrays.copyOf(out, n);
    }

    private static String[] batchIds(JsonParser p) throws Exception {
        String[] out = new String[4];
        int n = 0;
        JsonToken v;
        while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
            String id = n == EventCodec.MAX_BATCH_IDS ? null : batchId(p, v);
            if (id == null) {
                return null;
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = id;
        }
        return Arrays.copyOf(out, n);
    }

    private static String batchId(JsonParser p, JsonToken v) throws Exception {
        String s;
        if (v == JsonToken.VALUE_STRING) {
            s = p.getText();
        } else if (isLong(p, v)) {
            s = Long.toString(p.getLongValue());
        } else {
            return null;
        }
        return EventCodec.idProblem(s) != null ? null : s;
    }
}
