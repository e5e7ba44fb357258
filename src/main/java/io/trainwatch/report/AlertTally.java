package io.trainwatch.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;

/**
 * Alerts counted by kind, severity and status ("LR_MISMATCH warning (open)"), as the replay and
 * demo summaries print them.
 */
public final class AlertTally {
    private final Map<String, Integer> counts = new TreeMap<>();

    /** Counts one alert (alert format v1). */
    public void add(JsonNode alert) {
        counts.merge(
                alert.path("kind").asText()
                        + " "
                        + alert.path("severity").asText()
                        + " ("
                        + alert.path("status").asText()
                        + ")",
                1,
                Integer::sum);
    }

    /** One line per kind, severity and status, in that order, each after {@code indent}. */
    public void print(PrintStream out, String indent) {
        counts.forEach((k, n) -> out.printf("%s%-44s %d%n", indent, k, n));
    }
}
