package io.trainwatch.job;

import io.trainwatch.event.Alert;

/** Alerts built by hand for the notification operator's harness tests. */
final class TestAlerts {
    private TestAlerts() {}

    /** An opening critical NON_FINITE alert of {@code run} at {@code step}, its own incident. */
    static Alert nonFinite(String run, long step) {
        Alert a = new Alert();
        a.alertId = Alert.idFor(run, "NON_FINITE", step);
        a.incidentId = a.alertId;
        a.runId = run;
        a.kind = "NON_FINITE";
        a.severity = "critical";
        a.status = Alert.OPEN;
        a.occurrences = 1;
        a.step = step;
        a.displayStep = step;
        a.onsetStep = step;
        a.message = "loss is NaN";
        a.diagnosis = "a bad batch";
        return a;
    }
}
