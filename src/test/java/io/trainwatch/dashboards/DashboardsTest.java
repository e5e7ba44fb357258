package io.trainwatch.dashboards;

import io.trainwatch.dashboards.DashboardQueries.Query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboards in dashboards/ load as provisioned: fixed uid, no id, every query on the
 * provisioned data source by its uid (no import placeholders), every panel with SQL, and the
 * provider reading the folder that docker-compose.yml mounts.
 */
class DashboardsTest {
    static final Path RUN = Path.of("dashboards/trainwatch-run.json");
    static final Path FLEET = Path.of("dashboards/trainwatch-fleet.json");
    static final Path DATASOURCES =
            Path.of("docker/grafana/provisioning/datasources/trainwatch.yaml");
    static final Path PROVIDERS = Path.of("docker/grafana/provisioning/dashboards/trainwatch.yaml");
    static final Path COMPOSE = Path.of("docker/docker-compose.yml");
    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static JsonNode read(Path p) throws IOException {
        return JSON.readTree(p.toFile());
    }

    static JsonNode provisionedDatasource() throws IOException {
        JsonNode list = YAML.readTree(DATASOURCES.toFile()).path("datasources");
        assertThat(list).hasSize(1);
        return list.get(0);
    }

    /** Every panel, panels nested in (collapsed) rows included, rows too. */
    static List<JsonNode> allPanels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        collect(dashboard.path("panels"), out);
        return out;
    }

    private static void collect(JsonNode panels, List<JsonNode> out) {
        for (JsonNode p : panels) {
            out.add(p);
            collect(p.path("panels"), out);
        }
    }

    @Test
    void shouldHaveFixedUidsAndNoId() throws IOException {
        for (var c : Map.of(RUN, "trainwatch-run", FLEET, "trainwatch-fleet").entrySet()) {
            JsonNode d = read(c.getKey());
            assertThat(d.path("uid").asText()).isEqualTo(c.getValue());
            assertThat(d.has("id")).as("id present, as null").isTrue();
            assertThat(d.get("id").isNull()).as("id is null").isTrue();
            assertThat(d.path("schemaVersion").asInt()).isEqualTo(39);
            assertThat(d.has("__inputs")).as("no import inputs").isFalse();
            assertThat(Files.readString(c.getKey()))
                    .doesNotContain("${DS_")
                    .doesNotContain("DS_POSTGRES");
        }
        try (var files = Files.list(Path.of("dashboards"))) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .as("dashboards/ holds only dashboard JSON")
                    .containsExactlyInAnyOrder("trainwatch-run.json", "trainwatch-fleet.json");
        }
    }

    @Test
    void shouldReferenceTheProvisionedDatasourceByUidEverywhere() throws IOException {
        JsonNode ds = provisionedDatasource();
        String uid = ds.path("uid").asText();
        String type = ds.path("type").asText();
        assertThat(uid).isNotBlank();
        assertThat(type).isEqualTo("grafana-postgresql-datasource");
        for (Path f : List.of(RUN, FLEET)) {
            JsonNode d = read(f);
            for (JsonNode p : allPanels(d)) {
                String what = f + ": panel " + p.path("title").asText();
                assertThat(p.path("datasource").path("uid").asText()).as(what).isEqualTo(uid);
                assertThat(p.path("datasource").path("type").asText()).as(what).isEqualTo(type);
                for (JsonNode t : p.path("targets")) {
                    assertThat(t.path("datasource").path("uid").asText())
                            .as(what + " " + t.path("refId"))
                            .isEqualTo(uid);
                }
            }
            for (JsonNode v : d.path("templating").path("list")) {
                if (v.path("type").asText().equals("query")) {
                    assertThat(v.path("datasource").path("uid").asText())
                            .as(f + ": variable " + v.path("name"))
                            .isEqualTo(uid);
                }
            }
            for (JsonNode a : d.path("annotations").path("list")) {
                assertThat(a.path("datasource").path("uid").asText())
                        .as(f + ": annotation " + a.path("name"))
                        .isEqualTo(uid);
                assertThat(a.path("target").path("rawSql").asText())
                        .as(f + ": annotation " + a.path("name"))
                        .isNotBlank();
            }
        }
    }

    @Test
    void shouldGiveEveryPanelSqlAndAUniqueId() throws IOException {
        for (Path f : List.of(RUN, FLEET)) {
            Set<Integer> ids = new HashSet<>();
            for (JsonNode p : allPanels(read(f))) {
                String what = f + ": panel " + p.path("title").asText();
                assertThat(ids.add(p.path("id").asInt())).as(what + " id " + p.path("id")).isTrue();
                assertThat(p.path("title").asText()).as(what).isNotBlank();
                if (p.path("type").asText().equals("row")) {
                    continue;
                }
                List<String> sql = new ArrayList<>();
                p.path("targets").forEach(t -> sql.add(t.path("rawSql").asText()));
                assertThat(sql).as(what).isNotEmpty().anySatisfy(s -> assertThat(s).isNotBlank());
                if (p.path("type").asText().equals("timeseries")) {
                    assertThat(sql)
                            .as(what + ": a time panel filters on the time range")
                            .allSatisfy(s -> assertThat(s).contains("$__timeFilter("));
                }
            }
        }
    }

    @Test
    void shouldAnnotateRunPanelsWithAlertsAndPickTheRunFromTheSeries() throws IOException {
        JsonNode run = read(RUN);
        JsonNode vars = run.path("templating").path("list");
        assertThat(vars).hasSize(1);
        assertThat(vars.get(0).path("name").asText()).isEqualTo("run_id");
        assertThat(vars.get(0).path("query").asText())
                .contains("FROM trainwatch_series")
                .contains("ORDER BY max(time) DESC");
        assertThat(vars.get(0).path("sort").asInt())
                .as("keeps the SQL order (most recent first)")
                .isZero();
        JsonNode anno = run.path("annotations").path("list");
        assertThat(anno).hasSize(1);
        assertThat(anno.get(0).path("enable").asBoolean()).isTrue();
        assertThat(anno.get(0).path("target").path("rawSql").asText())
                .contains(
                        "FROM trainwatch_alerts",
                        "a.opened_time",
                        "a.kind",
                        "a.message",
                        "suggestion ->> 'action'",
                        "$__timeFilter(time)");
        // every run query is for the chosen run
        for (Query q : DashboardQueries.extract(Path.of("dashboards"))) {
            if (q.dashboard().equals("trainwatch-run")
                    && q.source() != DashboardQueries.Source.VARIABLE) {
                assertThat(q.sql()).as(q.title() + " " + q.refId()).contains("'${run_id}'");
            }
        }
    }

    @Test
    void shouldLinkTheFleetRunsToTheRunDashboardWithTheVariableSet() throws IOException {
        JsonNode table =
                allPanels(read(FLEET)).stream()
                        .filter(p -> p.path("title").asText().equals("Runs"))
                        .findFirst()
                        .orElseThrow();
        List<String> urls = new ArrayList<>();
        for (JsonNode o : table.path("fieldConfig").path("overrides")) {
            if (o.path("matcher").path("options").asText().equals("run_id")) {
                for (JsonNode prop : o.path("properties")) {
                    prop.path("value").forEach(link -> urls.add(link.path("url").asText()));
                }
            }
        }
        assertThat(urls)
                .singleElement()
                .satisfies(
                        u ->
                                assertThat(u)
                                        .startsWith("/d/" + read(RUN).path("uid").asText() + "/")
                                        .contains(
                                                "var-run_id=${__value.raw:percentencode}",
                                                "${__url_time_range}"));
        assertThat(table.path("targets").get(0).path("rawSql").asText())
                .contains(
                        "'critical'", "'warning'", "'idle'", "'healthy'", "interval '10 minutes'");
    }

    @Test
    void shouldSubstituteEveryQueryIntoPlainSql() {
        List<Query> all =
                DashboardQueries.substituted(
                        Instant.parse("2026-11-21T10:00:00Z"),
                        Instant.parse("2026-11-21T16:00:00Z"),
                        "llama-sft-7");
        assertThat(all).hasSizeGreaterThanOrEqualTo(14);
        assertThat(all).allSatisfy(q -> assertThat(q.sql()).as(q.title()).doesNotContain("$"));
    }

    @Test
    void shouldProvisionTheDatasourceWithoutInlineCredentials() throws IOException {
        JsonNode ds = provisionedDatasource();
        assertThat(ds.path("url").asText()).isEqualTo("postgres:5432");
        assertThat(ds.path("user").asText()).isEqualTo("trainwatch_grafana");
        assertThat(ds.path("jsonData").path("database").asText()).isEqualTo("trainwatch");
        assertThat(ds.path("jsonData").path("sslmode").asText()).isEqualTo("disable");
        assertThat(ds.path("jsonData").path("postgresVersion").asInt()).isEqualTo(1600);
        assertThat(ds.has("password")).as("no plain password").isFalse();
        String password = ds.path("secureJsonData").path("password").asText();
        assertThat(password).matches("\\$\\{?TRAINWATCH_GRAFANA_DB_PASSWORD}?");
        // the role it logs in as is the read-only one init.sql creates
        assertThat(Files.readString(Path.of("docker/postgres/init.sql")))
                .contains("CREATE ROLE trainwatch_grafana", "GRANT SELECT ON");
        // ... and docker-compose gives Grafana that variable, and PostgreSQL the password for the
        // role
        JsonNode services = YAML.readTree(COMPOSE.toFile()).path("services");
        assertThat(
                        services.path("grafana")
                                .path("environment")
                                .has("TRAINWATCH_GRAFANA_DB_PASSWORD"))
                .isTrue();
        assertThat(
                        services.path("postgres")
                                .path("environment")
                                .path("GRAFANA_DB_PASSWORD")
                                .asText())
                .startsWith("${GRAFANA_DB_PASSWORD:?");
        Path script = Path.of("docker/postgres/zz-grafana-password.sh");
        assertThat(Files.readString(script))
                .contains("ALTER ROLE trainwatch_grafana", "GRAFANA_DB_PASSWORD", ":'password'");
        // docker-entrypoint-initdb.d runs its files in name order: the role exists before its
        // password is set
        assertThat(script.getFileName().toString()).isGreaterThan("init.sql");
    }

    @Test
    void shouldReadTheDashboardsFromTheFolderComposeMounts() throws IOException {
        JsonNode providers = YAML.readTree(PROVIDERS.toFile()).path("providers");
        assertThat(providers).hasSize(1);
        assertThat(providers.get(0).path("type").asText()).isEqualTo("file");
        String path = providers.get(0).path("options").path("path").asText();
        List<String> mounts = new ArrayList<>();
        YAML.readTree(COMPOSE.toFile())
                .path("services")
                .path("grafana")
                .path("volumes")
                .forEach(v -> mounts.add(v.asText()));
        assertThat(mounts)
                .contains(
                        "../dashboards:" + path + ":ro",
                        "./grafana/provisioning:/etc/grafana/provisioning:ro");
        // compose paths are relative to docker/
        assertThat(COMPOSE.resolveSibling("../dashboards").normalize()).isDirectory();
        assertThat(COMPOSE.resolveSibling("grafana/provisioning/datasources")).isDirectory();
        assertThat(COMPOSE.resolveSibling("grafana/provisioning/dashboards")).isDirectory();
    }
}
