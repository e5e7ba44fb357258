package io.trainwatch.job;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Connects to PostgreSQL once before the job starts and creates the tables if they are missing, by
 * running {@value #SCHEMA_RESOURCE}: the same file the postgres container runs on its first start
 * (Maven copies {@code docker/postgres/init.sql} onto the classpath, so there is one source of
 * truth). Every statement in it is idempotent. The read-only Grafana role needs CREATEROLE: when
 * that part fails, one warning is logged and returned, and the job goes on (the tables are there).
 */
public final class PostgresSchema {
    public static final String SCHEMA_RESOURCE = "/docker/postgres/init.sql";
    static final int CONNECT_TIMEOUT_SECONDS = 10;

    /** pg_advisory_lock key held while the schema is created ("trainwat" in ASCII). */
    static final long SCHEMA_LOCK_KEY = 0x747261696e776174L;

    private static final Logger LOG = LoggerFactory.getLogger(PostgresSchema.class);

    /**
     * What {@link #prepare} did: the warning about the Grafana role, or null when all of init.sql
     * ran.
     */
    public record Result(String roleWarning) {}

    private PostgresSchema() {}

    /**
     * Checks PostgreSQL answers with these credentials and creates the schema if missing. Throws
     * {@link IllegalStateException} with one sentence naming the URL and user (never the password)
     * when it cannot connect or a table cannot be created.
     */
    public static Result prepare(PostgresConfig cfg) {
        try (Connection c = connect(cfg)) {
            try (Statement lock = c.createStatement()) {
                // two jobs starting at once would race on CREATE TABLE IF NOT EXISTS (a duplicate
                // pg_type row): one at a
                // time; the session lock goes with the connection
                lock.execute("SELECT pg_advisory_lock(" + SCHEMA_LOCK_KEY + ")");
            }
            String roleWarning = null;
            for (String statement : statements(schemaSql())) {
                boolean rolePart = isRolePart(statement);
                if (rolePart && roleWarning != null) {
                    continue; // the role part already failed: one warning, not one per statement
                }
                try (Statement st = c.createStatement()) {
                    st.execute(statement);
                } catch (SQLException e) {
                    if (!rolePart) {
                        throw new IllegalStateException(
                                "cannot create the trainwatch tables in "
                                        + cfg.printableUrl()
                                        + " as "
                                        + cfg.printableUser()
                                        + ": "
                                        + firstLine(e)
                                        + " (statement: "
                                        + firstLine(statement)
                                        + ")");
                    }
                    roleWarning =
                            "could not create the read-only role trainwatch_grafana or grant it SELECT in "
                                    + cfg.printableUrl()
                                    + " ("
                                    + firstLine(e)
                                    + "); the tables are ready, but for the Grafana dashboards run the role part of docker/postgres/init.sql"
                                    + " as a user with CREATEROLE";
                    LOG.warn(roleWarning);
                }
            }
            return new Result(roleWarning);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "PostgreSQL schema check failed at "
                            + cfg.printableUrl()
                            + ": "
                            + firstLine(e));
        }
    }

    /**
     * A connection for the schema and for reading back (demo, tests). Throws {@link
     * IllegalStateException} with one sentence when PostgreSQL is unreachable or refuses the
     * credentials.
     */
    public static Connection connect(PostgresConfig cfg) {
        try {
            return DriverManager.getConnection(cfg.url(), connectionProperties(cfg));
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot connect to PostgreSQL at "
                            + cfg.printableUrl()
                            + " as "
                            + cfg.printableUser()
                            + ": "
                            + firstLine(e).replaceFirst("\\.$", "")
                            + "; check "
                            + JobConfig.JDBC_URL
                            + " and "
                            + PostgresConfig.USER_ENV
                            + " / "
                            + PostgresConfig.PASSWORD_ENV);
        }
    }

    /**
     * Driver properties shared by this check and the sinks: credentials, and timeouts so a dead
     * host fails fast.
     */
    static Properties connectionProperties(PostgresConfig cfg) {
        Properties p = new Properties();
        if (cfg.user() != null) {
            p.setProperty("user", cfg.user());
        }
        if (cfg.password() != null) {
            p.setProperty("password", cfg.password());
        }
        p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        p.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        p.setProperty("ApplicationName", "trainwatch");
        return p;
    }

    static String schemaSql() {
        try (InputStream in = PostgresSchema.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(
                        "missing "
                                + SCHEMA_RESOURCE
                                + " on the classpath (the build copies docker/postgres/init.sql there)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The part of init.sql that needs CREATEROLE (or ownership): creating the Grafana role and
     * granting it SELECT.
     */
    static boolean isRolePart(String statement) {
        String s = statement.toUpperCase(Locale.ROOT);
        return s.startsWith("GRANT ")
                || s.startsWith("REVOKE ")
                || s.contains("CREATE ROLE")
                || s.contains("ALTER ROLE");
    }

    /**
     * Splits a SQL script into statements at top-level semicolons, leaving out comments; semicolons
     * inside quotes, quoted identifiers and dollar-quoted bodies ({@code DO $$ ... $$}) do not
     * split.
     */
    static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char ch = sql.charAt(i);
            if (ch == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (ch == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                cur.append(' ');
            } else if (ch == '\'' || ch == '"') {
                int end = i + 1;
                while (end < n && sql.charAt(end) != ch) {
                    end++;
                }
                end =
                        Math.min(
                                end + 1,
                                n); // a doubled quote is two quoted runs side by side: same text
                cur.append(sql, i, end);
                i = end;
            } else if (ch == '$' && dollarTag(sql, i) != null) {
                String tag = dollarTag(sql, i);
                int close = sql.indexOf(tag, i + tag.length());
                int end = close < 0 ? n : close + tag.length();
                cur.append(sql, i, end);
                i = end;
            } else if (ch == ';') {
                add(out, cur);
                i++;
            } else {
                cur.append(ch);
                i++;
            }
        }
        add(out, cur);
        return out;
    }

    /**
     * {@code $$} or {@code $tag$} starting at {@code i}, else null (a positional parameter like $1
     * is not a tag).
     */
    private static String dollarTag(String sql, int i) {
        int j = i + 1;
        while (j < sql.length()
                && (Character.isLetter(sql.charAt(j))
                        || sql.charAt(j) == '_'
                        || (j > i + 1 && Character.isDigit(sql.charAt(j))))) {
            j++;
        }
        return j < sql.length() && sql.charAt(j) == '$' ? sql.substring(i, j + 1) : null;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String s = cur.toString().strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
        cur.setLength(0);
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return firstLine(m);
    }

    private static String firstLine(String s) {
        String line = s.strip().lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }
}
