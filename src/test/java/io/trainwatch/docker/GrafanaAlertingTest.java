package io.trainwatch.docker;

import io.trainwatch.dashboards.DashboardQueries;
import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.event.Alert;
import io.trainwatch.job.AlertRows;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.job.PostgresSchema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/**
 * docker/grafana/provisioning/alerting/trainwatch.yaml provisions what Grafana 11.2's file
 * provisioning expects (rule groups, a contact point, the notification policy), wired to the
 * provisioned data source and to a contact point whose address comes from the environment; and each
 * rule's SQL, run as Grafana's read-only role against a real PostgreSQL with init.sql's schema and
 * alerts written by the job's own upsert, finds the runs it is meant to page for and no other.
 */
class GrafanaAlertingTest {
    static final Path ALERTING = Path.of("docker/grafana/provisioning/alerting/trainwatch.yaml");
    static final Path DATASOURCES =
            Path.of("docker/grafana/provisioning/datasources/trainwatch.yaml");
    static final Path PROVIDERS = Path.of("docker/grafana/provisioning/dashboards/trainwatch.yaml");
    static final Path COMPOSE = Path.of("docker/docker-compose.yml");
    static final Path ENV_EXAMPLE = Path.of("docker/.env.example");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** The data source uid of Grafana's server-side expressions. */
    static final String EXPR = "__expr__";

    /** Grafana's rule and integration uids: at most 40 letters, digits, '-' or '_'. */
    static final Pattern UID = Pattern.compile("[A-Za-z0-9_-]{1,40}");

    /** A whole value that is one environment variable, as Grafana's provisioning expands it. */
    static final Pattern ENV_REF =
            Pattern.compile("\\$(?:\\{([A-Za-z_][A-Za-z0-9_]*)}|([A-Za-z_][A-Za-z0-9_]*))");

    static final Pattern DURATION = Pattern.compile("(?:\\d+(?:ms|s|m|h|d|w|y))+");
    static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d|w|y)");
    static final Pattern LABEL_REF = Pattern.compile("\\$labels\\.(\\w+)");
    static final Pattern VALUE_REF = Pattern.compile("\\$values\\.(\\w+)");

    static final String OPEN_CRITICAL = "Open critical alert";
    static final String SILENT_RUN = "Silent run";

    static JsonNode alerting() throws IOException {
        return YAML.readTree(ALERTING.toFile());
    }

    static String datasourceUid() throws IOException {
        JsonNode list = YAML.readTree(DATASOURCES.toFile()).path("datasources");
        assertThat(list).hasSize(1);
        String uid = list.get(0).path("uid").asText();
        assertThat(uid).matches(UID);
        return uid;
    }

    static List<JsonNode> rules() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        alerting().path("groups").forEach(g -> g.path("rules").forEach(out::add));
        return out;
    }

    static JsonNode rule(String title) throws IOException {
        return rules().stream()
                .filter(r -> r.path("title").asText().equals(title))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no rule titled " + title));
    }

    /** The rule's data-source query (the one that is not an expression). */
    static JsonNode sqlQuery(JsonNode rule) {
        List<JsonNode> queries = new ArrayList<>();
        rule.path("data")
                .forEach(
                        d -> {
                            if (!d.path("datasourceUid").asText().equals(EXPR)) {
                                queries.add(d);
                            }
                        });
        assertThat(queries).as(rule.path("title").asText()).hasSize(1);
        return queries.get(0);
    }

    /** A Prometheus-style duration as Grafana's provisioning parses it ("1m", "1h30m", "0s"). */
    static Duration duration(String text) {
        assertThat(text).matches(DURATION);
        Duration d = Duration.ZERO;
        Matcher m = DURATION_PART.matcher(text);
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            d =
                    d.plus(
                            switch (m.group(2)) {
                                case "ms" -> Duration.ofMillis(n);
                                case "s" -> Duration.ofSeconds(n);
                                case "m" -> Duration.ofMinutes(n);
                                case "h" -> Duration.ofHours(n);
                                case "d" -> Duration.ofDays(n);
                                case "w" -> Duration.ofDays(7 * n);
                                default -> Duration.ofDays(365 * n);
                            });
        }
        return d;
    }

    static List<String> refs(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    // ---------------------------------------------------------------- structure

    @Test
    void shouldProvisionOneRuleGroupInTheDashboardsFolder() throws IOException {
        JsonNode a = alerting();
        assertThat(a.path("apiVersion").isInt()).as("apiVersion is the number 1").isTrue();
        assertThat(a.path("apiVersion").asInt()).isEqualTo(1);
        JsonNode groups = a.path("groups");
        assertThat(groups).hasSize(1);
        JsonNode g = groups.get(0);
        assertThat(g.path("orgId").asInt(1)).isEqualTo(1);
        assertThat(g.path("name").asText()).isNotBlank();
        // beside the dashboards: the folder the dashboard provider loads them into
        String dashboardsFolder =
                YAML.readTree(PROVIDERS.toFile()).path("providers").get(0).path("folder").asText();
        assertThat(g.path("folder").asText()).isNotBlank().isEqualTo(dashboardsFolder);
        // Grafana refuses a group interval that is not a positive multiple of its scheduler's 10 s
        Duration interval = duration(g.path("interval").asText());
        assertThat(interval).isPositive();
        assertThat(interval.toMillis() % 10_000).as("interval %s", interval).isZero();
        assertThat(rules())
                .extracting(r -> r.path("title").asText())
                .containsExactlyInAnyOrder(OPEN_CRITICAL, SILENT_RUN);
    }

    @Test
    void shouldQueryTheProvisionedDatasourceAndExpressionsOnly() throws IOException {
        String uid = datasourceUid();
        for (JsonNode r : rules()) {
            String title = r.path("title").asText();
            List<String> refIds = new ArrayList<>();
            Map<String, String> types = new LinkedHashMap<>();
            for (JsonNode d : r.path("data")) {
                String refId = d.path("refId").asText();
                String what = title + " " + refId;
                assertThat(refId).as(what).isNotBlank();
                assertThat(refIds).as(what + ": refIds are unique").doesNotContain(refId);
                assertThat(d.path("model").path("refId").asText()).as(what).isEqualTo(refId);
                String ds = d.path("datasourceUid").asText();
                assertThat(ds).as(what).isIn(uid, EXPR);
                if (ds.equals(EXPR)) {
                    String type = d.path("model").path("type").asText();
                    assertThat(type).as(what).isIn("reduce", "threshold", "math");
                    if (!type.equals("math")) {
                        // an expression reads a query or expression listed before it
                        assertThat(d.path("model").path("expression").asText())
                                .as(what)
                                .isIn(refIds);
                    }
                    types.put(refId, type);
                } else {
                    JsonNode m = d.path("model");
                    assertThat(m.path("format").asText()).as(what).isEqualTo("table");
                    assertThat(m.path("rawQuery").asBoolean()).as(what).isTrue();
                    assertThat(m.path("rawSql").asText()).as(what).contains("FROM trainwatch_");
                    if (m.has("datasource")) {
                        assertThat(m.path("datasource").path("uid").asText())
                                .as(what)
                                .isEqualTo(uid);
                    }
                    // Grafana refuses a query without a time range: from seconds ago to a later
                    // point
                    long from = d.path("relativeTimeRange").path("from").asLong(-1);
                    long to = d.path("relativeTimeRange").path("to").asLong(-1);
                    assertThat(to).as(what).isNotNegative();
                    assertThat(from).as(what).isGreaterThan(to);
                    types.put(refId, "sql");
                }
                refIds.add(refId);
            }
            assertThat(types.values()).as(title).containsOnlyOnce("sql");
            String condition = r.path("condition").asText();
            assertThat(refIds)
                    .as(title + ": the condition is one of the rule's data")
                    .contains(condition);
            assertThat(types.get(condition))
                    .as(title + ": the condition is a threshold on the query")
                    .isEqualTo("threshold");
            // templates read values of expressions the rule has
            for (String ref : refs(VALUE_REF, r.path("annotations").toString())) {
                assertThat(types).as(title + ": $values." + ref).containsKey(ref);
                assertThat(types.get(ref)).as(title + ": $values." + ref).isNotEqualTo("sql");
            }
        }
    }

    @Test
    void shouldGiveEveryRuleAUidLabelsAndASummary() throws IOException {
        Set<String> uids = new HashSet<>();
        for (JsonNode r : rules()) {
            String title = r.path("title").asText();
            String uid = r.path("uid").asText();
            assertThat(uid).as(title).matches(UID);
            assertThat(uids.add(uid)).as(title + ": uid " + uid + " is unique").isTrue();
            assertThat(r.path("labels").path("severity").asText())
                    .as(title)
                    .isIn("critical", "warning", "info");
            assertThat(r.path("labels").path("team").asText()).as(title).isEqualTo("trainwatch");
            String summary = r.path("annotations").path("summary").asText();
            assertThat(summary).as(title).contains("{{ $labels.run_id }}");
            assertThat(r.path("annotations").path("description").asText()).as(title).isNotBlank();
            // Grafana expands environment variables in titles and labels: a '$' there would be
            // eaten; and newer versions expand ${VAR} in annotations
            assertThat(title).doesNotContain("$");
            assertThat(r.path("labels").toString()).as(title).doesNotContain("$");
            assertThat(r.path("annotations").toString()).as(title).doesNotContain("${");
            // no rows is no open alert, not a problem; a failing query is one
            assertThat(r.path("noDataState").asText()).as(title).isEqualTo("OK");
            assertThat(r.path("execErrState").asText()).as(title).isIn("Error", "Alerting");
            // the job already waited out its own hysteresis: a page is not held back for long
            assertThat(duration(r.path("for").asText("0s")))
                    .as(title)
                    .isLessThanOrEqualTo(Duration.ofMinutes(5));
            assertThat(r.path("isPaused").asBoolean(false)).as(title).isFalse();
        }
        // the two rules' severity is the job's: RUN_SILENT and the open ones counted are critical
        assertThat(rule(OPEN_CRITICAL).path("labels").path("severity").asText())
                .isEqualTo("critical");
        assertThat(rule(SILENT_RUN).path("labels").path("severity").asText()).isEqualTo("critical");
    }

    @Test
    void shouldTakeTheContactPointAddressFromTheEnvironment() throws IOException {
        JsonNode cps = alerting().path("contactPoints");
        assertThat(cps).hasSize(1);
        JsonNode cp = cps.get(0);
        assertThat(cp.path("name").asText()).isNotBlank();
        assertThat(cp.path("receivers")).isNotEmpty();
        Set<String> variables = new HashSet<>();
        Set<String> uids = new HashSet<>();
        for (JsonNode r : cp.path("receivers")) {
            String uid = r.path("uid").asText();
            assertThat(uid).matches(UID);
            assertThat(uids.add(uid)).as("receiver uid " + uid + " is unique").isTrue();
            String type = r.path("type").asText();
            String field =
                    switch (type) {
                        case "webhook", "slack" -> "url";
                        case "email" -> "addresses";
                        default -> throw new AssertionError("unexpected receiver type " + type);
                    };
            String address = r.path("settings").path(field).asText();
            Matcher m = ENV_REF.matcher(address);
            assertThat(m.matches())
                    .as(type + " " + field + " is one environment variable, not " + address)
                    .isTrue();
            variables.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        // no literal address anywhere in the contact points
        assertThat(cps.toString()).doesNotContain("://").doesNotContain("@");
        // docker-compose gives Grafana each variable, from a required .env entry
        JsonNode env =
                YAML.readTree(COMPOSE.toFile())
                        .path("services")
                        .path("grafana")
                        .path("environment");
        String envExample = Files.readString(ENV_EXAMPLE);
        for (String v : variables) {
            String value = env.path(v).asText();
            assertThat(value).as("grafana's " + v + " in docker-compose.yml").startsWith("${");
            String composeVar = value.substring(2).split("[:}]", 2)[0];
            assertThat(value)
                    .as("required: Grafana does not start with a contact point without an address")
                    .startsWith("${" + composeVar + ":?");
            // documented with a placeholder that reaches nobody (.invalid never resolves)
            assertThat(envExample).containsPattern("(?m)^" + composeVar + "=\\S+\\.invalid\\S*$");
        }
        assertThat(variables).containsExactly("TRAINWATCH_GRAFANA_ALERT_WEBHOOK_URL");
    }

    @Test
    void shouldRouteEveryRuleToTheContactPointPerRun() throws IOException {
        JsonNode a = alerting();
        Set<String> names = new HashSet<>();
        a.path("contactPoints").forEach(cp -> names.add(cp.path("name").asText()));
        JsonNode policies = a.path("policies");
        assertThat(policies).hasSize(1);
        JsonNode root = policies.get(0);
        assertThat(root.path("orgId").asInt()).isEqualTo(1);
        List<JsonNode> all = new ArrayList<>();
        collectRoutes(root, all);
        assertThat(all)
                .allSatisfy(
                        p ->
                                assertThat(p.path("receiver").asText())
                                        .as("receiver of %s", p)
                                        .isIn(names));
        for (JsonNode r : rules()) {
            Map<String, String> labels = new LinkedHashMap<>();
            r.path("labels")
                    .fields()
                    .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            labels.put("alertname", r.path("title").asText());
            labels.put("grafana_folder", a.path("groups").get(0).path("folder").asText());
            JsonNode route = route(root, labels);
            String title = r.path("title").asText();
            assertThat(route)
                    .as(title + " reaches a child route, not only the default")
                    .isNotSameAs(root);
            assertThat(route.path("receiver").asText()).as(title).isIn(names);
            List<String> groupBy = new ArrayList<>();
            route.path("group_by").forEach(x -> groupBy.add(x.asText()));
            assertThat(groupBy).as(title + ": each run pages on its own").contains("run_id");
            if (route.has("repeat_interval")) {
                assertThat(duration(route.path("repeat_interval").asText())).isPositive();
            }
        }
    }

    private static void collectRoutes(JsonNode route, List<JsonNode> out) {
        out.add(route);
        route.path("routes").forEach(r -> collectRoutes(r, out));
    }

    /**
     * The route Alertmanager picks for these labels (object_matchers with = and !=, no continue).
     */
    private static JsonNode route(JsonNode route, Map<String, String> labels) {
        for (JsonNode child : route.path("routes")) {
            boolean match = true;
            for (JsonNode m : child.path("object_matchers")) {
                assertThat(m).hasSize(3);
                String value = labels.getOrDefault(m.get(0).asText(), "");
                match &=
                        switch (m.get(1).asText()) {
                            case "=" -> value.equals(m.get(2).asText());
                            case "!=" -> !value.equals(m.get(2).asText());
                            default -> throw new AssertionError("matcher not handled here: " + m);
                        };
            }
            if (match) {
                return route(child, labels);
            }
        }
        return route;
    }

    @Test
    void shouldBeMountedWhereGrafanaReadsProvisioning() throws IOException {
        List<String> mounts = new ArrayList<>();
        YAML.readTree(COMPOSE.toFile())
                .path("services")
                .path("grafana")
                .path("volumes")
                .forEach(v -> mounts.add(v.asText()));
        assertThat(mounts).contains("./grafana/provisioning:/etc/grafana/provisioning:ro");
        // compose paths are relative to docker/: the file lies in alerting/ of the mounted folder
        assertThat(COMPOSE.resolveSibling("grafana/provisioning/alerting/trainwatch.yaml"))
                .isRegularFile()
                .hasSameTextualContentAs(ALERTING);
    }

    @Test
    void shouldRefuseToStartWithoutTheWebhookUrl() throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
                        .redirectErrorStream(true);
        pb.environment().remove("GRAFANA_ALERT_WEBHOOK_URL");
        pb.environment()
                .putAll(
                        Map.of(
                                "POSTGRES_PASSWORD", "test",
                                "GRAFANA_ADMIN_PASSWORD", "test",
                                "GRAFANA_DB_PASSWORD", "test"));
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(output).contains("GRAFANA_ALERT_WEBHOOK_URL");
        assertThat(p.exitValue()).isNotZero();
    }

    // ---------------------------------------------------------------- the rules' SQL, run for real

    static final Instant NOW = Instant.parse("2026-11-21T16:00:00Z");

    static EmbeddedPostgres pg;
    static String url;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.start();
        url = pg.createDatabase("grafana_alerting");
        PostgresSchema.Result schema =
                PostgresSchema.prepare(new PostgresConfig(url, EmbeddedPostgres.USER, null));
        assertThat(schema.roleWarning()).as("init.sql created the Grafana role").isNull();
        Instant longAgo = NOW.minus(Duration.ofHours(30)); // before the rules' 24 h
        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgres.USER, "")) {
            AlertRows.upsert(
                    c,
                    // two critical alerts open: a NaN loss, and a divergence escalating a loss
                    // spike's incident
                    alert(
                            "crit-open",
                            "NON_FINITE",
                            "critical",
                            Alert.OPEN,
                            100,
                            NOW.minusSeconds(3600),
                            null),
                    alert(
                            "crit-open",
                            "LOSS_SPIKE",
                            "warning",
                            Alert.OPEN,
                            200,
                            NOW.minusSeconds(1800),
                            null),
                    alert(
                            "crit-open",
                            "DIVERGENCE",
                            "critical",
                            Alert.OPEN,
                            240,
                            NOW.minusSeconds(1500),
                            Alert.idFor("crit-open", "LOSS_SPIKE", 200)),
                    // opened, then updated: still open
                    alert(
                            "crit-update",
                            "GRAD_EXPLOSION",
                            "critical",
                            Alert.OPEN,
                            50,
                            NOW.minusSeconds(7200),
                            null),
                    alert(
                            "crit-update",
                            "GRAD_EXPLOSION",
                            "critical",
                            Alert.UPDATE,
                            50,
                            NOW.minusSeconds(600),
                            null),
                    // opened, then resolved (the same alert_id: the row now says resolved); a
                    // warning
                    // is still open
                    alert(
                            "crit-resolved",
                            "NON_FINITE",
                            "critical",
                            Alert.OPEN,
                            10,
                            NOW.minusSeconds(7200),
                            null),
                    alert(
                            "crit-resolved",
                            "NON_FINITE",
                            "critical",
                            Alert.RESOLVED,
                            10,
                            NOW.minusSeconds(3600),
                            null),
                    alert(
                            "crit-resolved",
                            "STALL",
                            "warning",
                            Alert.OPEN,
                            30,
                            NOW.minusSeconds(600),
                            null),
                    // only warnings and information
                    alert(
                            "warn-only",
                            "LR_MISMATCH",
                            "warning",
                            Alert.OPEN,
                            5,
                            NOW.minusSeconds(60),
                            null),
                    alert(
                            "warn-only",
                            "SLOWDOWN",
                            "info",
                            Alert.OPEN,
                            6,
                            NOW.minusSeconds(60),
                            null),
                    // open but last written 30 h ago: a run abandoned with its alert open
                    alert("crit-stale", "DIVERGENCE", "critical", Alert.OPEN, 70, longAgo, null),
                    // silent now (critical, as the job raises it)
                    alert(
                            "silent",
                            "RUN_SILENT",
                            "critical",
                            Alert.OPEN,
                            1199,
                            NOW.minusSeconds(2400),
                            null),
                    // silent, then steps came back
                    alert(
                            "silent-back",
                            "RUN_SILENT",
                            "critical",
                            Alert.OPEN,
                            300,
                            NOW.minusSeconds(7200),
                            null),
                    alert(
                            "silent-back",
                            "RUN_SILENT",
                            "critical",
                            Alert.RESOLVED,
                            300,
                            NOW.minusSeconds(5400),
                            null),
                    // a silence 30 h old
                    alert("silent-stale", "RUN_SILENT", "critical", Alert.OPEN, 80, longAgo, null));
        }
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * An alert as the job writes it: alert_id from run, kind and onset step; display_step = step +
     * 1 (a run numbering its steps from 1).
     */
    static Alert alert(
            String run,
            String kind,
            String severity,
            String status,
            long onsetStep,
            Instant time,
            String incidentId) {
        Alert a = new Alert();
        a.alertId = Alert.idFor(run, kind, onsetStep);
        a.incidentId = incidentId != null ? incidentId : a.alertId;
        a.occurrences = 1;
        a.runId = run;
        a.kind = kind;
        a.severity = severity;
        a.status = status;
        a.onsetStep = onsetStep;
        a.step = onsetStep;
        a.displayStep = onsetStep + 1;
        a.timeMillis = time.toEpochMilli();
        a.message = kind + " at step " + a.displayStep;
        return a;
    }

    /**
     * The rows of the rule's query as Grafana's alerting would turn them into alert instances: the
     * SQL with its macros substituted for the rule's relative time range ending {@link #NOW}, run
     * as trainwatch_grafana. Each row must be one numeric value and text labels (Grafana's "numeric
     * table" form: no time column, one number column, the other columns labels), with labels unique
     * per row. Returns labels (column → text) per row, the value under "=".
     */
    static List<Map<String, String>> instances(JsonNode rule) throws Exception {
        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgres.USER, "")) {
            return instances(rule, c);
        }
    }

    /** {@link #instances(JsonNode)} over {@code c} (which sees its own transaction's rows). */
    static List<Map<String, String>> instances(JsonNode rule, Connection c) throws Exception {
        JsonNode q = sqlQuery(rule);
        Instant from = NOW.minusSeconds(q.path("relativeTimeRange").path("from").asLong());
        Instant to = NOW.minusSeconds(q.path("relativeTimeRange").path("to").asLong());
        String sql =
                DashboardQueries.substitute(
                        q.path("model").path("rawSql").asText(),
                        from,
                        to,
                        Duration.ofMillis(q.path("model").path("intervalMs").asLong(60_000)),
                        Map.of());
        String title = rule.path("title").asText();
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            st.execute("SET ROLE trainwatch_grafana");
            try (ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                int numeric = 0;
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    int type = md.getColumnType(i);
                    assertThat(type)
                            .as(title + ": column " + md.getColumnLabel(i))
                            .isNotIn(Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE, Types.DATE);
                    if (type == Types.BIGINT
                            || type == Types.INTEGER
                            || type == Types.DOUBLE
                            || type == Types.NUMERIC) {
                        numeric++;
                    } else {
                        assertThat(type)
                                .as(title + ": label column " + md.getColumnLabel(i))
                                .isEqualTo(Types.VARCHAR);
                    }
                }
                assertThat(numeric).as(title + ": one value column").isEqualTo(1);
                while (rs.next()) {
                    Map<String, String> row = new LinkedHashMap<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        int type = md.getColumnType(i);
                        boolean isValue = type != Types.VARCHAR;
                        row.put(isValue ? "=" : md.getColumnLabel(i), rs.getString(i));
                    }
                    rows.add(row);
                }
            } finally {
                st.execute("RESET ROLE");
            }
        } catch (SQLException e) {
            throw new AssertionError(title + " failed: " + e.getMessage() + "\n" + sql, e);
        }
        List<Map<String, String>> labelSets = new ArrayList<>();
        for (Map<String, String> row : rows) {
            Map<String, String> labels = new LinkedHashMap<>(row);
            labels.remove("=");
            labelSets.add(labels);
        }
        assertThat(labelSets)
                .as(title + ": one alert instance per label set")
                .doesNotHaveDuplicates();
        // every label the annotations name is a column of the query
        for (String label : refs(LABEL_REF, rule.path("annotations").toString())) {
            for (Map<String, String> labels : labelSets) {
                assertThat(labels).as(title + ": $labels." + label).containsKey(label);
            }
        }
        return rows;
    }

    @Test
    void shouldPageForRunsWithAnOpenCriticalAlertOnly() throws Exception {
        List<Map<String, String>> rows = instances(rule(OPEN_CRITICAL));
        // not crit-resolved (its critical alert resolved), warn-only, crit-stale (24 h), nor the
        // silent run (its own rule)
        assertThat(rows)
                .containsExactly(
                        Map.of("run_id", "crit-open", "=", "2"),
                        Map.of("run_id", "crit-update", "=", "1"));
        // and each row fires: the threshold is "more than 0"
        assertThat(threshold(rule(OPEN_CRITICAL))).isZero();
    }

    @Test
    void shouldPageForTheSilentRunOnly() throws Exception {
        List<Map<String, String>> rows = instances(rule(SILENT_RUN));
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0))
                .containsOnly(
                        entry("run_id", "silent"), entry("last_step", "1200"), entry("=", "1"));
        assertThat(threshold(rule(SILENT_RUN))).isZero();
    }

    @Test
    void shouldNotPageWhenNothingIsOpen() throws Exception {
        // a run's alerts resolved: the next evaluation finds no row for it (the instance resolves)
        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgres.USER, "")) {
            c.setAutoCommit(false);
            AlertRows.upsert(
                    c,
                    alert(
                            "silent",
                            "RUN_SILENT",
                            "critical",
                            Alert.RESOLVED,
                            1199,
                            NOW.minusSeconds(60),
                            null),
                    alert(
                            "crit-update",
                            "GRAD_EXPLOSION",
                            "critical",
                            Alert.RESOLVED,
                            50,
                            NOW.minusSeconds(60),
                            null));
            try {
                assertThat(instances(rule(SILENT_RUN), c)).isEmpty();
                assertThat(instances(rule(OPEN_CRITICAL), c))
                        .containsExactly(Map.of("run_id", "crit-open", "=", "2"));
            } finally {
                c.rollback();
            }
        }
    }

    /** The rule's threshold: its condition is "value > threshold". */
    static double threshold(JsonNode rule) {
        String condition = rule.path("condition").asText();
        for (JsonNode d : rule.path("data")) {
            if (d.path("refId").asText().equals(condition)) {
                JsonNode ev = d.path("model").path("conditions").get(0).path("evaluator");
                assertThat(ev.path("type").asText()).isEqualTo("gt");
                return ev.path("params").get(0).asDouble();
            }
        }
        throw new AssertionError("no condition " + condition);
    }
}
