package io.trainwatch.job;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Alerts one line each, as the end-to-end tests print what the job raised: run, kind, severity,
 * status, step, the evidence's hypothesis and the diagnosis.
 */
final class AlertLines {
    private AlertLines() {}

    /** Prints the alerts (format v1) with the run ids padded to {@code runIdWidth}. */
    static void print(List<JsonNode> alerts, int runIdWidth) {
        for (JsonNode a : alerts) {
            System.out.printf(
                    "  %-" + runIdWidth + "s %-12s %-8s %-8s step %3d  %s | %s%n",
                    a.get("run_id").asText(),
                    a.get("kind").asText(),
                    a.get("severity").asText(),
                    a.get("status").asText(),
                    a.get("step").asLong(),
                    a.get("evidence").path("hypothesis").asText(""),
                    a.get("diagnosis").asText());
        }
    }
}
