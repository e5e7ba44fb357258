package io.trainwatch.cli;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.NotifyConfig;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.threshold.Threshold;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code run}: the live job on Kafka. Also what {@code flink run target/trainwatch.jar run ...}
 * starts on a cluster.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the trainwatch job on Kafka: reads v1 events, writes alerts (exactly once by default: read them with",
            "isolation.level=read_committed; or at least once, see --alerts-delivery), per-step series and dead letters,",
            "and with --jdbc-url all three to PostgreSQL (upserts). Runs until cancelled."
        })
final class RunCommand implements Callable<Integer> {
    @Option(
            names = JobConfig.BOOTSTRAP_SERVERS,
            required = true,
            paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers.")
    String bootstrapServers;

    @Option(
            names = JobConfig.EVENTS_TOPIC,
            defaultValue = JobConfig.EVENTS_TOPIC_DEFAULT,
            paramLabel = "TOPIC",
            description = "Events (key = run_id). Default: ${DEFAULT-VALUE}.")
    String eventsTopic;

    @Option(
            names = JobConfig.ALERTS_TOPIC,
            defaultValue = JobConfig.ALERTS_TOPIC_DEFAULT,
            paramLabel = "TOPIC",
            description = "Alerts (key = run_id). Default: ${DEFAULT-VALUE}.")
    String alertsTopic;

    @Option(
            names = JobConfig.DEAD_LETTER_TOPIC,
            defaultValue = JobConfig.DEAD_LETTER_TOPIC_DEFAULT,
            paramLabel = "TOPIC",
            description =
                    "Rejected records: value = the original payload, headers trainwatch-field/-reason/-source. Default: ${DEFAULT-VALUE}.")
    String deadLetterTopic;

    @Option(
            names = JobConfig.SERIES_TOPIC,
            paramLabel = "TOPIC",
            description =
                    "Per-step series (actual vs scheduled LR, loss, grad norm). Off unless given.")
    String seriesTopic;

    @Option(
            names = JobConfig.GROUP_ID,
            defaultValue = JobConfig.GROUP_ID_DEFAULT,
            paramLabel = "ID",
            description = "Consumer group. Default: ${DEFAULT-VALUE}.")
    String groupId;

    @Option(
            names = JobConfig.STARTING_OFFSETS,
            defaultValue = JobConfig.STARTING_OFFSETS_DEFAULT,
            paramLabel = "earliest|latest|committed",
            description =
                    "Where a new consumer group starts (committed falls back to earliest). Default: ${DEFAULT-VALUE}.")
    String startingOffsets;

    @Option(
            names = JobConfig.CHECKPOINT_DIR,
            paramLabel = "DIR|URI",
            description =
                    "Checkpoints (kept on cancel, for --from-checkpoint): a folder, or a URI"
                            + " with a scheme (s3://bucket/chk, hdfs://..., file:///...), passed to Flink unchanged. Default: in memory.")
    String checkpointDir;

    @Option(
            names = JobConfig.CHECKPOINT_INTERVAL,
            defaultValue = JobConfig.CHECKPOINT_INTERVAL_DEFAULT,
            paramLabel = "DURATION",
            description =
                    "ISO-8601 (PT10S) or milliseconds; alerts become visible to read_committed consumers at each checkpoint. Default: ${DEFAULT-VALUE}.")
    String checkpointInterval;

    @Option(
            names = JobConfig.FROM_CHECKPOINT,
            paramLabel = "PATH",
            description = "Restore from a retained checkpoint (a chk-N folder).")
    String fromCheckpoint;

    @Option(
            names = JobConfig.PARALLELISM,
            defaultValue = JobConfig.PARALLELISM_DEFAULT,
            paramLabel = "N",
            description = "Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(
            names = JobConfig.KAFKA_PROPERTY,
            paramLabel = "KEY=VALUE",
            description =
                    "Any Kafka client property, e.g. security.protocol=SASL_SSL. Repeatable; secrets are never printed.")
    Map<String, String> kafkaProperties = new TreeMap<>();

    @Option(
            names = JobConfig.NO_CREATE_TOPICS,
            description = "Fail instead of creating missing topics.")
    boolean noCreateTopics;

    @Option(
            names = JobConfig.TOPIC_PARTITIONS,
            defaultValue = JobConfig.TOPIC_PARTITIONS_DEFAULT,
            paramLabel = "N",
            description = "Partitions of topics it creates. Default: ${DEFAULT-VALUE}.")
    int topicPartitions;

    @Option(
            names = JobConfig.STOP_AT_END,
            description =
                    "Stop at the end offsets present at start (bounded run, for backfills and benchmarks).")
    boolean stopAtEnd;

    @Option(
            names = JobConfig.TRANSACTIONAL_ID_PREFIX,
            defaultValue = JobConfig.TRANSACTIONAL_ID_PREFIX_DEFAULT,
            paramLabel = "PREFIX",
            description =
                    "Kafka transactional id prefix; unique per job on a cluster. Default: ${DEFAULT-VALUE}.")
    String transactionalIdPrefix;

    @Option(
            names = JobConfig.ALERTS_DELIVERY,
            defaultValue = JobConfig.ALERTS_DELIVERY_DEFAULT,
            paramLabel = "exactly-once|at-least-once",
            description =
                    "How alerts, dead letters, series and failed notifications reach Kafka, and when"
                            + " notifications go out. exactly-once: in Kafka transactions committed at each"
                            + " checkpoint (read with isolation.level=read_committed: visible then, never twice);"
                            + " notifications sent once committed. at-least-once: no transactions; each record"
                            + " written as it is raised and flushed at each checkpoint, notifications sent as"
                            + " alerts are raised: nothing is lost, but after a restore what came after the"
                            + " checkpoint is written again, so consumers de-duplicate alerts by alert_id,"
                            + " status, occurrences and step (notifications are still not sent twice)."
                            + " Default: ${DEFAULT-VALUE}.")
    String alertsDelivery;

    @Option(
            names = JobConfig.STATE_BACKEND,
            defaultValue = JobConfig.STATE_BACKEND_DEFAULT,
            paramLabel = "hashmap|rocksdb",
            description =
                    "Where the runs' state lives: hashmap (on the heap, fastest) or rocksdb (on local"
                            + " disk, incremental checkpoints; needs --checkpoint-dir), for fleets"
                            + " whose state outgrows the heap. Default: ${DEFAULT-VALUE}.")
    String stateBackend;

    @Option(
            names = JobConfig.STATE_CHANGELOG,
            description =
                    "Changelog state backend: each checkpoint writes only the runs' state that changed"
                            + " (needs --checkpoint-dir); for short checkpoint intervals with many runs.")
    boolean stateChangelog;

    @Option(
            names = JobConfig.THRESHOLD,
            paramLabel = "NAME=VALUE",
            description = "Override a detector threshold for every run. Repeatable.")
    Map<String, String> thresholds = new TreeMap<>();

    @Mixin PostgresOptions postgresOptions = new PostgresOptions();

    @Mixin NotifyOptions notifyOptions = new NotifyOptions();

    @Option(
            names = NotifyConfig.FAILED_TOPIC,
            defaultValue = NotifyConfig.FAILED_TOPIC_DEFAULT,
            paramLabel = "TOPIC",
            description =
                    "With --notify: notifications given up, with the reason and the alert. Default: ${DEFAULT-VALUE}.")
    String notifyFailedTopic;

    @Option(
            names = NotifyConfig.SENT_LOG_TOPIC,
            defaultValue = NotifyConfig.SENT_LOG_TOPIC_DEFAULT,
            paramLabel = "TOPIC",
            description =
                    "With --notify: a record of each notification delivered, read on restore so that none is sent twice."
                            + " Default: ${DEFAULT-VALUE}.")
    String notifySentLogTopic;

    /** Where --notify's env:VAR references are read. */
    Function<String, String> environment = System::getenv;

    @Option(
            names = "--dry-run",
            description =
                    "Check every flag, print the effective configuration (secrets masked) and exit,"
                            + " without contacting Kafka or PostgreSQL and without starting the job.")
    boolean dryRun;

    JobConfig config() {
        try {
            return JobConfig.builder(bootstrapServers)
                    .topics(eventsTopic, alertsTopic, deadLetterTopic)
                    .seriesTopic(seriesTopic)
                    .groupId(groupId)
                    .startingOffsets(JobConfig.parseStartingOffsets(startingOffsets))
                    .checkpointDir(checkpointDir)
                    .checkpointInterval(JobConfig.parseCheckpointInterval(checkpointInterval))
                    .parallelism(parallelism)
                    .kafkaProperties(kafkaProperties)
                    .createTopics(!noCreateTopics)
                    .topicPartitions(topicPartitions)
                    .fromCheckpoint(fromCheckpoint)
                    .stopAtEnd(stopAtEnd)
                    .transactionalIdPrefix(transactionalIdPrefix)
                    .thresholds(Thresholds.DEFAULTS.withText(thresholds))
                    .stateChangelog(stateChangelog)
                    .stateBackend(JobConfig.parseStateBackend(stateBackend))
                    .postgres(postgresOptions.config())
                    .seriesEvery(postgresOptions.seriesEvery)
                    .notifications(notifyOptions.config(environment))
                    .notifyTopics(notifyFailedTopic, notifySentLogTopic)
                    .alertsDelivery(JobConfig.parseAlertsDelivery(alertsDelivery))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    public Integer call() throws Exception {
        JobConfig cfg = config();
        if (dryRun) {
            System.out.print(describe(cfg));
            return 0;
        }
        System.err.printf(
                "trainwatch run: %s -> %s (alerts, %s), %s (dead letters)%s; brokers %s; parallelism %d; checkpoint every %s%n",
                cfg.eventsTopic(),
                cfg.alertsTopic(),
                cfg.alertsDelivery() == JobConfig.AlertsDelivery.EXACTLY_ONCE
                        ? "exactly once"
                        : "at least once",
                cfg.deadLetterTopic(),
                cfg.seriesTopic() == null ? "" : ", " + cfg.seriesTopic() + " (series)",
                cfg.bootstrapServers(),
                cfg.parallelism(),
                cfg.checkpointInterval());
        if (!cfg.kafkaProperties().isEmpty()) {
            System.err.println("kafka properties: " + cfg.printableKafkaProperties());
        }
        if (cfg.postgres() != null) {
            System.err.printf(
                    "postgres: %s as %s (series every %d step(s), alerts, dead letters; at-least-once upserts)%n",
                    cfg.postgres().printableUrl(),
                    cfg.postgres().printableUser(),
                    cfg.seriesEvery());
        }
        var created = TopicAdmin.prepareTopics(cfg);
        if (!created.isEmpty()) {
            System.err.println("created topics: " + String.join(", ", created));
        }
        if (cfg.notifications() != null) {
            System.err.printf(
                    "notify: %s; given up after %s -> %s%n",
                    cfg.notifications().targets(),
                    cfg.notifications().settings().horizon(),
                    cfg.notifyFailedTopic());
        }
        PostgresTarget.prepare(cfg.postgres(), System.err);
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        env.execute("trainwatch");
        return 0;
    }

    /**
     * The effective configuration, one setting per line, as {@code --dry-run} prints it: no
     * password, Kafka secrets as ***.
     */
    static String describe(JobConfig cfg) {
        StringBuilder b =
                new StringBuilder(
                        "trainwatch run --dry-run: every flag is valid; nothing was contacted and no job was started\n");
        line(b, "brokers", cfg.bootstrapServers());
        line(b, "events topic", cfg.eventsTopic());
        line(b, "alerts topic", cfg.alertsTopic());
        line(b, "dead-letter topic", cfg.deadLetterTopic());
        line(b, "series topic", cfg.seriesTopic() == null ? "off" : cfg.seriesTopic());
        line(
                b,
                "missing topics",
                cfg.createTopics()
                        ? "created, " + cfg.topicPartitions() + " partition(s)"
                        : "an error (" + JobConfig.NO_CREATE_TOPICS + ")");
        line(b, "group id", cfg.groupId());
        line(
                b,
                "starting offsets",
                cfg.startingOffsets().name().toLowerCase(Locale.ROOT)
                        + (cfg.startingOffsets() == JobConfig.StartingOffsets.COMMITTED
                                ? " (earliest when the group has none)"
                                : ""));
        line(b, "parallelism", Integer.toString(cfg.parallelism()));
        line(
                b,
                "checkpoint interval",
                cfg.checkpointInterval() + " (" + cfg.checkpointInterval().toMillis() + " ms)");
        line(
                b,
                "checkpoint storage",
                cfg.checkpointStorage() == null
                        ? "in memory (JobManager)"
                        : cfg.checkpointStorage());
        line(
                b,
                "state backend",
                cfg.stateBackend().flinkName()
                        + (cfg.stateBackend() == JobConfig.StateBackend.ROCKSDB
                                ? " (incremental checkpoints)"
                                : "")
                        + (cfg.stateChangelog()
                                ? ", with changelog at " + cfg.changelogStorage()
                                : ""));
        line(
                b,
                "restore from",
                cfg.fromCheckpoint() == null
                        ? "none"
                        : cfg.fromCheckpoint()
                                + (cfg.stateChangelog()
                                        ? " (claimed: the job takes the checkpoint over)"
                                        : ""));
        line(
                b,
                "stop at end",
                cfg.stopAtEnd()
                        ? "yes (bounded: the end offsets present at start)"
                        : "no (runs until cancelled)");
        line(
                b,
                "alerts delivery",
                cfg.alertsDelivery() == JobConfig.AlertsDelivery.EXACTLY_ONCE
                        ? "exactly-once (Kafka transactions committed at each checkpoint; read with"
                                + " isolation.level=read_committed)"
                        : "at-least-once (written as raised, flushed at each checkpoint; duplicates"
                                + " after a restore)");
        line(
                b,
                "transactional id prefix",
                cfg.alertsDelivery() == JobConfig.AlertsDelivery.EXACTLY_ONCE
                        ? cfg.transactionalIdPrefix()
                        : cfg.transactionalIdPrefix() + " (unused: no transactions)");
        PostgresConfig pg = cfg.postgres();
        line(
                b,
                "PostgreSQL",
                pg == null
                        ? "off"
                        : pg.printableUrl()
                                + " as "
                                + pg.printableUser()
                                + ", password "
                                + (pg.password() == null
                                        ? "none"
                                        : "set (" + PostgresConfig.PASSWORD_ENV + ", not shown)"));
        line(b, "series every", cfg.seriesEvery() + " step(s)");
        NotifyConfig notify = cfg.notifications();
        if (notify == null) {
            line(b, "notify", "off");
        } else {
            notify.targets().forEach(t -> line(b, "notify", t.toString()));
            line(b, "grafana url", notify.grafanaUrl() == null ? "none" : notify.grafanaUrl());
            line(b, "notify retry horizon", notify.settings().horizon().toString());
            line(
                    b,
                    "notify dry run",
                    notify.settings().dryRun() ? "yes (printed, not sent)" : "no");
            line(b, "notify failed topic", cfg.notifyFailedTopic());
            line(b, "notify sent log topic", cfg.notifySentLogTopic());
        }
        if (cfg.kafkaProperties().isEmpty()) {
            line(b, "kafka properties", "none");
        }
        cfg.printableKafkaProperties().forEach((k, v) -> line(b, "kafka property", k + "=" + v));
        for (Threshold t : Threshold.values()) {
            double v = cfg.thresholds().get(t);
            line(
                    b,
                    "threshold",
                    t.key()
                            + " = "
                            + number(v)
                            + (v == t.defaultValue()
                                    ? " (default)"
                                    : " ("
                                            + JobConfig.THRESHOLD
                                            + ", default "
                                            + number(t.defaultValue())
                                            + ")"));
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String name, String value) {
        b.append(String.format(Locale.ROOT, "%-24s %s%n", name, value));
    }

    /** 8 rather than 8.0, 0.001 rather than 1.0E-3. */
    private static String number(double v) {
        return Double.isFinite(v)
                ? BigDecimal.valueOf(v).stripTrailingZeros().toPlainString()
                : Double.toString(v);
    }
}
