package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;

/**
 * The lifecycle of one persistent condition: one alert when it opens (its id fixed by run, kind and
 * onset step), at most one update that changes its numbers, and one RESOLVED — never one alert per
 * step. A detector may {@link #refine} the updated alert with new evidence of the same kind (one
 * more batch to skip), bounding how often itself. A Flink POJO.
 */
public class AlertTrack {
    /** Onset step of the open condition, or -1 when none is open. */
    public long onsetStep = -1;

    public boolean updated;
    public String severity;

    public AlertTrack() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(AlertTrack other) {
        onsetStep = other.onsetStep;
        updated = other.updated;
        severity = other.severity;
    }

    public boolean isOpen() {
        return onsetStep >= 0;
    }

    public Alert open(
            StepContext c,
            AlertKind kind,
            Severity severity,
            String message,
            String diagnosis,
            NamedValues evidence,
            NamedValues suggestion) {
        onsetStep = c.step;
        updated = false;
        this.severity = severity.wire();
        return build(c, kind, Alert.OPEN, message, diagnosis, evidence, suggestion);
    }

    /** The one update an open condition may get; null if it already had it. */
    public Alert update(
            StepContext c,
            AlertKind kind,
            Severity severity,
            String message,
            String diagnosis,
            NamedValues evidence,
            NamedValues suggestion) {
        if (!isOpen() || updated) {
            return null;
        }
        updated = true;
        this.severity = severity.wire();
        return build(c, kind, Alert.UPDATE, message, diagnosis, evidence, suggestion);
    }

    /**
     * A further update of an alert already updated, at its severity: the caller's suggestion keeps
     * the update's numbers and only adds what was learnt since (a newly named batch). Null if the
     * alert is not open or has had no update yet.
     */
    public Alert refine(
            StepContext c,
            AlertKind kind,
            String message,
            String diagnosis,
            NamedValues evidence,
            NamedValues suggestion) {
        if (!isOpen() || !updated) {
            return null;
        }
        return build(c, kind, Alert.UPDATE, message, diagnosis, evidence, suggestion);
    }

    public Alert resolve(StepContext c, AlertKind kind, String message, NamedValues evidence) {
        Alert a =
                build(
                        c,
                        kind,
                        Alert.RESOLVED,
                        message,
                        "condition cleared",
                        evidence,
                        Suggestions.none().build());
        onsetStep = -1;
        updated = false;
        return a;
    }

    private Alert build(
            StepContext c,
            AlertKind kind,
            String status,
            String message,
            String diagnosis,
            NamedValues evidence,
            NamedValues suggestion) {
        Alert a = new Alert();
        a.alertId = Alert.idFor(c.runId, kind.name(), onsetStep);
        a.runId = c.runId;
        a.kind = kind.name();
        a.severity = severity;
        a.status = status;
        a.step = c.step;
        a.displayStep = c.display(c.step);
        a.onsetStep = onsetStep;
        a.timeMillis = c.timeMillis;
        a.message = message;
        a.diagnosis = diagnosis;
        a.evidence = evidence;
        a.suggestion = suggestion;
        return a;
    }
}
