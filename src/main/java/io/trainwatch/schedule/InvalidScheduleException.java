package io.trainwatch.schedule;

/**
 * A schedule spec that cannot be used: names the offending field (a JSON path such as {@code
 * params.T_0} or {@code params.schedulers[1].params.T_max}) and what is allowed.
 */
public final class InvalidScheduleException extends IllegalArgumentException {
    private final String field;
    private final String reason;

    /**
     * Longest field path kept: every path is built from known names and user strings already cut to
     * 64 chars.
     */
    private static final int MAX_FIELD_CHARS = 256;

    public InvalidScheduleException(String field, String reason) {
        super("invalid schedule spec: " + bounded(field) + ": " + reason);
        this.field = bounded(field);
        this.reason = reason;
    }

    private static String bounded(String field) {
        return field.length() > MAX_FIELD_CHARS ? SpecParams.echo(field) : field;
    }

    /** The JSON path of the field at fault. */
    public String field() {
        return field;
    }

    /** What is wrong with it and what is allowed (the message without its field). */
    public String reason() {
        return reason;
    }
}
