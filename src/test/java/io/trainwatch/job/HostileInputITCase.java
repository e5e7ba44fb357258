package io.trainwatch.job;

import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.FuzzSettings;
import io.trainwatch.event.HostileEvents;
import io.trainwatch.event.JsonReader;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input through the real pipeline ({@link TrainwatchJob#defineWorkflow}) on a MiniCluster
 * at parallelism 2, into JSONL files and a real PostgreSQL: {@link HostileEvents} records (seed
 * printed; {@code -Dtrainwatch.fuzz.seed=N} replays it, {@code -Dtrainwatch.fuzz.records=N} sets
 * how many) mixed with healthy and faulty simulated runs. The job finishes without a failure or a
 * restart, read = accepted + dead-lettered, the monitor never fails, every dead letter names a
 * field and a reason, PostgreSQL holds every row the files hold, and the simulated runs get exactly
 * the alerts they get alone.
 */
class HostileInputITCase {
    static final int DEFAULT_RECORDS = 10_000;
    static final List<Fault> SIMULATED =
            List.of(
                    Fault.NONE,
                    Fault.NONE,
                    Fault.NAN_BAD_BATCH,
                    Fault.GRAD_SPIKE,
                    Fault.LR_OFFSET,
                    Fault.WARMUP_BLOWUP,
                    Fault.LR_RESTARTED_ON_RESUME,
                    Fault.LOSS_SPIKES);

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.parallelismTwo();

    /**
     * jsonb keeps a document's meaning, not its spelling: keys reordered, numbers in exact decimal
     * (1e308 comes back as 309 digits, -0.0 as 0: numeric has no negative zero): numbers are the
     * same when they are equal as doubles.
     */
    static final java.util.Comparator<JsonNode> SAME_VALUE =
            (x, y) ->
                    x.isNumber() && y.isNumber()
                            ? (x.doubleValue() == y.doubleValue() ? 0 : 1)
                            : x.equals(y) ? 0 : 1;

    static EmbeddedPostgres pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void shouldFinishWithoutFailureAndKeepEveryRunsAlertsAsTheyAreAlone(
            @TempDir Path tmp, @InjectMiniCluster MiniCluster cluster) throws Exception {
        long seed = FuzzSettings.seed();
        int count = FuzzSettings.records(DEFAULT_RECORDS);
        long t0 = System.nanoTime();
        List<HostileEvents.Generated> hostile = new HostileEvents(seed).generate(count);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : SIMULATED) {
            runs.add(RunSimulator.generate(rnd.nextLong(Long.MAX_VALUE / 2), f));
        }
        List<RawRecord> records = mix(hostile, PipelineITCase.interleave(runs), rnd);
        System.out.printf(
                "HostileInputITCase: seed %d (-D%s=%d replays it), %d hostile records + %d events of %d simulated runs = %d records%n",
                seed,
                FuzzSettings.SEED_PROPERTY,
                seed,
                count,
                records.size() - count,
                runs.size(),
                records.size());

        String url = pg.createDatabase("hostile_" + Long.toHexString(seed & 0xffffffL));
        PostgresConfig postgres = new PostgresConfig(url, EmbeddedPostgres.USER, null);
        PostgresSchema.prepare(postgres);
        Path alerts = tmp.resolve("alerts.jsonl");
        Path series = tmp.resolve("series.jsonl");
        Path dead = tmp.resolve("dead.jsonl");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        Configuration noRestart = new Configuration();
        noRestart.set(
                RestartStrategyOptions.RESTART_STRATEGY,
                "none"); // any failure of any task fails the job: nothing hides it
        env.configure(noRestart);
        TrainwatchJob.Outputs outputs =
                TrainwatchJob.defineWorkflow(
                        env,
                        env.fromData(RawRecord.class, records.toArray(RawRecord[]::new))
                                .setParallelism(1),
                        new MonitorConfig(Thresholds.DEFAULTS, 1, true));
        FileOutputs.attach(outputs, alerts, series, dead);
        PostgresOutputs.attach(outputs, postgres);
        JobClient job = env.executeAsync("hostile-input-itcase");
        JobExecutionResult result = job.getJobExecutionResult().get();
        long millis = (System.nanoTime() - t0) / 1_000_000;

        ArchivedExecutionGraph graph = cluster.getArchivedExecutionGraph(job.getJobID()).get();
        assertThat(graph.getState()).isEqualTo(JobStatus.FINISHED);
        assertThat(graph.getFailureInfo()).as("the job never failed").isNull();
        assertThat(graph.getStatusTimestamp(JobStatus.RESTARTING))
                .as("the job never restarted")
                .isZero();

        long read = counter(result, KeyRecordsFunction.READ);
        long accepted = counter(result, MonitorRunsFunction.ACCEPTED);
        long deadLettered = counter(result, KeyRecordsFunction.DEAD_LETTERED);
        List<String> alertLines = Files.readAllLines(alerts, StandardCharsets.UTF_8);
        List<String> seriesLines = Files.readAllLines(series, StandardCharsets.UTF_8);
        List<String> deadLines = Files.readAllLines(dead, StandardCharsets.UTF_8);
        Map<String, Integer> deadByField = new TreeMap<>();
        for (String line : deadLines) {
            deadByField.merge(
                    fieldClass(JsonReader.parse(line).path("field").asText()), 1, Integer::sum);
        }
        System.out.printf(
                "HostileInputITCase: %d records read, %d accepted, %d dead-lettered, %d alerts, %d series points, %d monitor errors, in %d ms%n",
                read,
                accepted,
                deadLettered,
                alertLines.size(),
                seriesLines.size(),
                counter(result, MonitorRunsFunction.MONITOR_ERRORS),
                millis);
        System.out.println("HostileInputITCase: dead letters by field " + deadByField);

        List<String> monitorErrors = new ArrayList<>();
        for (String line : deadLines) {
            JsonNode d = JsonReader.parse(line);
            if (d.path("field").asText().equals("(monitor)")) {
                String payload = d.path("payload").asText();
                monitorErrors.add(
                        d.path("reason").asText()
                                + " <- "
                                + (payload.length() > 400
                                        ? payload.substring(0, 400) + "..."
                                        : payload));
            }
        }
        monitorErrors.forEach(m -> System.out.println("HostileInputITCase MONITOR ERROR: " + m));

        assertThat(read).isEqualTo(records.size()).isEqualTo(accepted + deadLettered);
        assertThat(deadLines).hasSize((int) deadLettered);
        for (String line : deadLines) {
            JsonNode d = JsonReader.parse(line);
            assertThat(d.path("field").asText()).as("field of %s", line).isNotBlank();
            assertThat(d.path("reason").asText()).as("reason of %s", line).isNotBlank();
        }

        List<String> simulatedAlone = PipelineITCase.plainReplay(runs);
        Set<String> simulatedIds = new HashSet<>();
        runs.forEach(r -> simulatedIds.add(r.runId()));
        List<String> simulatedMixed = new ArrayList<>();
        for (String line : alertLines) {
            if (simulatedIds.contains(JsonReader.parse(line).path("run_id").asText())) {
                simulatedMixed.add(line);
            }
        }
        Collections.sort(simulatedAlone);
        Collections.sort(simulatedMixed);
        assertThat(simulatedMixed)
                .as("the simulated runs' alerts, mixed with hostile input vs alone")
                .isNotEmpty()
                .isEqualTo(simulatedAlone);

        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgres.USER, "")) {
            assertAlertRowsMatch(c, alertLines);
            assertDeadLetterRowsMatch(c, deadLines);
            assertSeriesRowsMatch(c, seriesLines);
        }
        assertThat(counter(result, MonitorRunsFunction.MONITOR_ERRORS))
                .as("monitor errors (each one a missing guard): %s", monitorErrors)
                .isZero();
    }

    /**
     * The hostile records and the simulated events in one input, each keeping its own order; every
     * record has its own source.
     */
    static List<RawRecord> mix(
            List<HostileEvents.Generated> hostile,
            List<RawRecord> simulated,
            SplittableRandom rnd) {
        List<RawRecord> out = new ArrayList<>(hostile.size() + simulated.size());
        int h = 0;
        int s = 0;
        while (h < hostile.size() || s < simulated.size()) {
            boolean takeHostile =
                    s == simulated.size()
                            || (h < hostile.size()
                                    && rnd.nextInt(hostile.size() - h + simulated.size() - s)
                                            < hostile.size() - h);
            if (takeHostile) {
                HostileEvents.Generated g = hostile.get(h);
                // bytes gone wrong arrive as a Kafka record's value; text as a line of a file
                out.add(
                        g.utf8() != null
                                ? RawRecord.ofKafka(g.utf8(), "hostile-bytes", 0, h)
                                : new RawRecord(g.text(), "hostile", -1, h));
                h++;
            } else {
                out.add(simulated.get(s++));
            }
        }
        return out;
    }

    /**
     * The class of a dead letter's field: its first name, without indexes or sub-fields
     * ("schedule", "lr", "(payload)").
     */
    static String fieldClass(String field) {
        return field.replaceAll("[\\[.].*", "");
    }

    static long counter(JobExecutionResult result, String name) {
        Object v = result.getAccumulatorResult(name);
        return v == null ? 0 : ((Number) v).longValue();
    }

    /**
     * One row per alert id, holding the latest alert the file has for it (open, then update, then
     * resolved).
     */
    static void assertAlertRowsMatch(Connection c, List<String> alertLines) throws Exception {
        Map<String, JsonNode> latest = new LinkedHashMap<>();
        for (String line : alertLines) {
            JsonNode a = JsonReader.parse(line);
            latest.put(a.path("alert_id").asText(), a);
        }
        Map<String, Map<String, Object>> rows = new HashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT alert_id, run_id, kind, severity, status, onset_step, step, message, diagnosis, evidence::text, suggestion::text FROM trainwatch_alerts")) {
            while (rs.next()) {
                Map<String, Object> row = new HashMap<>();
                for (String col :
                        new String[] {
                            "run_id",
                            "kind",
                            "severity",
                            "status",
                            "message",
                            "diagnosis",
                            "evidence",
                            "suggestion"
                        }) {
                    row.put(col, rs.getString(col));
                }
                row.put("onset_step", rs.getLong("onset_step"));
                row.put("step", rs.getLong("step"));
                rows.put(rs.getString("alert_id"), row);
            }
        }
        assertThat(rows.keySet())
                .as("alert rows")
                .containsExactlyInAnyOrderElementsOf(
                        latest.keySet().stream().map(PostgresSinks::text).toList());
        for (JsonNode a : latest.values()) {
            Map<String, Object> row = rows.get(PostgresSinks.text(a.path("alert_id").asText()));
            for (String col :
                    new String[] {"run_id", "kind", "severity", "status", "message", "diagnosis"}) {
                assertThat(row.get(col))
                        .as("%s of %s", col, a.path("alert_id"))
                        .isEqualTo(
                                a.path(col).isNull()
                                        ? null
                                        : PostgresSinks.text(a.path(col).asText()));
            }
            assertThat(row.get("step")).isEqualTo(a.path("step").asLong());
            assertThat(row.get("onset_step")).isEqualTo(a.path("onset_step").asLong());
            for (String col : new String[] {"evidence", "suggestion"}) {
                JsonNode stored = JsonReader.parse((String) row.get(col));
                JsonNode written = JsonReader.parse(PostgresSinks.json(a.path(col).toString()));
                assertThat(stored.equals(SAME_VALUE, written))
                        .as("%s of %s: %s vs %s", col, a.path("alert_id"), stored, written)
                        .isTrue();
            }
        }
    }

    /**
     * One row per dead letter, keyed by where its record came from, with its field, reason and
     * payload.
     */
    static void assertDeadLetterRowsMatch(Connection c, List<String> deadLines) throws Exception {
        Map<String, String[]> rows = new HashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT source, field, reason, payload FROM trainwatch_dead_letters")) {
            while (rs.next()) {
                rows.put(
                        rs.getString(1),
                        new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
            }
        }
        assertThat(rows).as("dead-letter rows").hasSize(deadLines.size());
        for (String line : deadLines) {
            JsonNode d = JsonReader.parse(line);
            String[] row = rows.get(PostgresSinks.text(d.path("source").asText()));
            assertThat(row).as("row of %s", d.path("source")).isNotNull();
            String reason =
                    d.path("reason").asText()
                            + (d.path("payload_truncated").asBoolean()
                                    ? " (payload of "
                                            + d.path("payload_length").asInt()
                                            + " characters cut to "
                                            + DeadLetter.MAX_PAYLOAD_CHARS
                                            + ")"
                                    : "");
            assertThat(row[0]).isEqualTo(PostgresSinks.text(d.path("field").asText()));
            assertThat(row[1]).isEqualTo(PostgresSinks.text(reason));
            assertThat(row[2]).isEqualTo(PostgresSinks.text(d.path("payload").asText()));
        }
    }

    /**
     * One row per (run, step), holding the last point the file has for it (a resume writes its
     * steps again), value for value.
     */
    static void assertSeriesRowsMatch(Connection c, List<String> seriesLines) throws Exception {
        Map<String, JsonNode> last = new HashMap<>();
        for (String line : seriesLines) {
            JsonNode p = JsonReader.parse(line);
            last.put(p.path("run_id").asText() + "@" + p.path("step").asLong(), p);
        }
        int rows = 0;
        try (Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT run_id, step, actual_lr, scheduled_lr, loss, loss_mean, grad_norm, suggested_clip FROM trainwatch_series")) {
            while (rs.next()) {
                rows++;
                String key = rs.getString(1) + "@" + rs.getLong(2);
                JsonNode p = last.get(key);
                assertThat(p).as("series row %s is in the file", key).isNotNull();
                assertThat(doubles(rs.getArray(3)))
                        .as("actual_lr of %s", key)
                        .isEqualTo(doubles(p.path("actual_lr")));
                assertThat(doubles(rs.getArray(4)))
                        .as("scheduled_lr of %s", key)
                        .isEqualTo(doubles(p.path("scheduled_lr")));
                String[] cols = {"loss", "loss_mean", "grad_norm", "suggested_clip"};
                for (int i = 0; i < cols.length; i++) {
                    double v = rs.getDouble(5 + i);
                    assertThat(rs.wasNull() ? null : v)
                            .as("%s of %s", cols[i], key)
                            .isEqualTo(number(p.path(cols[i])));
                }
            }
        }
        assertThat(rows).as("series rows").isEqualTo(last.size());
    }

    static List<Double> doubles(Array a) throws Exception {
        if (a == null) {
            return null;
        }
        List<Double> out = new ArrayList<>();
        for (Object o : (Object[]) a.getArray()) {
            out.add(((Number) o).doubleValue());
        }
        return out;
    }

    static List<Double> doubles(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        List<Double> out = new ArrayList<>();
        n.forEach(v -> out.add(number(v)));
        return out;
    }

    /**
     * A number as JsonWriter writes it: a JSON number, or "NaN"/"Infinity"/"-Infinity" for the
     * non-finite ones.
     */
    static Double number(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return null;
        }
        return v.isTextual() ? Double.valueOf(v.asText()) : v.doubleValue();
    }
}
