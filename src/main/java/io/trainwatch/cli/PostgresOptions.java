package io.trainwatch.cli;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.PostgresConfig;

import picocli.CommandLine.Option;

/**
 * {@code --jdbc-url} and {@code --series-every}, the same for {@code run} and {@code replay} (a
 * picocli mixin).
 */
final class PostgresOptions {
    @Option(
            names = JobConfig.JDBC_URL,
            paramLabel = "jdbc:postgresql://HOST:PORT/DB",
            description = {
                "Also write series, alerts and dead letters to PostgreSQL",
                "(tables created if missing; upserts: replaying or restarting adds no row). User and password from the environment: "
                        + PostgresConfig.USER_ENV
                        + ", "
                        + PostgresConfig.PASSWORD_ENV
                        + "."
            })
    String jdbcUrl;

    @Option(
            names = JobConfig.SERIES_EVERY,
            defaultValue = JobConfig.SERIES_EVERY_DEFAULT,
            paramLabel = "N",
            description = {
                "At most one series point per N steps of a run;",
                "steps with an alert and the first step after a resume are always kept. Default: ${DEFAULT-VALUE} (every step)."
            })
    int seriesEvery;

    /**
     * The PostgreSQL to write to, credentials from the environment; null without {@code
     * --jdbc-url}.
     */
    PostgresConfig config() {
        return PostgresTarget.config(jdbcUrl, System.getenv());
    }
}
