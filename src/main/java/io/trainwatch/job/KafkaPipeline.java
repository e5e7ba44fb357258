package io.trainwatch.job;

import io.trainwatch.event.FailedNotification;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * The live job around the one pipeline: its environment (exactly-once checkpointing of its state,
 * restarts), events from a KafkaSource (key = run_id), the outputs to Kafka ({@link KafkaOutputs},
 * exactly or at least once) and to PostgreSQL when configured ({@link PostgresOutputs}).
 */
public final class KafkaPipeline {
    /**
     * At least once, how long a network buffer waits to fill before it is sent on (Flink's default
     * is 100 ms). At a few thousand events/s a buffer fills in far longer than that, so the default
     * would be most of an alert's latency on each shuffle (events to the runs' monitors, alerts to
     * the notifier). Exactly once keeps the default: there the checkpoint's commit dominates and a
     * 5 ms timeout measured no better.
     */
    static final Duration AT_LEAST_ONCE_BUFFER_TIMEOUT = Duration.ofMillis(5);

    private KafkaPipeline() {}

    /**
     * An environment configured for the job: exactly-once checkpointing, retained checkpoints,
     * optional restore.
     */
    public static StreamExecutionEnvironment environment(JobConfig cfg) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(configuration(cfg));
        env.setParallelism(cfg.parallelism());
        return env;
    }

    /**
     * The job's Flink configuration: checkpointing, state backend, restore, restarts, and at least
     * once a short network buffer timeout. {@code bench-state} runs its own cluster on it.
     */
    public static Configuration configuration(JobConfig cfg) {
        Configuration c = new Configuration();
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, cfg.checkpointInterval());
        c.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        c.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (cfg.checkpointDir() != null) {
            c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, cfg.checkpointStorage());
        }
        c.set(StateBackendOptions.STATE_BACKEND, cfg.stateBackend().flinkName());
        if (cfg.stateBackend() == JobConfig.StateBackend.ROCKSDB) {
            // a checkpoint uploads only the files RocksDB wrote since the last one; the rest is
            // shared with earlier checkpoints
            c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        }
        if (cfg.fromCheckpoint() != null) {
            c.set(StateRecoveryOptions.SAVEPOINT_PATH, cfg.fromCheckpoint());
        }
        if (cfg.stateChangelog()) {
            // each checkpoint writes only the state changed since the last one, instead of every
            // run's state
            c.addAll(
                    Configuration.fromMap(
                            Map.of(
                                    "state.changelog.enabled", "true",
                                    "state.changelog.storage", "filesystem",
                                    "state.changelog.dstl.dfs.base-path", cfg.changelogStorage())));
            if (cfg.fromCheckpoint() != null) {
                // a changelog backend cannot take the full snapshot NO_CLAIM restores require: the
                // job takes over the checkpoint
                c.addAll(
                        Configuration.fromMap(
                                Map.of("execution.state-recovery.claim-mode", "CLAIM")));
            }
        }
        if (cfg.alertsDelivery() == JobConfig.AlertsDelivery.AT_LEAST_ONCE) {
            c.set(ExecutionOptions.BUFFER_TIMEOUT, AT_LEAST_ONCE_BUFFER_TIMEOUT);
        }
        restartStrategy(c);
        return c;
    }

    /**
     * The live job on {@code env}: events from Kafka through the pipeline to Kafka, and to
     * PostgreSQL when configured. Another output is attached here, beside these.
     */
    public static void define(StreamExecutionEnvironment env, JobConfig cfg) {
        TrainwatchJob.Outputs outputs =
                TrainwatchJob.defineWorkflow(env, source(env, cfg), monitorConfig(cfg));
        KafkaOutputs.attach(outputs, cfg);
        if (cfg.postgres() != null) {
            PostgresOutputs.attach(outputs, cfg.postgres());
        }
        if (cfg.notifications() != null) {
            DataStream<FailedNotification> failed =
                    NotificationOutputs.attach(
                            outputs.alerts(),
                            cfg.notifications(),
                            new SentNotificationLog.Location(
                                    cfg.bootstrapServers(),
                                    cfg.kafkaProperties(),
                                    cfg.notifySentLogTopic()),
                            // exactly once, an alert is notified once its checkpoint commits it;
                            // at least once it is on the topic already: notify it as it comes
                            cfg.alertsDelivery() == JobConfig.AlertsDelivery.EXACTLY_ONCE);
            KafkaOutputs.attachFailedNotifications(failed, cfg);
            if (cfg.postgres() != null) {
                PostgresOutputs.attachFailedNotifications(failed, cfg.postgres());
            }
        }
    }

    /**
     * How the live job's monitor judges runs: the job's thresholds, and series points built only
     * when an output takes them. {@code bench}'s engine-free ceiling judges with the same.
     */
    public static MonitorConfig monitorConfig(JobConfig cfg) {
        return new MonitorConfig(
                cfg.thresholds(),
                cfg.seriesEvery(),
                cfg.seriesTopic() != null || cfg.postgres() != null);
    }

    /**
     * Events from the events topic (key = run_id), bounded at the end offsets present at start with
     * {@value JobConfig#STOP_AT_END}. {@code bench}'s Flink floor reads through it too.
     */
    public static DataStream<RawRecord> source(StreamExecutionEnvironment env, JobConfig cfg) {
        var builder =
                KafkaSource.<RawRecord>builder()
                        .setBootstrapServers(cfg.bootstrapServers())
                        .setTopics(cfg.eventsTopic())
                        .setGroupId(cfg.groupId())
                        .setStartingOffsets(
                                switch (cfg.startingOffsets()) {
                                    case EARLIEST -> OffsetsInitializer.earliest();
                                    case LATEST -> OffsetsInitializer.latest();
                                    case COMMITTED ->
                                            OffsetsInitializer.committedOffsets(
                                                    OffsetResetStrategy.EARLIEST);
                                })
                        .setDeserializer(new KafkaSerde.RawRecordDeserializationSchema())
                        .setProperties(properties(cfg))
                        .setProperty("partition.discovery.interval.ms", "10000");
        if (cfg.stopAtEnd()) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return env.fromSource(builder.build(), WatermarkStrategy.noWatermarks(), "kafka-events")
                .uid("kafka-events")
                .name("kafka-events");
    }

    /**
     * Restarts after a failure, from the last checkpoint: 1 s, 2 s, 4 s, 8 s, then every 10 s (±10
     * % jitter, so jobs failing together do not retry together), back to 1 s after 10 minutes
     * without a failure, and never give up. The failures this job meets are outages of Kafka or
     * PostgreSQL (bad input goes to the dead letters, not to a failure): a job that ends FAILED
     * would need a person to start it again, where it could have resumed by itself once the outage
     * is over. Each attempt already waits out up to a minute of the outage ({@link
     * KafkaOutputs#BROKER_OUTAGE_RIDE_OUT_MS}, {@link PostgresSinks#OUTAGE_RIDE_OUT}), so a 10 s
     * cap does not hammer the servers, and it bounds how long the job idles after they are back.
     * Flink 2.0's default with checkpointing is the same strategy with a 1 min cap; set here so
     * that the job behaves the same whatever the cluster's configuration.
     */
    private static void restartStrategy(Configuration c) {
        c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                Duration.ofSeconds(1));
        c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                Duration.ofSeconds(10));
        c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, 0.1);
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
                Duration.ofMinutes(10));
        c.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS,
                Integer.MAX_VALUE);
    }

    private static Properties properties(JobConfig cfg) {
        Properties p = new Properties();
        p.putAll(cfg.kafkaProperties());
        return p;
    }
}
