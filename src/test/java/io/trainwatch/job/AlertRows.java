package io.trainwatch.job;

import io.trainwatch.event.Alert;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Writes alerts into trainwatch_alerts with the job's own upsert and binding ({@link
 * PostgresSinks#ALERT_UPSERT}, {@link PostgresSinks#bindAlert}), for tests outside this package
 * that query the table as Grafana would (docker.GrafanaAlertingTest).
 */
public final class AlertRows {
    private AlertRows() {}

    /**
     * Upserts each alert in order, as the sink would: a later status of an alert_id replaces it.
     */
    public static void upsert(Connection c, Alert... alerts) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PostgresSinks.ALERT_UPSERT)) {
            for (Alert a : alerts) {
                PostgresSinks.bindAlert(ps, a);
                ps.executeUpdate();
            }
        }
    }
}
