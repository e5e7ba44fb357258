package io.trainwatch.event;

import io.trainwatch.detect.Thresholds;

import static org.assertj.core.api.Assertions.assertThat;

/** The fast path's contract: on any input, {@link EventCodec#parse} answers exactly as the tree path alone does. */
public final class FastPathEquivalence {
    private static final EventCodec CODEC = new EventCodec(Thresholds.NAMES);

    private FastPathEquivalence() {
    }

    /** Asserts parse == tree parse (equal event, or the same field and message); returns whether the fast path took it. */
    public static boolean assertSameAsTree(String raw) {
        Object viaParse = outcome(() -> CODEC.parse(raw));
        Object viaTree = outcome(() -> CODEC.parseTree(raw));
        assertThat(viaParse).as("parse vs tree parse of %s", abbreviate(raw)).isEqualTo(viaTree);
        return raw != null && EventCodec.FAST_PATH.tryParse(raw) != null;
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
