package io.trainwatch.dashboards;

import io.trainwatch.dashboards.DashboardQueries.Query;
import io.trainwatch.dashboards.DashboardQueries.Source;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DashboardQueriesTest {
    static final Instant FROM = Instant.parse("2026-11-21T10:00:00Z");
    static final Instant TO = Instant.parse("2026-11-21T16:00:00Z");
    static final Duration MINUTE = Duration.ofMinutes(1);
    static final Map<String, String> RUN = Map.of("run_id", "llama-sft-7");

    static String sub(String sql) {
        return DashboardQueries.substitute(sql, FROM, TO, MINUTE, RUN);
    }

    @Test
    void shouldTurnTimeFilterIntoBetweenTheRangeInUtc() {
        assertThat(sub("WHERE $__timeFilter(s.time) AND x"))
                .isEqualTo(
                        "WHERE s.time BETWEEN '2026-11-21T10:00:00Z' AND '2026-11-21T16:00:00Z' AND x");
        assertThat(
                        DashboardQueries.substitute(
                                "$__timeFilter(time)",
                                Instant.parse("2026-11-21T10:00:00.250Z"),
                                TO,
                                MINUTE,
                                RUN))
                .isEqualTo("time BETWEEN '2026-11-21T10:00:00.250Z' AND '2026-11-21T16:00:00Z'");
    }

    @Test
    void shouldQuoteTimeFromAndTimeTo() {
        assertThat(sub("$__timeTo()::timestamptz - interval '1 hour' < $__timeFrom()"))
                .isEqualTo(
                        "'2026-11-21T16:00:00Z'::timestamptz - interval '1 hour' < '2026-11-21T10:00:00Z'");
    }

    @Test
    void shouldBucketTimeGroupIntoTimestampsOfTheInterval() {
        assertThat(sub("SELECT $__timeGroupAlias(opened_time, '1h', 0), count(*)"))
                .isEqualTo(
                        "SELECT to_timestamp(floor(extract(epoch from opened_time)/3600)*3600) AS \"time\", count(*)");
        assertThat(sub("GROUP BY $__timeGroup(time, 5m)"))
                .isEqualTo("GROUP BY to_timestamp(floor(extract(epoch from time)/300)*300)");
        assertThat(
                        DashboardQueries.substitute(
                                "$__timeGroup(time, $__interval)",
                                FROM,
                                TO,
                                Duration.ofMillis(500),
                                RUN))
                .isEqualTo("to_timestamp(floor(extract(epoch from time)/0.5)*0.5)");
    }

    @Test
    void shouldAliasABareTimeGroupFollowedByAComma() {
        // Grafana reads "$__timeGroup(...)," as the pre-5.3 spelling of $__timeGroupAlias
        assertThat(sub("SELECT $__timeGroup(time, 1m), 1"))
                .isEqualTo(
                        "SELECT to_timestamp(floor(extract(epoch from time)/60)*60) AS \"time\", 1");
    }

    @Test
    void shouldSubstituteIntervalsAndEpochMacros() {
        assertThat(
                        sub(
                                "$__timeGroupAlias(time, $__interval, 0), count(*) / ($__interval_ms / 1000.0)"))
                .isEqualTo(
                        "to_timestamp(floor(extract(epoch from time)/60)*60) AS \"time\", count(*) / (60000 / 1000.0)");
        assertThat(
                        sub(
                                "$__unixEpochFilter(ts) OR ts BETWEEN $__unixEpochFrom() AND $__unixEpochTo()"))
                .isEqualTo(
                        "ts >= 1795255200 AND ts <= 1795276800 OR ts BETWEEN 1795255200 AND 1795276800");
        assertThat(sub("${__from} ${__to} $__interval"))
                .isEqualTo("1795255200000 1795276800000 1m");
        assertThat(sub("$__time(t), $__timeEpoch(t)"))
                .isEqualTo("t AS \"time\", extract(epoch from t) as \"time\"");
    }

    @Test
    void shouldSubstituteTheRunVariableInEverySpellingAndDoubleItsQuotes() {
        assertThat(
                        sub(
                                "a = '$run_id' AND b = '${run_id}' AND c = '[[run_id]]' AND d = '${run_id:raw}'"))
                .isEqualTo(
                        "a = 'llama-sft-7' AND b = 'llama-sft-7' AND c = 'llama-sft-7' AND d = 'llama-sft-7'");
        assertThat(
                        DashboardQueries.substitute(
                                "run_id = '${run_id}'",
                                FROM,
                                TO,
                                MINUTE,
                                Map.of("run_id", "o'brien; DROP TABLE x")))
                .isEqualTo("run_id = 'o''brien; DROP TABLE x'");
    }

    @Test
    void shouldRejectWhatGrafanaWouldNotRun() {
        assertThatThrownBy(() -> sub("WHERE run = '$run'"))
                .hasMessageContaining("unknown variable $run");
        assertThatThrownBy(() -> sub("WHERE $__timeFilterr(time)"))
                .hasMessageContaining("unknown macro $__timeFilterr");
        assertThatThrownBy(() -> sub("WHERE $__timeFilter()"))
                .hasMessageContaining("missing time column");
        assertThatThrownBy(() -> sub("SELECT $__timeGroup(time)"))
                .hasMessageContaining("needs time column and interval");
        assertThatThrownBy(() -> sub("SELECT $__timeGroup(time, soon)"))
                .hasMessageContaining("error parsing interval");
        assertThatThrownBy(() -> sub("WHERE x = '${run_id:csv}'"))
                .hasMessageContaining("not supported");
    }

    @Test
    void shouldPickTheIntervalGrafanaWouldForTheRange() {
        assertThat(DashboardQueries.interval(FROM, TO, null))
                .isEqualTo(Duration.ofSeconds(20)); // 6 h / 1000 = 21.6 s
        assertThat(DashboardQueries.interval(FROM, FROM.plus(Duration.ofDays(1)), null))
                .isEqualTo(Duration.ofMinutes(1));
        assertThat(
                        DashboardQueries.interval(
                                FROM, FROM.plus(Duration.ofMinutes(5)), Duration.ofSeconds(10)))
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(DashboardQueries.formatInterval(Duration.ofSeconds(90))).isEqualTo("1m");
        assertThat(DashboardQueries.formatInterval(Duration.ofMillis(500))).isEqualTo("500ms");
        assertThat(DashboardQueries.formatInterval(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(DashboardQueries.parseInterval("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(DashboardQueries.parseInterval("1w")).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void shouldExtractEveryQueryOfBothDashboards() {
        List<Query> all = DashboardQueries.extract(DashboardQueries.DASHBOARDS);
        assertThat(all)
                .extracting(Query::dashboard)
                .containsOnly("trainwatch-run", "trainwatch-fleet");
        assertThat(all)
                .filteredOn(q -> q.source() == Source.VARIABLE)
                .extracting(Query::dashboard, Query::title)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("trainwatch-run", "run_id"));
        assertThat(all)
                .filteredOn(q -> q.source() == Source.ANNOTATION)
                .extracting(Query::dashboard)
                .containsExactly("trainwatch-run");
        // panels nested in a collapsed row are found too
        assertThat(all)
                .extracting(Query::title)
                .contains("Loss by step", "Runs", "Latest dead letters", "Incidents");
        assertThat(all).allSatisfy(q -> assertThat(q.sql()).as(q.title()).isNotBlank());
        assertThat(all)
                .extracting(q -> q.dashboard() + "/" + q.title() + "/" + q.refId())
                .doesNotHaveDuplicates();
    }

    @Test
    void shouldSubstituteEveryDashboardQueryIntoPlainSql() {
        List<Query> all = DashboardQueries.substituted(FROM, TO, "run'7");
        assertThat(all).hasSameSizeAs(DashboardQueries.extract(DashboardQueries.DASHBOARDS));
        for (Query q : all) {
            assertThat(q.sql())
                    .as(q.title() + " " + q.refId())
                    .doesNotContain("$")
                    .doesNotContain("[[");
            if (q.sql().contains("run_id = '")) {
                assertThat(q.sql()).contains("'run''7'");
            }
        }
    }
}
