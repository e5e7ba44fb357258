package io.trainwatch.event;

/** An event that cannot be accepted: names the field at fault (or "(payload)") and why. */
public final class InvalidEventException extends Exception {
    private final String field;

    public InvalidEventException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
