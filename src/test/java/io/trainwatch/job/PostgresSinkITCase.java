package io.trainwatch.job;

import io.trainwatch.cli.CliRunner;
import io.trainwatch.detect.RealRuns;
import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.EventType;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code replay} command with {@code --jdbc-url} (so the one pipeline, {@code
 * TrainwatchJob.defineWorkflow}, on a MiniCluster at parallelism 2) into a real PostgreSQL started
 * in-process: the 16 shared real runs plus a named fixture (NaN loss, infinite grad norm, two LR
 * groups, malformed records, one with a raw NUL character). Rows match a plain replay through
 * {@link RunMonitor} value for value; replaying again adds no row; with {@code --series-every 50}
 * the series shrinks but keeps every alert's step.
 */
class PostgresSinkITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.parallelismTwo();

    static final String FIXTURE_RUN = "pg-fixture";
    static final String FIXTURE_FILE = "zz-fixture.jsonl";

    /**
     * Near the end, so the NON_FINITE alert stays open and its row keeps the evidence of the NaN
     * step.
     */
    static final long FIXTURE_NAN_STEP = 58;

    static final String SPEC_TWO_GROUPS =
            "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":5,\"num_training_steps\":100,\"base_lrs\":[1e-3,1e-4]}}";

    static EmbeddedPostgres pg;
    static Path input;
    static Expected expected;

    /**
     * What a plain replay of the input gives, in the order the replay command reads it (files by
     * name).
     */
    record Expected(
            long stepEvents,
            Map<String, SeriesPoint> lastPoint,
            List<Alert> alerts,
            Map<String, Alert> latestAlert,
            Map<String, Long> firstAlertTime,
            Set<String> resumeKeys,
            Set<String> repeatedKeys,
            int deadLetters) {}

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        pg = EmbeddedPostgres.start();
        // the replay command connects as TRAINWATCH_JDBC_USER, else as the OS user (the driver's
        // default): give it a role
        String user =
                System.getenv(PostgresConfig.USER_ENV) != null
                        ? System.getenv(PostgresConfig.USER_ENV)
                        : System.getProperty("user.name");
        try (Connection c = superuser(pg.jdbcUrl());
                Statement st = c.createStatement()) {
            ResultSet rs =
                    st.executeQuery(
                            "SELECT count(*) FROM pg_roles WHERE rolname = '"
                                    + user.replace("'", "''")
                                    + "'");
            rs.next();
            if (rs.getLong(1) == 0) {
                st.execute("CREATE ROLE \"" + user.replace("\"", "\"\"") + "\" LOGIN SUPERUSER");
            }
        }
        input = Files.createDirectories(tmp.resolve("runs"));
        for (JsonNode run : RealRuns.index().get("runs")) {
            Files.write(
                    input.resolve(run.get("name").asText() + ".jsonl"),
                    RealRuns.events(run),
                    StandardCharsets.UTF_8);
        }
        Files.write(input.resolve(FIXTURE_FILE), fixture(), StandardCharsets.UTF_8);
        expected = plainReplay(input);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * Two LR groups, event times on some steps only, a NaN loss with an infinite grad norm; and 3
     * malformed records, one holding a raw NUL (the codec refuses control characters in ids, so a
     * NUL reaches PostgreSQL only in a dead letter).
     */
    static List<String> fixture() {
        List<String> lines = new ArrayList<>();
        lines.add(
                JsonWriter.object(
                        "type",
                        "run_start",
                        "run_id",
                        FIXTURE_RUN,
                        "schedule",
                        JsonReader.parse(SPEC_TWO_GROUPS)));
        var schedule = io.trainwatch.schedule.ScheduleSpec.parse(SPEC_TWO_GROUPS);
        java.util.Random rnd = new java.util.Random(5);
        for (long s = 0; s < 60; s++) {
            boolean nan = s == FIXTURE_NAN_STEP;
            lines.add(
                    JsonWriter.object(
                            "type",
                            "step",
                            "run_id",
                            FIXTURE_RUN,
                            "step",
                            s,
                            "time",
                            s % 2 == 0 ? 1_795_253_400_000L + 1000 * s : null,
                            "loss",
                            nan
                                    ? Double.NaN
                                    : 2.0
                                            * Math.exp(-s / 50.0)
                                            * Math.exp(0.02 * rnd.nextGaussian()),
                            "grad_norm",
                            nan
                                    ? Double.POSITIVE_INFINITY
                                    : 0.8 * Math.exp(0.1 * rnd.nextGaussian()),
                            "lr",
                            schedule.lrs(s),
                            "batch",
                            nan ? "shard-7" : "shard-" + s));
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            out.add(
                    l.replace(
                            ",\"time\":null",
                            "")); // no time on odd steps: the row takes the time it is written
        }
        out.add(20, "{\"type\":\"step\",\"run_id\":\"" + FIXTURE_RUN + "\",\"step\":");
        out.add(
                30,
                "{\"type\":\"step\",\"run_id\":\"" + FIXTURE_RUN + "\",\"step\":-3,\"loss\":1}");
        out.add(
                50,
                "{\"type\":\"step\",\"run_id\":\""
                        + FIXTURE_RUN
                        + "\",\"step\":\"a\u0000b\",\"loss\":1}"); // a raw NUL: PostgreSQL text
        // cannot hold it
        return out;
    }

    static Expected plainReplay(Path dir) throws Exception {
        EventCodec codec = new EventCodec();
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        Map<String, RunState> states = new HashMap<>();
        Map<String, Long> lastStep = new HashMap<>();
        Map<String, SeriesPoint> points = new HashMap<>();
        List<Alert> alerts = new ArrayList<>();
        Map<String, Alert> latest = new HashMap<>();
        Map<String, Long> firstTime = new HashMap<>();
        Set<String> resumes = new HashSet<>();
        Set<String> repeated = new HashSet<>();
        long steps = 0;
        int dead = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        for (Path f : files) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                TrainingEvent e;
                try {
                    e = codec.parse(line);
                } catch (InvalidEventException ex) {
                    dead++;
                    continue;
                }
                RunMonitor.Output o =
                        monitor.onEvent(states.computeIfAbsent(e.runId, k -> new RunState()), e);
                if (e.type == EventType.STEP) {
                    steps++;
                    Long last = lastStep.put(e.runId, e.step);
                    if (last != null && e.step <= last) {
                        resumes.add(key(e.runId, e.step));
                    }
                    if (points.put(key(e.runId, e.step), o.series()) != null) {
                        repeated.add(key(e.runId, e.step));
                    }
                }
                for (Alert a : o.alerts()) {
                    alerts.add(a);
                    latest.put(a.alertId, a);
                    firstTime.putIfAbsent(a.alertId, a.timeMillis);
                }
            }
        }
        return new Expected(steps, points, alerts, latest, firstTime, resumes, repeated, dead);
    }

    static String key(String runId, long step) {
        return runId + "@" + step;
    }

    static Connection superuser(String url) throws SQLException {
        return DriverManager.getConnection(url, EmbeddedPostgres.USER, "");
    }

    /** Row counts of the three tables. */
    static long[] counts(String url) throws SQLException {
        try (Connection c = superuser(url);
                Statement st = c.createStatement()) {
            long[] n = new long[3];
            String[] tables = {"trainwatch_series", "trainwatch_alerts", "trainwatch_dead_letters"};
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + tables[i])) {
                    rs.next();
                    n[i] = rs.getLong(1);
                }
            }
            return n;
        }
    }

    static CliRunner.Result replay(Path out, String url, String... more) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "replay",
                                "--input",
                                input.toString(),
                                "--output",
                                out.resolve("alerts.jsonl").toString(),
                                "--series",
                                out.resolve("series.jsonl").toString(),
                                "--jdbc-url",
                                url));
        args.addAll(List.of(more));
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r;
    }

    @Test
    void shouldWriteEveryRealRunRowOnceWithItsValuesAndAddNoRowOnASecondReplay(@TempDir Path tmp)
            throws Exception {
        String url = pg.createDatabase("every_step");
        long t0 = System.currentTimeMillis();
        CliRunner.Result first = replay(tmp, url);
        long t1 = System.currentTimeMillis();
        assertThat(first.out()).contains("postgres         -> " + url);
        long[] n = counts(url);
        int distinctAlerts = expected.latestAlert().size();
        System.out.printf(
                "postgres replay: %d step events judged, %d series rows ((run_id, step) distinct), %d alerts -> %d alert rows, %d dead letters%n",
                expected.stepEvents(), n[0], expected.alerts().size(), n[1], n[2]);
        // every judged step emits a point (--series-every 1); a resume writes its steps again onto
        // the same rows
        assertThat(Files.readAllLines(tmp.resolve("series.jsonl")))
                .hasSize((int) expected.stepEvents());
        assertThat(n[0])
                .isEqualTo(expected.lastPoint().size())
                .isLessThan(expected.stepEvents()); // the fasterrcnn run resumes
        assertThat(n[1]).isEqualTo(distinctAlerts).isLessThan(expected.alerts().size());
        assertThat(n[2]).isEqualTo(expected.deadLetters()).isEqualTo(3);

        assertSeriesRowsMatch(url, t0, t1);
        Map<String, OffsetDateTime> opened = assertAlertRowsMatch(url);
        assertJsonbAndNonFiniteValues(url);
        assertDeadLetters(url);

        // again into the same tables: the same rows, none added; alerts keep the time they were
        // first written
        replay(tmp, url);
        assertThat(counts(url)).containsExactly(n);
        assertThat(assertAlertRowsMatch(url)).isEqualTo(opened);
        assertSeriesRowsMatch(url, t0, System.currentTimeMillis());
    }

    /**
     * Every query of both Grafana dashboards, macros and variables substituted as Grafana would,
     * run as the read-only role Grafana logs in with, against the real runs replayed into
     * PostgreSQL: each returns rows, with the columns its panel needs (time series: a time column
     * and a number; annotations: time and text).
     */
    @Test
    void shouldAnswerEveryDashboardQueryWithRowsAsTheGrafanaRole(@TempDir Path tmp)
            throws Exception {
        String url = pg.createDatabase("dashboards");
        replay(tmp, url);
        java.time.Instant from;
        java.time.Instant to;
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery("SELECT min(time), max(time) FROM trainwatch_series")) {
            rs.next();
            from = rs.getTimestamp(1).toInstant().minusSeconds(60);
            to = rs.getTimestamp(2).toInstant().plusSeconds(60);
        }
        // the fixture run has a declared schedule with two groups, a NaN step and its alert: every
        // run panel has data
        var queries = io.trainwatch.dashboards.DashboardQueries.substituted(from, to, FIXTURE_RUN);
        assertThat(queries).hasSizeGreaterThanOrEqualTo(15);
        try (Connection c = superuser(url);
                Statement st = c.createStatement()) {
            st.execute("SET ROLE trainwatch_grafana");
            for (var q : queries) {
                String what =
                        q.dashboard() + " / " + q.source() + " " + q.title() + " " + q.refId();
                List<String> columns = new ArrayList<>();
                List<Integer> types = new ArrayList<>();
                int rows = 0;
                try (ResultSet rs = st.executeQuery(q.sql())) {
                    var md = rs.getMetaData();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        columns.add(md.getColumnLabel(i));
                        types.add(md.getColumnType(i));
                    }
                    while (rs.next()) {
                        rows++;
                    }
                } catch (SQLException e) {
                    throw new AssertionError(
                            what + " failed: " + e.getMessage() + "\n" + q.sql(), e);
                }
                System.out.printf("dashboard query %-70s %5d rows  %s%n", what, rows, columns);
                assertThat(rows).as("rows of %s", what).isPositive();
                switch (q.source()) {
                    case ANNOTATION -> assertThat(columns).as(what).contains("time", "text");
                    case VARIABLE -> assertThat(columns).as(what).hasSize(1);
                    case PANEL -> {
                        if ("time_series".equals(q.format())) {
                            assertThat(columns).as(what).contains("time");
                            assertThat(types)
                                    .as("%s has a numeric column", what)
                                    .containsAnyOf(
                                            java.sql.Types.DOUBLE,
                                            java.sql.Types.BIGINT,
                                            java.sql.Types.INTEGER,
                                            java.sql.Types.NUMERIC,
                                            java.sql.Types.REAL);
                        } else {
                            assertThat(columns).as(what).isNotEmpty();
                        }
                    }
                }
            }
            // read-only: the role Grafana uses cannot change what the job wrote
            assertThatThrownBy(() -> st.executeUpdate("DELETE FROM trainwatch_series"))
                    .isInstanceOf(SQLException.class);
        }
        // the same tables drawn without Grafana: report --jdbc-url has every stored step and every
        // alert row
        long[] n = counts(url);
        long runs;
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery("SELECT count(DISTINCT run_id) FROM trainwatch_series")) {
            rs.next();
            runs = rs.getLong(1);
        }
        CliRunner.Result report =
                CliRunner.run(
                        "report",
                        "--jdbc-url",
                        url,
                        "--out",
                        tmp.resolve("report.html").toString());
        assertThat(report.exitCode()).as(report.err()).isZero();
        assertThat(report.out())
                .contains(
                        String.format(
                                "report: %d runs, %d logged steps, %d alerts", runs, n[0], n[1]));
        assertThat(Files.readString(tmp.resolve("report.html")))
                .contains(FIXTURE_RUN, "<svg")
                // unsloth's NaN step as trainer_state.json numbers it, read from display_step
                .contains("<td>18<br><small>optimizer step 17</small></td>");
    }

    @Test
    void shouldThinTheSeriesWithSeriesEveryButKeepEveryAlertStepAndResume(@TempDir Path tmp)
            throws Exception {
        String url = pg.createDatabase("every_50_steps");
        CliRunner.Result r = replay(tmp, url, "--series-every", "50");
        assertThat(r.out()).contains("(at most one point per 50 steps of a run)");
        long[] n = counts(url);
        System.out.printf(
                "postgres replay --series-every 50: %d series rows (of %d), %d alert rows%n",
                n[0], expected.lastPoint().size(), n[1]);
        assertThat(n[0]).isPositive().isLessThan(expected.lastPoint().size() / 5);
        assertThat(n[1]).isEqualTo(expected.latestAlert().size());
        Set<String> keys = new HashSet<>();
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT run_id, step FROM trainwatch_series")) {
            while (rs.next()) {
                keys.add(key(rs.getString(1), rs.getLong(2)));
            }
        }
        for (Alert a : expected.alerts()) {
            assertThat(keys).as("step of %s", a).contains(key(a.runId, a.step));
        }
        assertThat(expected.resumeKeys()).isNotEmpty();
        assertThat(keys).containsAll(expected.resumeKeys());
        // and a row holds the same values as without thinning (but for a step logged again after a
        // resume, whose row
        // keeps the first pass's values when thinning dropped it the second time)
        assertSeriesRowsMatch(url, 0, Long.MAX_VALUE, expected.repeatedKeys());
    }

    @Test
    void shouldWriteEveryNotificationGivenUpWithItsReasonAndAlert(@TempDir Path tmp)
            throws Exception {
        String url = pg.createDatabase("notifications_failed");
        HttpServer gone =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        gone.createContext(
                "/",
                exchange -> {
                    exchange.getRequestBody().readAllBytes();
                    exchange.sendResponseHeaders(410, -1);
                    exchange.close();
                });
        gone.start();
        try {
            CliRunner.Result r =
                    replay(
                            tmp,
                            url,
                            "--notify",
                            "webhook=http://127.0.0.1:"
                                    + gone.getAddress().getPort()
                                    + "/hook;min_severity=critical");
            long critical =
                    expected.alerts().stream().filter(a -> "critical".equals(a.severity)).count();
            assertThat(critical).isPositive();
            assertThat(r.out()).contains("0 delivered", critical + " failed");
            try (Connection c = superuser(url);
                    Statement st = c.createStatement();
                    ResultSet rs =
                            st.executeQuery(
                                    "SELECT alert_id, severity, attempts, last_status, reason, alert->>'alert_id', target"
                                            + " FROM trainwatch_notifications_failed")) {
                int rows = 0;
                while (rs.next()) {
                    rows++;
                    assertThat(rs.getString(2)).isEqualTo("critical");
                    assertThat(rs.getInt(3)).isEqualTo(1);
                    assertThat(rs.getInt(4)).isEqualTo(410);
                    assertThat(rs.getString(5)).contains("410");
                    assertThat(rs.getString(6)).isEqualTo(rs.getString(1));
                    assertThat(rs.getString(7)).startsWith("webhook=http://127.0.0.1:");
                }
                assertThat((long) rows).isEqualTo(critical);
            }
        } finally {
            gone.stop(0);
        }
    }

    @Test
    void shouldNameTheUrlAndUserButNeverThePasswordWhenCredentialsAreRefused() {
        PostgresConfig wrong = new PostgresConfig(pg.jdbcUrl(), "nobody", "hunter2");
        assertThatThrownBy(() -> PostgresSchema.prepare(wrong))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "cannot connect to PostgreSQL at "
                                + pg.jdbcUrl()
                                + " as nobody: FATAL: role \"nobody\" does not exist; check --jdbc-url and "
                                + "TRAINWATCH_JDBC_USER / TRAINWATCH_JDBC_PASSWORD")
                .message()
                .doesNotContain("hunter2");
    }

    @Test
    void shouldGiveAnAlertsTableFromBeforeDisplayStepTheColumnFilledWithItsSteps()
            throws Exception {
        String url = pg.createDatabase("before_display_step");
        try (Connection c = superuser(url);
                Statement st = c.createStatement()) {
            // the alerts table as init.sql created it before display_step
            st.execute(
                    "CREATE TABLE trainwatch_alerts (alert_id text PRIMARY KEY, run_id text NOT NULL,"
                            + " kind text NOT NULL, severity text NOT NULL, status text NOT NULL,"
                            + " onset_step bigint NOT NULL, step bigint NOT NULL,"
                            + " opened_time timestamptz NOT NULL, time timestamptz NOT NULL,"
                            + " message text NOT NULL, diagnosis text, evidence jsonb, suggestion jsonb)");
            st.execute(
                    "INSERT INTO trainwatch_alerts VALUES ('r/NON_FINITE/17', 'r', 'NON_FINITE',"
                            + " 'critical', 'open', 17, 17, now(), now(), 'Step 17: loss is NaN.',"
                            + " null, null, null)");
        }
        PostgresSchema.prepare(new PostgresConfig(url, EmbeddedPostgres.USER, null));
        PostgresSchema.prepare(new PostgresConfig(url, EmbeddedPostgres.USER, null)); // again
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT display_step, (SELECT is_nullable FROM information_schema.columns"
                                        + " WHERE table_name = 'trainwatch_alerts' AND column_name = 'display_step')"
                                        + " FROM trainwatch_alerts")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(17);
            assertThat(rs.getString(2)).isEqualTo("NO");
        }
    }

    @Test
    void shouldCreateTheTablesAndWarnOnceWhenTheGrafanaRoleCannotBeCreated() throws Exception {
        String url = pg.createDatabase("no_createrole");
        try (Connection c = superuser(url);
                Statement st = c.createStatement()) {
            st.execute("CREATE ROLE limited_writer LOGIN");
            st.execute("GRANT CREATE ON SCHEMA public TO limited_writer");
            // roles are cluster-wide and another test may have created the Grafana role: hide it
            // for this test
            st.execute(
                    "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'trainwatch_grafana') THEN "
                            + "ALTER ROLE trainwatch_grafana RENAME TO trainwatch_grafana_hidden; END IF; END $$");
        }
        try {
            PostgresSchema.Result r =
                    PostgresSchema.prepare(new PostgresConfig(url, "limited_writer", null));
            assertThat(r.roleWarning())
                    .startsWith(
                            "could not create the read-only role trainwatch_grafana or grant it SELECT in "
                                    + url)
                    .contains("permission denied to create role", "CREATEROLE");
            assertThat(counts(url)).containsExactly(0, 0, 0); // the three tables exist
        } finally {
            try (Connection c = superuser(url);
                    Statement st = c.createStatement()) {
                st.execute(
                        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'trainwatch_grafana_hidden') THEN "
                                + "ALTER ROLE trainwatch_grafana_hidden RENAME TO trainwatch_grafana; END IF; END $$");
            }
        }
    }

    /** Every series row holds the values of the plain replay's last point at its (run_id, step). */
    static void assertSeriesRowsMatch(String url, long writtenFrom, long writtenTo)
            throws SQLException {
        assertSeriesRowsMatch(url, writtenFrom, writtenTo, Set.of());
    }

    static void assertSeriesRowsMatch(
            String url, long writtenFrom, long writtenTo, Set<String> skip) throws SQLException {
        int rows = 0;
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT run_id, step, time, actual_lr, scheduled_lr, loss, loss_mean, grad_norm, suggested_clip FROM trainwatch_series")) {
            while (rs.next()) {
                rows++;
                String k = key(rs.getString(1), rs.getLong(2));
                SeriesPoint p = expected.lastPoint().get(k);
                assertThat(p).as(k).isNotNull();
                if (skip.contains(k)) {
                    continue;
                }
                long time = rs.getObject(3, OffsetDateTime.class).toInstant().toEpochMilli();
                if (p.timeMillis != null) {
                    assertThat(time).as(k + " time").isEqualTo(p.timeMillis);
                } else {
                    assertThat(time).as(k + " time (written)").isBetween(writtenFrom, writtenTo);
                }
                assertThat(array(rs, 4)).as(k + " actual_lr").isEqualTo(p.actualLr);
                assertThat(array(rs, 5)).as(k + " scheduled_lr").isEqualTo(p.scheduledLr);
                assertThat(number(rs, 6)).as(k + " loss").isEqualTo(p.loss);
                assertThat(number(rs, 7)).as(k + " loss_mean").isEqualTo(p.lossMean);
                assertThat(number(rs, 8)).as(k + " grad_norm").isEqualTo(p.gradNorm);
                assertThat(number(rs, 9)).as(k + " suggested_clip").isEqualTo(p.suggestedClip);
            }
        }
        assertThat(rows).isPositive();
    }

    /** Every alert row holds its alert's latest status; returns each row's opened_time. */
    static Map<String, OffsetDateTime> assertAlertRowsMatch(String url) throws SQLException {
        Map<String, OffsetDateTime> opened = new LinkedHashMap<>();
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT alert_id, run_id, kind, severity, status, onset_step, step, opened_time, time, message, diagnosis, evidence::text, suggestion::text,"
                                        + " display_step FROM trainwatch_alerts ORDER BY alert_id")) {
            while (rs.next()) {
                String id = rs.getString(1);
                Alert a = expected.latestAlert().get(id);
                assertThat(a).as(id).isNotNull();
                assertThat(
                                List.of(
                                        rs.getString(2),
                                        rs.getString(3),
                                        rs.getString(4),
                                        rs.getString(5)))
                        .as(id)
                        .containsExactly(a.runId, a.kind, a.severity, a.status);
                assertThat(List.of(rs.getLong(6), rs.getLong(7), rs.getLong(14)))
                        .as(id)
                        .containsExactly(a.onsetStep, a.step, a.displayStep);
                assertThat(rs.getString(10)).as(id).isEqualTo(PostgresSinks.text(a.message));
                assertThat(rs.getString(11)).as(id).isEqualTo(PostgresSinks.text(a.diagnosis));
                assertThat(JsonReader.parse(rs.getString(12)))
                        .as(id + " evidence")
                        .isEqualTo(
                                JsonReader.parse(
                                        PostgresSinks.json(JsonWriter.namedValues(a.evidence))));
                assertThat(JsonReader.parse(rs.getString(13)))
                        .as(id + " suggestion")
                        .isEqualTo(
                                JsonReader.parse(
                                        PostgresSinks.json(JsonWriter.namedValues(a.suggestion))));
                OffsetDateTime openedTime = rs.getObject(8, OffsetDateTime.class);
                OffsetDateTime time = rs.getObject(9, OffsetDateTime.class);
                Long first = expected.firstAlertTime().get(id);
                if (first != null) {
                    assertThat(openedTime.toInstant().toEpochMilli())
                            .as(id + " opened_time")
                            .isEqualTo(first);
                }
                if (a.timeMillis != null) {
                    assertThat(time.toInstant().toEpochMilli())
                            .as(id + " time")
                            .isEqualTo(a.timeMillis);
                }
                opened.put(id, openedTime);
            }
        }
        assertThat(opened).hasSize(expected.latestAlert().size());
        return opened;
    }

    /**
     * NaN and Infinity survive as such in double precision columns and as "NaN"/"Infinity" in
     * jsonb, which SQL can query.
     */
    static void assertJsonbAndNonFiniteValues(String url) throws SQLException {
        try (Connection c = superuser(url)) {
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "SELECT loss = 'NaN'::float8, grad_norm = 'Infinity'::float8, array_length(actual_lr, 1),"
                                    + " actual_lr[2], scheduled_lr[2] FROM trainwatch_series WHERE run_id = ? AND step = ?")) {
                ps.setString(1, FIXTURE_RUN);
                ps.setLong(2, FIXTURE_NAN_STEP);
                ResultSet rs = ps.executeQuery();
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("loss is NaN").isTrue();
                assertThat(rs.getBoolean(2)).as("grad_norm is Infinity").isTrue();
                assertThat(rs.getInt(3)).isEqualTo(2);
                assertThat(rs.getDouble(4)).isEqualTo(rs.getDouble(5)).isPositive();
            }
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "SELECT evidence->>'loss', evidence->>'grad_norm', evidence->'batch'->>0, suggestion->>'action',"
                                    + " evidence::text FROM trainwatch_alerts WHERE run_id = ? AND kind = 'NON_FINITE' AND onset_step = ?")) {
                ps.setString(1, FIXTURE_RUN);
                ps.setLong(2, FIXTURE_NAN_STEP);
                ResultSet rs = ps.executeQuery();
                assertThat(rs.next()).isTrue();
                String evidence = rs.getString(5);
                assertThat(rs.getString(1)).as(evidence).isEqualTo("NaN");
                assertThat(rs.getString(2)).as(evidence).isEqualTo("Infinity");
                assertThat(rs.getString(3)).as(evidence).isEqualTo("shard-7");
                assertThat(rs.getString(4)).isNotBlank();
            }
            // over the real runs' rows: the resolved ones carry the suggestion "none" (a lone
            // GradScaler overflow's open alert does too: nothing to change)
            long resolved =
                    expected.latestAlert().values().stream()
                            .filter(a -> Alert.RESOLVED.equals(a.status))
                            .count();
            try (Statement st = c.createStatement();
                    ResultSet rs =
                            st.executeQuery(
                                    "SELECT count(*) FROM trainwatch_alerts WHERE status = 'resolved'"
                                            + " AND suggestion->>'action' = 'none' AND evidence IS NOT NULL")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(resolved).isPositive();
            }
        }
    }

    static void assertDeadLetters(String url) throws SQLException {
        Map<String, String[]> rows = new HashMap<>();
        try (Connection c = superuser(url);
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT source, field, reason, payload FROM trainwatch_dead_letters")) {
            while (rs.next()) {
                rows.put(
                        rs.getString(1),
                        new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
            }
        }
        assertThat(rows.keySet()).allMatch(s -> s.startsWith(FIXTURE_FILE + ":"));
        assertThat(rows.values()).allMatch(r -> !r[1].isBlank());
        assertThat(rows.values())
                .extracting(r -> r[2])
                .contains(
                        "{\"type\":\"step\",\"run_id\":\""
                                + FIXTURE_RUN
                                + "\",\"step\":-3,\"loss\":1}")
                .anyMatch(p -> p.contains("a\uFFFDb"));
    }

    private static double[] array(ResultSet rs, int column) throws SQLException {
        java.sql.Array a = rs.getArray(column);
        if (a == null) {
            return null;
        }
        Object[] values = (Object[]) a.getArray();
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = ((Number) values[i]).doubleValue();
        }
        return out;
    }

    private static Double number(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? null : v;
    }
}
