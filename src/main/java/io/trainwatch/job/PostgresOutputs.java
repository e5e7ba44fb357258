package io.trainwatch.job;

import io.trainwatch.event.FailedNotification;

import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The pipeline's three outputs written to PostgreSQL ({@link PostgresSinks}: at-least-once
 * upserts). The sinks run at the monitor's parallelism, chained to it: a run's alerts reach their
 * row in the order they were raised.
 */
public final class PostgresOutputs {
    private PostgresOutputs() {}

    public static void attach(TrainwatchJob.Outputs outputs, PostgresConfig postgres) {
        PostgresSinks sinks = PostgresSinks.of(postgres);
        outputs.alerts()
                .sinkTo(sinks.alerts())
                .uid("postgres-alerts-sink")
                .name("postgres-alerts-sink");
        outputs.series()
                .sinkTo(sinks.series())
                .uid("postgres-series-sink")
                .name("postgres-series-sink");
        outputs.deadLetters()
                .sinkTo(sinks.deadLetters())
                .uid("postgres-dead-letter-sink")
                .name("postgres-dead-letter-sink");
    }

    /** Notifications given up, to trainwatch_notifications_failed. */
    public static void attachFailedNotifications(
            DataStream<FailedNotification> failed, PostgresConfig postgres) {
        failed.sinkTo(PostgresSinks.of(postgres).failedNotifications())
                .uid("postgres-notify-failed-sink")
                .name("postgres-notify-failed-sink")
                .setParallelism(1);
    }
}
