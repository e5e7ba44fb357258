package io.trainwatch.event;

/** The three event types of event format v1. */
public enum EventType {
    RUN_START("run_start"),
    STEP("step"),
    RUN_END("run_end");

    private final String wireName;

    EventType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    static EventType fromWire(String s) {
        for (EventType t : values()) {
            if (t.wireName.equals(s)) {
                return t;
            }
        }
        return null;
    }
}
