package io.trainwatch.report;

import java.util.Map;

/**
 * An alert as the report shows it (alert format v1, minus the evidence): where it is drawn ({@code
 * step}, an optimizer step like the series' x axis), the step a person is told ({@code
 * displayStep}, as the run's own logs number it), what it says and the suggested fix; {@code
 * incidentId} (null from producers before incidents) and {@code occurrences} group it into its
 * incident.
 */
public record ReportAlert(
        String alertId,
        String runId,
        String kind,
        String severity,
        String status,
        long step,
        long displayStep,
        long onsetStep,
        String message,
        String diagnosis,
        Suggestion suggestion,
        String incidentId,
        int occurrences) {

    /** The incident it belongs to: its incident_id, else (older alerts) its own alert_id. */
    public String incident() {
        return incidentId != null ? incidentId : alertId;
    }

    /** The onset as the run's own logs number it: the alert's step base added to onsetStep. */
    public long displayOnsetStep() {
        return onsetStep + (displayStep - step);
    }

    /**
     * {@code suggestion.action}, its numbers as display text in their order (nulls left out; lists
     * joined with ", "), and {@code change}. {@code action} is null when the alert carried no
     * suggestion.
     */
    public record Suggestion(String action, Map<String, String> numbers, String change) {
        public static final Suggestion NONE = new Suggestion(null, Map.of(), null);

        /**
         * "clip_grad_norm (max_norm 0.855, statistic …)" — the action with its numbers on one line.
         */
        public String summary() {
            if (action == null) {
                return "";
            }
            StringBuilder sb = new StringBuilder(action);
            if (!numbers.isEmpty()) {
                sb.append(" (");
                String sep = "";
                for (Map.Entry<String, String> e : numbers.entrySet()) {
                    sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                    sep = ", ";
                }
                sb.append(')');
            }
            return sb.toString();
        }
    }
}
