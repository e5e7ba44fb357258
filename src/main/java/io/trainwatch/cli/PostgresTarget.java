package io.trainwatch.cli;

import io.trainwatch.job.PostgresConfig;
import io.trainwatch.job.PostgresSchema;

import java.io.PrintStream;
import java.util.Map;

/**
 * The PostgreSQL a command writes to ({@code --jdbc-url}, credentials from the environment),
 * checked before the job starts: unreachable, refused credentials or a failed table creation are
 * one line and exit code 2, as for any other setting the user gave; a missing Grafana role is a
 * warning.
 */
final class PostgresTarget {
    private PostgresTarget() {}

    /**
     * The config for {@code url} with the credentials from {@code env}; null when no URL was given.
     */
    static PostgresConfig config(String url, Map<String, String> env) {
        if (url == null) {
            return null;
        }
        try {
            return PostgresConfig.fromEnvironment(url, env);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    /**
     * Connects and creates the tables if missing (docker/postgres/init.sql); prints the role
     * warning, if any, to {@code err}.
     */
    static void prepare(PostgresConfig cfg, PrintStream err) {
        if (cfg == null) {
            return;
        }
        PostgresSchema.Result r;
        try {
            r = PostgresSchema.prepare(cfg);
        } catch (IllegalStateException e) {
            throw new UserInputException(e.getMessage());
        }
        if (r.roleWarning() != null) {
            err.println("warning: " + r.roleWarning());
        }
    }
}
