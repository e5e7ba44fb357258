package io.trainwatch.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every SQL query of the Grafana dashboards in {@code dashboards/} (panel targets, nested row
 * panels included, query variables, annotations), and the same queries turned into plain PostgreSQL
 * the way Grafana 11's PostgreSQL data source would send them: dashboard variables first (as the
 * frontend's template service does), then {@code $__interval}/{@code $__interval_ms}/{@code
 * $__unixEpochFrom()}/{@code $__unixEpochTo()}, then the macros (as {@code
 * pkg/tsdb/grafana-postgresql-datasource/macros.go} does). So a test can run every dashboard query
 * against a real database filled by the job.
 *
 * <p>One deliberate difference: Grafana turns {@code $__timeGroup(col, 1m)} into epoch seconds
 * ({@code floor(extract(epoch from col)/60)*60}) and converts the number to a time itself; here it
 * becomes {@code to_timestamp(...)}, so the plain query returns a {@code timestamptz} as the panel
 * would show.
 */
public final class DashboardQueries {
    /**
     * The folder Grafana's file provider reads (mounted into the Grafana container by
     * docker-compose.yml).
     */
    public static final Path DASHBOARDS = Path.of("dashboards");

    /**
     * Data points per panel Grafana aims at when it picks {@code $__interval} (about a panel's
     * width in pixels).
     */
    static final int MAX_DATA_POINTS = 1000;

    /** Where a query sits in its dashboard. */
    public enum Source {
        PANEL,
        VARIABLE,
        ANNOTATION
    }

    /**
     * One query: its dashboard's uid, where it sits, the panel title (variable name, annotation
     * name), its refId, Grafana's result format ({@code time_series} or {@code table}) and the SQL.
     */
    public record Query(
            String dashboard,
            Source source,
            String title,
            String refId,
            String format,
            String sql) {
        Query withSql(String newSql) {
            return new Query(dashboard, source, title, refId, format, newSql);
        }
    }

    private record Found(Query query, Duration minInterval) {}

    private DashboardQueries() {}

    /**
     * Every query of every {@code *.json} dashboard in {@code dir}, as written (macros and
     * variables in place).
     */
    public static List<Query> extract(Path dir) {
        return found(dir).stream().map(Found::query).toList();
    }

    /**
     * Every query of every dashboard in {@code dir} as plain PostgreSQL for the time range [from,
     * to] with the run variable set to {@code runId}; {@code $__interval} is what Grafana would
     * pick for the range (and the panel's minimum interval).
     */
    public static List<Query> substituted(Path dir, Instant from, Instant to, String runId) {
        List<Query> out = new ArrayList<>();
        for (Found f : found(dir)) {
            Duration interval = interval(from, to, f.minInterval());
            out.add(
                    f.query()
                            .withSql(
                                    substitute(
                                            f.query().sql(),
                                            from,
                                            to,
                                            interval,
                                            Map.of("run_id", runId))));
        }
        return out;
    }

    /**
     * {@link #substituted(Path, Instant, Instant, String)} of the project's {@code dashboards/}.
     */
    public static List<Query> substituted(Instant from, Instant to, String runId) {
        return substituted(DASHBOARDS, from, to, runId);
    }

    // ---------------------------------------------------------------- extraction

    private static List<Found> found(Path dir) {
        ObjectMapper json = new ObjectMapper();
        List<Found> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                JsonNode d = json.readTree(f.toFile());
                String uid = d.path("uid").asText();
                for (JsonNode v : d.path("templating").path("list")) {
                    if (v.path("type").asText().equals("query")) {
                        JsonNode q = v.path("query");
                        String sql =
                                q.isTextual()
                                        ? q.asText()
                                        : q.path("rawSql").asText(q.path("query").asText());
                        out.add(
                                new Found(
                                        new Query(
                                                uid,
                                                Source.VARIABLE,
                                                v.path("name").asText(),
                                                v.path("name").asText(),
                                                "table",
                                                sql),
                                        null));
                    }
                }
                for (JsonNode a : d.path("annotations").path("list")) {
                    JsonNode t = a.path("target");
                    if (t.hasNonNull("rawSql")) {
                        out.add(
                                new Found(
                                        new Query(
                                                uid,
                                                Source.ANNOTATION,
                                                a.path("name").asText(),
                                                t.path("refId").asText("Anno"),
                                                "table",
                                                t.path("rawSql").asText()),
                                        null));
                    }
                }
                panels(uid, d.path("panels"), out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void panels(String uid, JsonNode panels, List<Found> out) {
        for (JsonNode p : panels) {
            if (p.path("type").asText().equals("row")) {
                panels(uid, p.path("panels"), out);
                continue;
            }
            Duration min =
                    p.hasNonNull("interval") ? parseInterval(p.path("interval").asText()) : null;
            for (JsonNode t : p.path("targets")) {
                out.add(
                        new Found(
                                new Query(
                                        uid,
                                        Source.PANEL,
                                        p.path("title").asText(),
                                        t.path("refId").asText(),
                                        t.path("format").asText("time_series"),
                                        t.path("rawSql").asText()),
                                min));
            }
        }
    }

    // ---------------------------------------------------------------- substitution

    /** Grafana's template-variable syntax: $name, [[name:format]], ${name.field:format}. */
    private static final Pattern VARIABLE =
            Pattern.compile(
                    "\\$(\\w+)|\\[\\[(\\w+?)(?::(\\w+))?]]|\\$\\{(\\w+)(?:\\.([^:^}]+))?(?::([^}]+))?}");

    /**
     * The macro syntax of Grafana's PostgreSQL data source: no nested parentheses in the arguments.
     */
    private static final Pattern MACRO = Pattern.compile("\\$([_a-zA-Z0-9]+)\\(([^)]*)\\)");

    private static final Pattern INTERVAL = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w|M|y)");

    /**
     * The plain PostgreSQL Grafana would run for {@code sql} over [from, to]: {@code variables}
     * (name → value, a single value each) and Grafana's built-in {@code $__interval}, {@code
     * $__interval_ms}, {@code $__from}, {@code $__to}, then the macros {@code $__timeFilter},
     * {@code $__timeFrom}, {@code $__timeTo}, {@code $__timeGroup}, {@code $__timeGroupAlias},
     * {@code $__time}, {@code $__timeEpoch}, {@code $__unixEpochFilter}, {@code $__unixEpochFrom},
     * {@code $__unixEpochTo}, {@code $__unixEpochGroup}, {@code $__unixEpochGroupAlias}.
     *
     * @throws IllegalArgumentException for a variable not in {@code variables}, an unknown macro,
     *     or a macro missing its arguments (Grafana rejects those too)
     */
    public static String substitute(
            String sql,
            Instant from,
            Instant to,
            Duration interval,
            Map<String, String> variables) {
        String s = variables(sql, from, to, interval, variables);
        // what the backend's sqleng.Interpolate does before the macro engine
        s =
                s.replace("$__interval_ms", Long.toString(interval.toMillis()))
                        .replace("$__interval", formatInterval(interval))
                        .replace("$__unixEpochFrom()", Long.toString(from.getEpochSecond()))
                        .replace("$__unixEpochTo()", Long.toString(to.getEpochSecond()));
        s = macros(s, from, to);
        if (s.contains("$__") || s.contains("${") || s.contains("[[")) {
            throw new IllegalArgumentException("left unsubstituted: " + s);
        }
        return s;
    }

    private static String variables(
            String sql,
            Instant from,
            Instant to,
            Duration interval,
            Map<String, String> variables) {
        Matcher m = VARIABLE.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name =
                    m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4);
            String format = m.group(3) != null ? m.group(3) : m.group(6);
            String value;
            if (variables.containsKey(name)) {
                if (format != null && !format.equals("raw")) {
                    throw new IllegalArgumentException(
                            "variable format :" + format + " is not supported here: " + m.group());
                }
                // what SqlDatasource.interpolateVariable does with a single-valued text variable:
                // double the quotes,
                // add none (the query quotes it: '${run_id}')
                value = variables.get(name).replace("'", "''");
            } else {
                value =
                        switch (name) {
                            case "__interval" -> formatInterval(interval);
                            case "__interval_ms" -> Long.toString(interval.toMillis());
                            case "__from" -> Long.toString(from.toEpochMilli());
                            case "__to" -> Long.toString(to.toEpochMilli());
                            default -> {
                                if (name.startsWith("__")) {
                                    yield m.group(); // a macro: the backend's turn
                                }
                                throw new IllegalArgumentException(
                                        "unknown variable "
                                                + m.group()
                                                + " (known: "
                                                + variables.keySet()
                                                + ")");
                            }
                        };
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String macros(String sql, Instant from, Instant to) {
        Matcher m = MACRO.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            // Grafana: "$__timeGroup(...)," is the pre-5.3 spelling of $__timeGroupAlias
            if (name.equals("__timeGroup")
                    && m.end() < sql.length()
                    && sql.charAt(m.end()) == ',') {
                name = "__timeGroupAlias";
            }
            List<String> args = Stream.of(m.group(2).split(",", -1)).map(String::strip).toList();
            m.appendReplacement(out, Matcher.quoteReplacement(macro(name, args, from, to)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String macro(String name, List<String> args, Instant from, Instant to) {
        String col = args.get(0);
        return switch (name) {
            case "__time" -> needs(name, col) + " AS \"time\"";
            case "__timeEpoch" -> "extract(epoch from " + needs(name, col) + ") as \"time\"";
            case "__timeFilter" ->
                    needs(name, col) + " BETWEEN " + quoted(from) + " AND " + quoted(to);
            case "__timeFrom" -> quoted(from);
            case "__timeTo" -> quoted(to);
            case "__timeGroup" ->
                    "to_timestamp(floor(extract(epoch from "
                            + needs(name, col)
                            + ")/"
                            + seconds(name, args)
                            + ")*"
                            + seconds(name, args)
                            + ")";
            case "__timeGroupAlias" -> macro("__timeGroup", args, from, to) + " AS \"time\"";
            case "__unixEpochFilter" ->
                    needs(name, col)
                            + " >= "
                            + from.getEpochSecond()
                            + " AND "
                            + col
                            + " <= "
                            + to.getEpochSecond();
            case "__unixEpochGroup" ->
                    "floor(("
                            + needs(name, col)
                            + ")/"
                            + seconds(name, args)
                            + ")*"
                            + seconds(name, args);
            case "__unixEpochGroupAlias" ->
                    macro("__unixEpochGroup", args, from, to) + " AS \"time\"";
            default -> throw new IllegalArgumentException("unknown macro $" + name);
        };
    }

    private static String needs(String macro, String column) {
        if (column.isEmpty()) {
            throw new IllegalArgumentException("missing time column argument for macro $" + macro);
        }
        return column;
    }

    private static String seconds(String macro, List<String> args) {
        if (args.size() < 2) {
            throw new IllegalArgumentException(
                    "macro $" + macro + " needs time column and interval and optional fill value");
        }
        Duration d = parseInterval(args.get(1).replace("'", ""));
        return BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString();
    }

    private static String quoted(Instant t) {
        return "'" + DateTimeFormatter.ISO_INSTANT.format(t) + "'";
    }

    // ---------------------------------------------------------------- intervals

    /** Grafana's interval syntax: 500ms, 10s, 1m, 2h, 1d, 1w, 1M (30 days), 1y (365 days). */
    static Duration parseInterval(String text) {
        Matcher m = INTERVAL.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("error parsing interval " + text);
        }
        double n = Double.parseDouble(m.group(1));
        long unitMillis =
                switch (m.group(2)) {
                    case "ms" -> 1;
                    case "s" -> 1_000;
                    case "m" -> 60_000;
                    case "h" -> 3_600_000;
                    case "d" -> 86_400_000;
                    case "w" -> 7 * 86_400_000L;
                    case "M" -> 30 * 86_400_000L;
                    default -> 365 * 86_400_000L;
                };
        return Duration.ofMillis(Math.round(n * unitMillis));
    }

    /**
     * $__interval as Grafana writes it: the largest whole unit (90 s is "1m", as Grafana's backend
     * truncates).
     */
    static String formatInterval(Duration d) {
        long ms = d.toMillis();
        long[] units = {365 * 86_400_000L, 86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L};
        String[] names = {"y", "d", "h", "m", "s", "ms"};
        for (int i = 0; i < units.length; i++) {
            if (ms >= units[i]) {
                return (ms / units[i]) + names[i];
            }
        }
        return "1ms";
    }

    /**
     * The $__interval Grafana picks: (to − from) / max data points, rounded to a round value as
     * Grafana's {@code kbn.roundInterval} does, and no less than the panel's minimum interval.
     */
    static Duration interval(Instant from, Instant to, Duration minInterval) {
        long raw = Duration.between(from, to).toMillis() / MAX_DATA_POINTS;
        long[][] ladder = { // upper bound (exclusive) -> round value, in ms
            {10, 1},
            {15, 10},
            {35, 20},
            {75, 50},
            {150, 100},
            {350, 200},
            {750, 500},
            {1_500, 1_000},
            {3_500, 2_000},
            {7_500, 5_000},
            {12_500, 10_000},
            {17_500, 15_000},
            {25_000, 20_000},
            {45_000, 30_000},
            {90_000, 60_000},
            {210_000, 120_000},
            {450_000, 300_000},
            {750_000, 600_000},
            {1_050_000, 900_000},
            {1_500_000, 1_200_000},
            {2_700_000, 1_800_000},
            {5_400_000, 3_600_000},
            {9_000_000, 7_200_000},
            {16_200_000, 10_800_000},
            {32_400_000, 21_600_000},
            {86_400_000, 43_200_000},
            {604_800_000, 86_400_000},
            {1_814_400_000, 604_800_000},
            {3_628_800_000L, 2_592_000_000L}
        };
        long rounded = 31_536_000_000L;
        for (long[] step : ladder) {
            if (raw < step[0]) {
                rounded = step[1];
                break;
            }
        }
        Duration d = Duration.ofMillis(rounded);
        return minInterval != null && minInterval.compareTo(d) > 0 ? minInterval : d;
    }
}
