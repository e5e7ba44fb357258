package io.trainwatch.event;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast path's contract: on any input, {@link EventCodec#parse} answers exactly as the tree path
 * alone does.
 */
public final class FastPathEquivalence {
    private static final EventCodec CODEC = new EventCodec();

    private FastPathEquivalence() {}

    /**
     * Asserts parse == tree parse (equal event, or the same field and message), for the text and
     * for its UTF-8 bytes (as Kafka gives it); returns whether the fast path took it.
     */
    public static boolean assertSameAsTree(String raw) {
        Object viaTree = outcome(() -> CODEC.parseTree(raw));
        assertThat(outcome(() -> CODEC.parse(raw)))
                .as("parse vs tree parse of %s", abbreviate(raw))
                .isEqualTo(viaTree);
        byte[] utf8 = raw == null ? null : raw.getBytes(StandardCharsets.UTF_8);
        assertThat(outcome(() -> CODEC.parse(utf8)))
                .as("parse of the bytes vs tree parse of %s", abbreviate(raw))
                .isEqualTo(viaTree);
        boolean fast = raw != null && EventCodec.FAST_PATH.tryParse(raw) != null;
        assertThat(utf8 != null && EventCodec.FAST_PATH.tryParse(utf8) != null)
                .as("bytes take the fast path as text does: %s", abbreviate(raw))
                .isEqualTo(fast);
        return fast;
    }

    /**
     * Asserts parse of arbitrary bytes == tree parse of their UTF-8 decoding (malformed UTF-8
     * included).
     */
    public static void assertSameAsTree(byte[] utf8) {
        Object viaTree = outcome(() -> CODEC.parseTree(new String(utf8, StandardCharsets.UTF_8)));
        assertThat(outcome(() -> CODEC.parse(utf8)))
                .as("parse of bytes %s", java.util.Arrays.toString(utf8))
                .isEqualTo(viaTree);
    }

    private interface Parse {
        TrainingEvent run() throws InvalidEventException;
    }

    private static Object outcome(Parse p) {
        try {
            return p.run();
        } catch (InvalidEventException e) {
            return e.field() + " | " + e.getMessage();
        }
    }

    private static String abbreviate(String s) {
        return s == null || s.length() < 300 ? s : s.substring(0, 300) + "...";
    }
}
