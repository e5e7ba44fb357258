package io.trainwatch.schedule;

/**
 * A schedule spec that cannot be used: names the offending field (a JSON path such as
 * {@code params.T_0} or {@code params.schedulers[1].params.T_max}) and what is allowed.
 */
public final class InvalidScheduleException extends IllegalArgumentException {
    private final String field;

    public InvalidScheduleException(String field, String reason) {
        super("invalid schedule spec: " + field + ": " + reason);
        this.field = field;
    }

    /** The JSON path of the field at fault. */
    public String field() {
        return field;
    }
}
