package io.trainwatch.demo;

import io.trainwatch.embedded.EmbeddedPostgres;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.job.PostgresSchema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The PostgreSQL the demo writes to: started in-process (server not null), or the one given with
 * --jdbc-url.
 */
record DemoPostgres(
        PostgresConfig cfg, EmbeddedPostgres server, String roleWarning, double readySeconds) {
    /**
     * Starts PostgreSQL in-process unless {@code external} is given, and creates the tables. A
     * server that refuses the given credentials or the tables is the user's input: {@link
     * IllegalArgumentException}.
     */
    static DemoPostgres start(PostgresConfig external, long t0) {
        EmbeddedPostgres server = null;
        try {
            PostgresConfig cfg = external;
            if (cfg == null) {
                server = EmbeddedPostgres.start();
                cfg = new PostgresConfig(server.jdbcUrl(), EmbeddedPostgres.USER, null);
            }
            PostgresSchema.Result schema;
            try {
                schema = PostgresSchema.prepare(cfg);
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            return new DemoPostgres(cfg, server, schema.roleWarning(), LiveDemo.seconds(t0));
        } catch (IOException | RuntimeException e) {
            closeQuietly(server);
            throw e instanceof RuntimeException r
                    ? r
                    : new UncheckedIOException(
                            "starting PostgreSQL in-process failed: " + e.getMessage(),
                            (IOException) e);
        }
    }

    /** Series rows and alerts of the demo's runs, and dead letters of its events topic. */
    long[] countDemoRows(List<String> runIds, String eventsTopic) throws SQLException {
        try (Connection c = PostgresSchema.connect(cfg)) {
            Array ids = c.createArrayOf("text", runIds.toArray());
            return new long[] {
                count(c, "SELECT count(*) FROM trainwatch_series WHERE run_id = ANY(?)", ids),
                count(c, "SELECT count(*) FROM trainwatch_alerts WHERE run_id = ANY(?)", ids),
                count(
                        c,
                        "SELECT count(*) FROM trainwatch_dead_letters WHERE source LIKE ?",
                        eventsTopic + "-%")
            };
        }
    }

    private static long count(Connection c, String sql, Object parameter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void closeQuietly(EmbeddedPostgres server) {
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                System.err.println(
                        "warning: stopping the in-process PostgreSQL failed: " + e.getMessage());
            }
        }
    }

    /**
     * Closes the in-process PostgreSQL however the demo ends, once it has started (or failed to).
     */
    record Handle(CompletableFuture<DemoPostgres> future) implements AutoCloseable {
        DemoPostgres await() {
            try {
                return future.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }

        @Override
        public void close() {
            DemoPostgres pg;
            try {
                pg = future.join();
            } catch (RuntimeException e) {
                return; // it never started: nothing to close (the failure was reported by await)
            }
            if (pg != null) {
                closeQuietly(pg.server());
            }
        }
    }
}
