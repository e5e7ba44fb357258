package io.trainwatch.event;

import java.util.Objects;

/**
 * Alert format v1. {@code alertId} is stable: run, kind and onset step, so the opening alert, its
 * one update and its RESOLVED share it. {@code evidence} and {@code suggestion} are {@link
 * NamedValues}, written as JSON objects by {@link JsonWriter#alert}; the Flink job registers a
 * serializer for that type, so Alert stays a Kryo-free Flink POJO.
 *
 * <p>{@code incidentId} and {@code occurrences} (added to v1, see detect.IncidentBook): the
 * incident the alert belongs to (the alert_id of the alert that opened it) and how many alerts it
 * has counted so far. An incident's updates carry the opening alert's {@code alertId}.
 */
public class Alert {
    public static final String OPEN = "open";
    public static final String UPDATE = "update";
    public static final String RESOLVED = "resolved";

    public String alertId;

    /** The alert_id of the alert that opened this alert's incident; null from older producers. */
    public String incidentId;

    public String runId;
    public String kind;
    public String severity;

    /** open, update or resolved. */
    public String status;

    /** Alerts the incident counted so far (1 for its opening alert); 0 from older producers. */
    public int occurrences;

    /** The optimizer step (0-based) this alert was raised at. */
    public long step;

    /**
     * {@link #step} as the run's own logs number it (step + the run's {@code step_base}): the step
     * the message names.
     */
    public long displayStep;

    public long onsetStep;
    public Long timeMillis;
    public String message;
    public String diagnosis;
    public NamedValues evidence;
    public NamedValues suggestion;

    public Alert() {}

    public static String idFor(String runId, String kind, long onsetStep) {
        return runId + "/" + kind + "/" + onsetStep;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Alert a)) {
            return false;
        }
        return step == a.step
                && displayStep == a.displayStep
                && onsetStep == a.onsetStep
                && Objects.equals(alertId, a.alertId)
                && Objects.equals(incidentId, a.incidentId)
                && occurrences == a.occurrences
                && Objects.equals(runId, a.runId)
                && Objects.equals(kind, a.kind)
                && Objects.equals(severity, a.severity)
                && Objects.equals(status, a.status)
                && Objects.equals(timeMillis, a.timeMillis)
                && Objects.equals(message, a.message)
                && Objects.equals(diagnosis, a.diagnosis)
                && Objects.equals(evidence, a.evidence)
                && Objects.equals(suggestion, a.suggestion);
    }

    @Override
    public int hashCode() {
        return Objects.hash(alertId, status, step);
    }

    @Override
    public String toString() {
        return status + " " + severity + " " + kind + " run=" + runId + " step=" + step + ": "
                + message;
    }
}
