package io.trainwatch.event;

import java.security.SecureRandom;

/**
 * The fuzz tests' seed and size: {@code -Dtrainwatch.fuzz.seed=N} replays a run (a fresh seed
 * otherwise, printed, so every build explores new records and any failure can be replayed), {@code
 * -Dtrainwatch.fuzz.records=N} sets how many generated records each test feeds.
 */
public final class FuzzSettings {
    public static final String SEED_PROPERTY = "trainwatch.fuzz.seed";
    public static final String RECORDS_PROPERTY = "trainwatch.fuzz.records";

    private FuzzSettings() {}

    public static long seed() {
        String s = System.getProperty(SEED_PROPERTY);
        return s == null || s.isBlank() ? new SecureRandom().nextLong() : Long.parseLong(s.trim());
    }

    public static int records(int defaultCount) {
        String s = System.getProperty(RECORDS_PROPERTY);
        return s == null || s.isBlank() ? defaultCount : Integer.parseInt(s.trim());
    }
}
