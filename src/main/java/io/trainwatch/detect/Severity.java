package io.trainwatch.detect;

import java.util.Locale;

/** Alert severity; lower-case on the wire. */
public enum Severity {
    CRITICAL,
    WARNING,
    INFO;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
