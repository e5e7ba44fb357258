package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.SeriesPoint;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.connector.jdbc.datasource.connections.SimpleJdbcConnectionProvider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.regex.Pattern;

/**
 * The pipeline's three outputs written to PostgreSQL (tables of {@code docker/postgres/init.sql}),
 * each by a {@link JdbcSink} in batches ({@value #BATCH_ROWS} rows or {@value
 * #BATCH_INTERVAL_MILLIS} ms, and at every checkpoint), retried {@value #MAX_RETRIES} times on an
 * error before the job fails and restarts from its last checkpoint.
 *
 * <p>Outages: when PostgreSQL cannot be reached (restarting, failing over, a network cut), a sink
 * keeps trying to connect, backing off up to {@link #RECONNECT_BACKOFF_MAX}, for {@link
 * #OUTAGE_RIDE_OUT}, then writes its batch and goes on: nothing is lost and the job does not
 * restart. Meanwhile the waiting writer holds the task it is chained to (the monitor with the Kafka
 * alert and series sinks, or the source with the dead-letter sinks), the sources are
 * back-pressured, and no checkpoint completes, so no alert is committed to Kafka either until
 * PostgreSQL is back. A longer outage fails the task, and the job restarts from its last checkpoint
 * (each attempt waiting out the outage again). The connector's own retries do not cover an outage:
 * a retry reconnects once, and a refused connection fails the task at once.
 *
 * <p>Guarantee: at-least-once delivery made idempotent by upserts ({@code INSERT ... ON CONFLICT
 * (key) DO UPDATE}). Rows a restart or a replay writes again land on the same key (series: run_id
 * and step; alerts: alert_id; dead letters: their source position), so they replace themselves and
 * never add a row. An alert's row holds its latest status; {@code opened_time} keeps the time of
 * its first write. A series row's time is the trainer's event time, or the time the row was written
 * when the trainer sent none (the column is NOT NULL).
 */
public record PostgresSinks(
        Sink<Alert> alerts,
        Sink<SeriesPoint> series,
        Sink<DeadLetter> deadLetters,
        Sink<FailedNotification> failedNotifications) {
    static final int BATCH_ROWS = 500;
    static final long BATCH_INTERVAL_MILLIS = 200;
    static final int MAX_RETRIES = 3;

    /**
     * Outages up to this long pass without a restart: a PostgreSQL restart or a managed failover
     * (tens of seconds).
     */
    static final Duration OUTAGE_RIDE_OUT = Duration.ofSeconds(60);

    static final Duration RECONNECT_BACKOFF_FIRST = Duration.ofMillis(250);

    /** The longest the sinks stay idle after PostgreSQL is back. */
    static final Duration RECONNECT_BACKOFF_MAX = Duration.ofSeconds(1);

    /** Connection.isValid's wait, checked before reconnecting (the connector's default is 60 s). */
    static final int CONNECTION_CHECK_TIMEOUT_SECONDS = 5;

    /**
     * A statement with no answer for this long fails (driver property socketTimeout) and takes the
     * reconnect path: without it a connection cut silently (no FIN, no RST) would hold the writer
     * forever. A batch of {@value #BATCH_ROWS} upserts takes milliseconds.
     */
    static final int SOCKET_TIMEOUT_SECONDS = 60;

    static final String DRIVER = "org.postgresql.Driver";
    private static final Logger LOG = LoggerFactory.getLogger(PostgresSinks.class);

    // Upserts are sent as separate statements of a JDBC batch (no reWriteBatchedInserts), so one
    // batch may hold
    // the same key twice (an alert's open and its resolution) and the later one wins.
    static final String SERIES_UPSERT =
            "INSERT INTO trainwatch_series"
                    + " (run_id, step, time, actual_lr, scheduled_lr, loss, loss_mean, grad_norm, suggested_clip)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (run_id, step) DO UPDATE SET time = EXCLUDED.time, actual_lr = EXCLUDED.actual_lr,"
                    + " scheduled_lr = EXCLUDED.scheduled_lr, loss = EXCLUDED.loss, loss_mean = EXCLUDED.loss_mean,"
                    + " grad_norm = EXCLUDED.grad_norm, suggested_clip = EXCLUDED.suggested_clip";
    static final String ALERT_UPSERT =
            "INSERT INTO trainwatch_alerts"
                    + " (alert_id, run_id, kind, severity, status, onset_step, step, display_step, opened_time, time, message, diagnosis, evidence, suggestion,"
                    + " incident_id, occurrences)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb), ?, ?)"
                    + " ON CONFLICT (alert_id) DO UPDATE SET run_id = EXCLUDED.run_id, kind = EXCLUDED.kind, severity = EXCLUDED.severity,"
                    + " status = EXCLUDED.status, onset_step = EXCLUDED.onset_step, step = EXCLUDED.step, display_step = EXCLUDED.display_step,"
                    + " time = EXCLUDED.time,"
                    + " message = EXCLUDED.message, diagnosis = EXCLUDED.diagnosis, evidence = EXCLUDED.evidence, suggestion = EXCLUDED.suggestion,"
                    + " incident_id = EXCLUDED.incident_id, occurrences = EXCLUDED.occurrences";

    /** A record rejected again (a replay, a restart) keeps the time it was first rejected. */
    static final String DEAD_LETTER_UPSERT =
            "INSERT INTO trainwatch_dead_letters (source, time, field, reason, payload)"
                    + " VALUES (?, ?, ?, ?, ?)"
                    + " ON CONFLICT (source) DO UPDATE SET field = EXCLUDED.field, reason = EXCLUDED.reason, payload = EXCLUDED.payload";

    /**
     * A notification given up again (a restore retried it) keeps one row with its latest reason.
     */
    static final String FAILED_NOTIFICATION_UPSERT =
            "INSERT INTO trainwatch_notifications_failed"
                    + " (target, idempotency_key, alert_id, run_id, kind, severity, status, attempts, last_status, reason, time, alert)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb))"
                    + " ON CONFLICT (target, idempotency_key) DO UPDATE SET attempts = EXCLUDED.attempts,"
                    + " last_status = EXCLUDED.last_status, reason = EXCLUDED.reason, time = EXCLUDED.time";

    /**
     * The JSON escape for NUL (backslash, u0000), unless its backslash is itself escaped: jsonb
     * refuses it.
     */
    private static final Pattern JSON_NUL_ESCAPE =
            Pattern.compile("(?<!\\\\)((?:\\\\\\\\)*)\\\\u0000");

    /** The three sinks for one database. */
    public static PostgresSinks of(PostgresConfig cfg) {
        JdbcConnectionOptions.JdbcConnectionOptionsBuilder connection =
                new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
                        .withUrl(cfg.url())
                        .withDriverName(DRIVER)
                        .withConnectionCheckTimeoutSeconds(CONNECTION_CHECK_TIMEOUT_SECONDS);
        PostgresSchema.connectionProperties(cfg)
                .forEach((k, v) -> connection.withProperty((String) k, (String) v));
        connection.withProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_SECONDS));
        JdbcConnectionOptions options = connection.build();
        return new PostgresSinks(
                sink(ALERT_UPSERT, PostgresSinks::bindAlert, options, cfg.printableUrl()),
                sink(SERIES_UPSERT, PostgresSinks::bindSeries, options, cfg.printableUrl()),
                sink(
                        DEAD_LETTER_UPSERT,
                        PostgresSinks::bindDeadLetter,
                        options,
                        cfg.printableUrl()),
                sink(
                        FAILED_NOTIFICATION_UPSERT,
                        PostgresSinks::bindFailedNotification,
                        options,
                        cfg.printableUrl()));
    }

    private static <T> Sink<T> sink(
            String sql,
            JdbcStatementBuilder<T> binder,
            JdbcConnectionOptions options,
            String printableUrl) {
        return JdbcSink.<T>builder()
                .withQueryStatement(sql, binder)
                .withExecutionOptions(
                        JdbcExecutionOptions.builder()
                                .withBatchSize(BATCH_ROWS)
                                .withBatchIntervalMs(BATCH_INTERVAL_MILLIS)
                                .withMaxRetries(MAX_RETRIES)
                                .build())
                .buildAtLeastOnce(new OutageRidingConnectionProvider(options, printableUrl));
    }

    /**
     * Connects as the connector's provider does, but while PostgreSQL cannot be reached (SQLState
     * class 08, or 57P: shutting down, starting up) tries again, backing off, for up to {@link
     * #OUTAGE_RIDE_OUT}. The writer connects through it when it opens and when its retry finds the
     * connection broken. Other errors (a wrong password, a missing database) fail at once.
     */
    static final class OutageRidingConnectionProvider extends SimpleJdbcConnectionProvider {
        private final String printableUrl;

        OutageRidingConnectionProvider(JdbcConnectionOptions options, String printableUrl) {
            super(options);
            this.printableUrl = printableUrl;
        }

        @Override
        public Connection getOrEstablishConnection() throws SQLException, ClassNotFoundException {
            long start = System.nanoTime();
            long backoff = RECONNECT_BACKOFF_FIRST.toNanos();
            for (int attempt = 1; ; attempt++) {
                try {
                    Connection c = super.getOrEstablishConnection();
                    if (attempt > 1) {
                        LOG.warn(
                                "PostgreSQL at {} is back after {} ms ({} attempts)",
                                printableUrl,
                                (System.nanoTime() - start) / 1_000_000,
                                attempt);
                    }
                    return c;
                } catch (SQLException e) {
                    long waited = System.nanoTime() - start;
                    if (!isUnavailable(e) || waited + backoff > OUTAGE_RIDE_OUT.toNanos()) {
                        throw e;
                    }
                    if (attempt == 1) {
                        LOG.warn(
                                "PostgreSQL at {} cannot be reached ({}); trying again for up to {} s",
                                printableUrl,
                                e.getMessage(),
                                OUTAGE_RIDE_OUT.toSeconds());
                    }
                    try {
                        Thread.sleep(backoff / 1_000_000);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        e.addSuppressed(interrupted);
                        throw e;
                    }
                    backoff = Math.min(2 * backoff, RECONNECT_BACKOFF_MAX.toNanos());
                }
            }
        }

        static boolean isUnavailable(SQLException e) {
            String state = e.getSQLState();
            return state != null && (state.startsWith("08") || state.startsWith("57P"));
        }
    }

    static void bindSeries(PreparedStatement ps, SeriesPoint p) throws SQLException {
        ps.setString(1, text(p.runId));
        ps.setLong(2, p.step);
        ps.setObject(3, timestamp(p.timeMillis));
        setArray(ps, 4, p.actualLr);
        setArray(ps, 5, p.scheduledLr);
        setDouble(ps, 6, p.loss);
        setDouble(ps, 7, p.lossMean);
        setDouble(ps, 8, p.gradNorm);
        setDouble(ps, 9, p.suggestedClip);
    }

    static void bindAlert(PreparedStatement ps, Alert a) throws SQLException {
        OffsetDateTime time = timestamp(a.timeMillis);
        ps.setString(1, text(a.alertId));
        ps.setString(2, text(a.runId));
        ps.setString(3, text(a.kind));
        ps.setString(4, text(a.severity));
        ps.setString(5, text(a.status));
        ps.setLong(6, a.onsetStep);
        ps.setLong(7, a.step);
        ps.setLong(8, a.displayStep);
        ps.setObject(9, time); // kept on conflict: the time of the first write
        ps.setObject(10, time);
        ps.setString(11, text(a.message == null ? "" : a.message));
        ps.setString(12, text(a.diagnosis));
        ps.setString(13, json(JsonWriter.namedValues(a.evidence)));
        ps.setString(14, json(JsonWriter.namedValues(a.suggestion)));
        ps.setString(15, text(a.incidentId));
        ps.setObject(16, a.incidentId == null ? null : a.occurrences, Types.INTEGER);
    }

    static void bindDeadLetter(PreparedStatement ps, DeadLetter d) throws SQLException {
        ps.setString(1, text(d.source == null ? "(unknown)" : d.source));
        ps.setObject(2, timestamp(null));
        String reason = d.reason == null ? "" : d.reason;
        if (d.payloadTruncated) {
            reason +=
                    " (payload of "
                            + d.payloadLength
                            + " characters cut to "
                            + DeadLetter.MAX_PAYLOAD_CHARS
                            + ")"; // as on the Kafka topic
        }
        ps.setString(3, text(d.field == null ? "" : d.field));
        ps.setString(4, text(reason));
        ps.setString(5, text(d.payload == null ? "" : d.payload));
    }

    static void bindFailedNotification(PreparedStatement ps, FailedNotification f)
            throws SQLException {
        ps.setString(1, text(f.target));
        ps.setString(2, text(f.idempotencyKey));
        ps.setString(3, text(f.alertId));
        ps.setString(4, text(f.runId));
        ps.setString(5, text(f.kind));
        ps.setString(6, text(f.severity));
        ps.setString(7, text(f.status));
        ps.setInt(8, f.attempts);
        ps.setInt(9, f.lastStatus);
        ps.setString(10, text(f.reason));
        ps.setObject(11, timestamp(f.failedAtMillis));
        ps.setString(12, json(f.alert));
    }

    /** The trainer's time, or now when it sent none. */
    private static OffsetDateTime timestamp(Long millis) {
        return OffsetDateTime.ofInstant(
                Instant.ofEpochMilli(millis != null ? millis : System.currentTimeMillis()),
                ZoneOffset.UTC);
    }

    private static void setDouble(PreparedStatement ps, int i, Double v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.DOUBLE);
        } else {
            ps.setDouble(i, v);
        }
    }

    private static void setArray(PreparedStatement ps, int i, double[] v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.ARRAY);
            return;
        }
        Double[] boxed = new Double[v.length];
        for (int k = 0; k < v.length; k++) {
            boxed[k] = v[k];
        }
        ps.setArray(i, ps.getConnection().createArrayOf("float8", boxed));
    }

    /**
     * PostgreSQL text cannot hold NUL: a record carrying one (any input can) must not stop the
     * sink.
     */
    static String text(String s) {
        return s == null || s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
    }

    /**
     * jsonb refuses the NUL escape (strict JSON allows it): replaced by the escape of U+FFFD, the
     * rest kept as is.
     */
    static String json(String s) {
        return s == null || !s.contains("\\u0000")
                ? s
                : JSON_NUL_ESCAPE.matcher(s).replaceAll("$1\\\\ufffd");
    }
}
