package io.trainwatch.job;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The PostgreSQL settings: credentials from the environment only and never printed; the schema file
 * as the job runs it; text PostgreSQL can store.
 */
class PostgresConfigTest {
    @Test
    void shouldTakeCredentialsFromTheEnvironmentAndNeverPrintThePassword() {
        PostgresConfig c =
                PostgresConfig.fromEnvironment(
                        "jdbc:postgresql://db:5432/trainwatch",
                        Map.of(
                                PostgresConfig.USER_ENV,
                                "trainwatch",
                                PostgresConfig.PASSWORD_ENV,
                                "hunter2"));
        assertThat(c.user()).isEqualTo("trainwatch");
        assertThat(c.password()).isEqualTo("hunter2");
        assertThat(c.toString())
                .doesNotContain("hunter2")
                .contains("password=***", "jdbc:postgresql://db:5432/trainwatch");
        JobConfig job =
                JobConfig.builder("localhost:9092")
                        .topics("e", "a", "d")
                        .groupId("g")
                        .kafkaProperties(Map.of("sasl.jaas.config", "secret-jaas"))
                        .transactionalIdPrefix("p")
                        .postgres(c)
                        .seriesEvery(10)
                        .build();
        assertThat(job.toString())
                .doesNotContain("hunter2")
                .doesNotContain("secret-jaas")
                .contains("seriesEvery=10");
        assertThat(
                        PostgresConfig.fromEnvironment("jdbc:postgresql://db/trainwatch", Map.of())
                                .printableUser())
                .endsWith("(" + PostgresConfig.USER_ENV + " not set)");
    }

    @Test
    void shouldRefuseAnUrlThatIsNotPostgresOrCarriesCredentialsWithoutEchoingThem() {
        assertThatThrownBy(() -> new PostgresConfig("jdbc:mysql://db/x", null, null))
                .hasMessage(
                        "--jdbc-url must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database), got \"jdbc:mysql://db/x\"");
        assertThatThrownBy(
                        () ->
                                new PostgresConfig(
                                        "jdbc:postgresql://db/x?user=u&password=hunter2&ssl=true",
                                        null,
                                        null))
                .hasMessage(
                        "--jdbc-url must not carry credentials (jdbc:postgresql://db/x?user=u&password=***&ssl=true): set TRAINWATCH_JDBC_USER"
                                + " and TRAINWATCH_JDBC_PASSWORD in the environment instead");
        assertThatThrownBy(() -> new PostgresConfig("jdbc:postgresql://u:hunter2@db/x", null, null))
                .hasMessageContaining("must not carry credentials")
                .message()
                .doesNotContain("hunter2");
        assertThatThrownBy(
                        () ->
                                new PostgresConfig(
                                        "jdbc:postgresql://db/x?sslpassword=hunter2", null, null))
                .message()
                .doesNotContain("hunter2");
        // parameters that are no credentials are fine
        assertThat(
                        new PostgresConfig(
                                        "jdbc:postgresql://db:5432/x?ssl=true&sslmode=verify-full",
                                        null,
                                        "")
                                .password())
                .isNull();
    }

    @Test
    void shouldRefuseSeriesEveryBelowOne() {
        assertThatThrownBy(
                        () ->
                                JobConfig.builder("localhost:9092")
                                        .topics("e", "a", "d")
                                        .groupId("g")
                                        .transactionalIdPrefix("p")
                                        .seriesEvery(0)
                                        .build())
                .hasMessage("--series-every must be >= 1 (1 keeps every step), got 0");
    }

    @Test
    void shouldSplitInitSqlIntoItsStatementsWithTheRolePartLast() {
        List<String> s = PostgresSchema.statements(PostgresSchema.schemaSql());
        assertThat(s).hasSize(11);
        assertThat(s.subList(0, 9))
                .noneMatch(PostgresSchema::isRolePart)
                .filteredOn(x -> !x.startsWith("DO $$"))
                .hasSize(8)
                .allMatch(
                        x ->
                                x.startsWith("CREATE TABLE IF NOT EXISTS")
                                        || x.startsWith("CREATE INDEX IF NOT EXISTS"));
        // a table from before display_step and incidents gets the columns
        assertThat(s.get(4))
                .startsWith("DO $$")
                .contains(
                        "ALTER TABLE trainwatch_alerts ADD COLUMN IF NOT EXISTS display_step bigint;")
                .contains(
                        "ALTER TABLE trainwatch_alerts ADD COLUMN IF NOT EXISTS incident_id text;");
        assertThat(s.get(7))
                .startsWith("CREATE TABLE IF NOT EXISTS trainwatch_notifications_failed");
        assertThat(s.get(9))
                .startsWith("DO $$")
                .contains("CREATE ROLE trainwatch_grafana LOGIN;")
                .endsWith("$$");
        assertThat(s.get(10))
                .startsWith(
                        "GRANT SELECT ON trainwatch_series, trainwatch_alerts, trainwatch_dead_letters,"
                                + " trainwatch_notifications_failed\n    TO trainwatch_grafana");
        assertThat(s.subList(9, 11)).allMatch(PostgresSchema::isRolePart);
        // semicolons in quotes, quoted names, dollar-quoted bodies and comments do not split
        assertThat(
                        PostgresSchema.statements(
                                "SELECT 'a;b'; -- x;y\nSELECT \"c;d\" /* e;f */ FROM t; DO $body$ BEGIN PERFORM 1; END $body$;\n"))
                .containsExactly(
                        "SELECT 'a;b'",
                        "SELECT \"c;d\"   FROM t",
                        "DO $body$ BEGIN PERFORM 1; END $body$");
    }

    @Test
    void shouldReplaceWhatPostgresCannotStoreAndKeepTheRest() {
        assertThat(PostgresSinks.text("a\0b")).isEqualTo("a\uFFFDb");
        assertThat(PostgresSinks.text("plain")).isEqualTo("plain");
        // jsonb refuses the NUL escape; an escaped backslash followed by u0000 is text, kept
        assertThat(PostgresSinks.json("{\"b\":[\"x\\u0000y\"],\"c\":\"\\\\u0000\",\"d\":\"NaN\"}"))
                .isEqualTo("{\"b\":[\"x\\ufffdy\"],\"c\":\"\\\\u0000\",\"d\":\"NaN\"}");
    }
}
