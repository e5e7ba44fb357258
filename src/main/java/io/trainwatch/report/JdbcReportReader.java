package io.trainwatch.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;

/**
 * Reads the report's data from the job's PostgreSQL tables (docker/postgres/init.sql): one point
 * per stored step ({@code trainwatch_series}) and each alert at its latest status ({@code
 * trainwatch_alerts}). A stored step holds the last pass over it, so a resumed run shows one line,
 * not its repeated steps.
 */
public final class JdbcReportReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JdbcReportReader() {}

    public static ReportData read(Connection c) throws SQLException {
        ReportData.Builder data = new ReportData.Builder();
        try (Statement st = c.createStatement()) {
            try (ResultSet rs =
                    st.executeQuery(
                            "SELECT run_id, step, time, actual_lr, scheduled_lr, loss, loss_mean, grad_norm, suggested_clip"
                                    + " FROM trainwatch_series ORDER BY run_id, step")) {
                while (rs.next()) {
                    Timestamp time = rs.getTimestamp(3);
                    data.addPoint(
                            rs.getString(1),
                            new StepPoint(
                                    rs.getLong(2),
                                    time == null ? null : time.toInstant(),
                                    doubles(rs.getArray(4)),
                                    doubles(rs.getArray(5)),
                                    number(rs, 6),
                                    number(rs, 7),
                                    number(rs, 8),
                                    number(rs, 9)));
                }
            }
            try (ResultSet rs =
                    st.executeQuery(
                            "SELECT alert_id, run_id, kind, severity, status, step, onset_step, message, diagnosis, suggestion::text,"
                                    // read through to_jsonb: a table the job has not migrated
                                    // yet has no display_step (its alerts named optimizer steps)
                                    // and no incident columns (each alert its own incident)
                                    + " COALESCE((to_jsonb(a) ->> 'display_step')::bigint, step),"
                                    + " to_jsonb(a) ->> 'incident_id',"
                                    + " COALESCE((to_jsonb(a) ->> 'occurrences')::int, 0)"
                                    + " FROM trainwatch_alerts a ORDER BY run_id, onset_step, alert_id")) {
                while (rs.next()) {
                    data.addAlert(
                            new ReportAlert(
                                    rs.getString(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getString(5),
                                    rs.getLong(6),
                                    rs.getLong(11),
                                    rs.getLong(7),
                                    nonNull(rs.getString(8)),
                                    nonNull(rs.getString(9)),
                                    suggestion(rs.getString(1), rs.getString(10)),
                                    rs.getString(12),
                                    rs.getInt(13)));
                }
            }
        }
        return data.build();
    }

    private static ReportAlert.Suggestion suggestion(String alertId, String json) {
        if (json == null) {
            return ReportAlert.Suggestion.NONE;
        }
        try {
            JsonNode s = JSON.readTree(json);
            return JsonlReportReader.suggestion(s);
        } catch (IOException | IllegalArgumentException e) {
            throw new ReportInputException(
                    "trainwatch_alerts " + alertId + ": suggestion: " + e.getMessage());
        }
    }

    private static Double number(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? null : v;
    }

    private static double[] doubles(Array a) throws SQLException {
        if (a == null) {
            return null;
        }
        Object[] values = (Object[]) a.getArray();
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i] == null ? Double.NaN : ((Number) values[i]).doubleValue();
        }
        return out;
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }
}
