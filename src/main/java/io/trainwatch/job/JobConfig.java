package io.trainwatch.job;

import io.trainwatch.threshold.Thresholds;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Everything the live job needs, built once from the command line and validated here. Flag names
 * and their defaults sit side by side; the README's configuration table lists them. Build one with
 * {@link #builder(String)}: every setting not given keeps its flag's default.
 */
public record JobConfig(
        String bootstrapServers,
        String eventsTopic,
        String alertsTopic,
        String deadLetterTopic,
        String seriesTopic,
        String groupId,
        StartingOffsets startingOffsets,
        String checkpointDir,
        Duration checkpointInterval,
        int parallelism,
        Map<String, String> kafkaProperties,
        boolean createTopics,
        int topicPartitions,
        String fromCheckpoint,
        boolean stopAtEnd,
        String transactionalIdPrefix,
        Thresholds thresholds,
        boolean stateChangelog,
        StateBackend stateBackend,
        PostgresConfig postgres,
        int seriesEvery,
        NotifyConfig notifications,
        String notifyFailedTopic,
        String notifySentLogTopic,
        AlertsDelivery alertsDelivery) {

    public static final String BOOTSTRAP_SERVERS = "--bootstrap-servers";
    public static final String EVENTS_TOPIC = "--events-topic";
    public static final String EVENTS_TOPIC_DEFAULT = "trainwatch.events";
    public static final String ALERTS_TOPIC = "--alerts-topic";
    public static final String ALERTS_TOPIC_DEFAULT = "trainwatch.alerts";
    public static final String DEAD_LETTER_TOPIC = "--dead-letter-topic";
    public static final String DEAD_LETTER_TOPIC_DEFAULT = "trainwatch.dead-letter";
    public static final String SERIES_TOPIC = "--series-topic";
    public static final String GROUP_ID = "--group-id";
    public static final String GROUP_ID_DEFAULT = "trainwatch";
    public static final String STARTING_OFFSETS = "--starting-offsets";
    public static final String STARTING_OFFSETS_DEFAULT = "committed";
    public static final String CHECKPOINT_DIR = "--checkpoint-dir";
    public static final String CHECKPOINT_INTERVAL = "--checkpoint-interval";
    public static final String CHECKPOINT_INTERVAL_DEFAULT = "PT10S";
    public static final String PARALLELISM = "--parallelism";
    public static final String PARALLELISM_DEFAULT = "2";
    public static final String KAFKA_PROPERTY = "--kafka-property";
    public static final String NO_CREATE_TOPICS = "--no-create-topics";
    public static final String TOPIC_PARTITIONS = "--topic-partitions";
    public static final String TOPIC_PARTITIONS_DEFAULT = "2";
    public static final String FROM_CHECKPOINT = "--from-checkpoint";
    public static final String STOP_AT_END = "--stop-at-end";
    public static final String TRANSACTIONAL_ID_PREFIX = "--transactional-id-prefix";
    public static final String TRANSACTIONAL_ID_PREFIX_DEFAULT = "trainwatch";
    public static final String THRESHOLD = "--threshold";
    public static final String STATE_CHANGELOG = "--state-changelog";
    public static final String STATE_BACKEND = "--state-backend";
    public static final String STATE_BACKEND_DEFAULT = "hashmap";

    /**
     * PostgreSQL sink (off unless given); user and password come from the environment, see {@link
     * PostgresConfig}.
     */
    public static final String JDBC_URL = "--jdbc-url";

    public static final String SERIES_EVERY = "--series-every";
    public static final String SERIES_EVERY_DEFAULT = "1";
    public static final String ALERTS_DELIVERY = "--alerts-delivery";
    public static final String ALERTS_DELIVERY_DEFAULT = "exactly-once";

    /** Where a new consumer group starts reading. */
    public enum StartingOffsets {
        EARLIEST,
        LATEST,
        COMMITTED
    }

    /**
     * Where the runs' keyed state lives. HASHMAP: objects on the TaskManager's heap, fastest per
     * event, every checkpoint a full copy. ROCKSDB: serialized on local disk (memory off the heap,
     * bounded), checkpoints incremental: for fleets whose state outgrows the heap.
     */
    public enum StateBackend {
        HASHMAP,
        ROCKSDB;

        /** The value of Flink's {@code state.backend.type}. */
        public String flinkName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How the job's Kafka outputs (alerts, dead letters, series, notifications given up) are
     * delivered. EXACTLY_ONCE: Kafka transactions committed at each checkpoint, so a record is
     * visible to read_committed consumers at the next checkpoint and never twice. AT_LEAST_ONCE: no
     * transactions; each record is sent as it is produced and the producers are flushed at each
     * checkpoint, so nothing is lost across a failure but what was written after the restored
     * checkpoint is written again (consumers de-duplicate).
     */
    public enum AlertsDelivery {
        EXACTLY_ONCE,
        AT_LEAST_ONCE;

        /** As the flag spells it: exactly-once, at-least-once. */
        public String flagValue() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Values of these Kafka properties never appear in logs or messages. */
    private static final Pattern SECRET_KEY =
            Pattern.compile(
                    "(?i).*(password|secret|jaas|token|credential|key\\b|keystore|truststore\\.certificates).*");

    public JobConfig {
        require(
                bootstrapServers != null && !bootstrapServers.isBlank(),
                BOOTSTRAP_SERVERS + " is required (host:port[,host:port])");
        require(
                nonBlank(eventsTopic) && nonBlank(alertsTopic) && nonBlank(deadLetterTopic),
                "topic names must not be empty");
        require(
                !eventsTopic.equals(alertsTopic)
                        && !eventsTopic.equals(deadLetterTopic)
                        && !alertsTopic.equals(deadLetterTopic)
                        && (seriesTopic == null
                                || (!seriesTopic.equals(eventsTopic)
                                        && !seriesTopic.equals(alertsTopic)
                                        && !seriesTopic.equals(deadLetterTopic))),
                "the events, alerts, dead-letter and series topics must all differ");
        require(
                checkpointInterval != null
                        && !checkpointInterval.isNegative()
                        && checkpointInterval.toMillis() >= 100,
                CHECKPOINT_INTERVAL
                        + " must be at least 100 ms (alerts are committed to Kafka at each checkpoint), got "
                        + checkpointInterval);
        require(parallelism >= 1, PARALLELISM + " must be >= 1, got " + parallelism);
        require(topicPartitions >= 1, TOPIC_PARTITIONS + " must be >= 1, got " + topicPartitions);
        require(nonBlank(groupId), GROUP_ID + " must not be empty");
        require(startingOffsets != null, STARTING_OFFSETS + " must be given");
        require(thresholds != null, "thresholds must be given");
        require(nonBlank(transactionalIdPrefix), TRANSACTIONAL_ID_PREFIX + " must not be empty");
        require(
                nonBlank(notifyFailedTopic) && nonBlank(notifySentLogTopic),
                NotifyConfig.FAILED_TOPIC
                        + " and "
                        + NotifyConfig.SENT_LOG_TOPIC
                        + " must not be empty");
        require(
                notifications == null
                        || Stream.of(eventsTopic, alertsTopic, deadLetterTopic, seriesTopic)
                                        .noneMatch(
                                                t ->
                                                        notifyFailedTopic.equals(t)
                                                                || notifySentLogTopic.equals(t))
                                && !notifyFailedTopic.equals(notifySentLogTopic),
                "the notification topics must differ from each other and from the job's other topics");
        require(
                seriesEvery >= 1,
                SERIES_EVERY + " must be >= 1 (1 keeps every step), got " + seriesEvery);
        require(
                checkpointDir == null || !checkpointDir.isBlank(),
                CHECKPOINT_DIR
                        + " must not be empty (a folder, or a URI such as s3://bucket/checkpoints)");
        require(
                fromCheckpoint == null || !fromCheckpoint.isBlank(),
                FROM_CHECKPOINT + " must not be empty (a retained chk-N folder)");
        require(stateBackend != null, STATE_BACKEND + " must be given");
        require(alertsDelivery != null, ALERTS_DELIVERY + " must be given");
        require(
                stateBackend != StateBackend.ROCKSDB || checkpointDir != null,
                STATE_BACKEND
                        + " rocksdb needs "
                        + CHECKPOINT_DIR
                        + " (its incremental checkpoints are files shared between checkpoints)");
        require(
                !stateChangelog || checkpointDir != null,
                STATE_CHANGELOG
                        + " needs "
                        + CHECKPOINT_DIR
                        + " (the changelog is written beside the checkpoints)");
        kafkaProperties = Map.copyOf(kafkaProperties);
        for (String k : kafkaProperties.keySet()) {
            require(
                    !k.equals("bootstrap.servers"),
                    "set the brokers with "
                            + BOOTSTRAP_SERVERS
                            + ", not "
                            + KAFKA_PROPERTY
                            + " bootstrap.servers");
        }
    }

    /**
     * Where checkpoints go, as Flink gets it (see {@link StorageLocation}); null: in memory
     * (JobManager).
     */
    public String checkpointStorage() {
        return checkpointDir == null ? null : StorageLocation.uri(checkpointDir);
    }

    /**
     * Where the state changelog goes with {@value #STATE_CHANGELOG}: the checkpoint location +
     * /changelog; null without it.
     */
    public String changelogStorage() {
        return stateChangelog ? StorageLocation.child(checkpointDir, "changelog") : null;
    }

    /**
     * As it may be logged: Kafka secrets as ***, and the PostgreSQL password never (see {@link
     * PostgresConfig#toString()}).
     */
    @Override
    public String toString() {
        return "JobConfig[bootstrapServers="
                + bootstrapServers
                + ", topics="
                + eventsTopic
                + " -> "
                + alertsTopic
                + ", "
                + deadLetterTopic
                + (seriesTopic == null ? "" : ", " + seriesTopic)
                + ", groupId="
                + groupId
                + ", startingOffsets="
                + startingOffsets
                + ", checkpointDir="
                + checkpointDir
                + ", checkpointInterval="
                + checkpointInterval
                + ", parallelism="
                + parallelism
                + ", kafkaProperties="
                + printableKafkaProperties()
                + ", createTopics="
                + createTopics
                + ", topicPartitions="
                + topicPartitions
                + ", fromCheckpoint="
                + fromCheckpoint
                + ", stopAtEnd="
                + stopAtEnd
                + ", transactionalIdPrefix="
                + transactionalIdPrefix
                + ", stateChangelog="
                + stateChangelog
                + ", stateBackend="
                + stateBackend.flinkName()
                + ", postgres="
                + postgres
                + ", seriesEvery="
                + seriesEvery
                + ", notify="
                + notifications
                + ", alertsDelivery="
                + alertsDelivery.flagValue()
                + "]";
    }

    /** The Kafka properties as they may be printed: secrets replaced by ***. */
    public Map<String, String> printableKafkaProperties() {
        Map<String, String> out = new TreeMap<>();
        kafkaProperties.forEach((k, v) -> out.put(k, SECRET_KEY.matcher(k).matches() ? "***" : v));
        return out;
    }

    /**
     * A builder with every flag's default; {@code bootstrapServers} is the one setting without a
     * default.
     */
    public static Builder builder(String bootstrapServers) {
        return new Builder(bootstrapServers);
    }

    /**
     * Settings by name, each defaulting to its flag's default; {@link #build()} validates them (in
     * the record's constructor).
     */
    public static final class Builder {
        private final String bootstrapServers;
        private String eventsTopic = EVENTS_TOPIC_DEFAULT;
        private String alertsTopic = ALERTS_TOPIC_DEFAULT;
        private String deadLetterTopic = DEAD_LETTER_TOPIC_DEFAULT;
        private String seriesTopic;
        private String groupId = GROUP_ID_DEFAULT;
        private StartingOffsets startingOffsets = parseStartingOffsets(STARTING_OFFSETS_DEFAULT);
        private String checkpointDir;
        private Duration checkpointInterval = Duration.parse(CHECKPOINT_INTERVAL_DEFAULT);
        private int parallelism = Integer.parseInt(PARALLELISM_DEFAULT);
        private Map<String, String> kafkaProperties = Map.of();
        private boolean createTopics = true;
        private int topicPartitions = Integer.parseInt(TOPIC_PARTITIONS_DEFAULT);
        private String fromCheckpoint;
        private boolean stopAtEnd;
        private String transactionalIdPrefix = TRANSACTIONAL_ID_PREFIX_DEFAULT;
        private Thresholds thresholds = Thresholds.DEFAULTS;
        private boolean stateChangelog;
        private StateBackend stateBackend = parseStateBackend(STATE_BACKEND_DEFAULT);
        private PostgresConfig postgres;
        private int seriesEvery = Integer.parseInt(SERIES_EVERY_DEFAULT);
        private NotifyConfig notify;
        private String notifyFailedTopic = NotifyConfig.FAILED_TOPIC_DEFAULT;
        private String notifySentLogTopic = NotifyConfig.SENT_LOG_TOPIC_DEFAULT;
        private AlertsDelivery alertsDelivery = parseAlertsDelivery(ALERTS_DELIVERY_DEFAULT);

        private Builder(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
        }

        /** The events, alerts and dead-letter topics. */
        public Builder topics(String events, String alerts, String deadLetters) {
            this.eventsTopic = events;
            this.alertsTopic = alerts;
            this.deadLetterTopic = deadLetters;
            return this;
        }

        /** Null: no series topic. */
        public Builder seriesTopic(String seriesTopic) {
            this.seriesTopic = seriesTopic;
            return this;
        }

        public Builder groupId(String groupId) {
            this.groupId = groupId;
            return this;
        }

        public Builder startingOffsets(StartingOffsets startingOffsets) {
            this.startingOffsets = startingOffsets;
            return this;
        }

        /** Null: checkpoints in memory (JobManager). */
        public Builder checkpointDir(String checkpointDir) {
            this.checkpointDir = checkpointDir;
            return this;
        }

        public Builder checkpointInterval(Duration checkpointInterval) {
            this.checkpointInterval = checkpointInterval;
            return this;
        }

        public Builder parallelism(int parallelism) {
            this.parallelism = parallelism;
            return this;
        }

        public Builder kafkaProperties(Map<String, String> kafkaProperties) {
            this.kafkaProperties = kafkaProperties;
            return this;
        }

        public Builder createTopics(boolean createTopics) {
            this.createTopics = createTopics;
            return this;
        }

        public Builder topicPartitions(int topicPartitions) {
            this.topicPartitions = topicPartitions;
            return this;
        }

        /** Null: a fresh start. */
        public Builder fromCheckpoint(String fromCheckpoint) {
            this.fromCheckpoint = fromCheckpoint;
            return this;
        }

        public Builder stopAtEnd(boolean stopAtEnd) {
            this.stopAtEnd = stopAtEnd;
            return this;
        }

        public Builder transactionalIdPrefix(String transactionalIdPrefix) {
            this.transactionalIdPrefix = transactionalIdPrefix;
            return this;
        }

        public Builder thresholds(Thresholds thresholds) {
            this.thresholds = thresholds;
            return this;
        }

        public Builder stateChangelog(boolean stateChangelog) {
            this.stateChangelog = stateChangelog;
            return this;
        }

        public Builder stateBackend(StateBackend stateBackend) {
            this.stateBackend = stateBackend;
            return this;
        }

        /** Null: no PostgreSQL output. */
        public Builder postgres(PostgresConfig postgres) {
            this.postgres = postgres;
            return this;
        }

        public Builder seriesEvery(int seriesEvery) {
            this.seriesEvery = seriesEvery;
            return this;
        }

        /** Null: no notifications. */
        public Builder notifications(NotifyConfig notify) {
            this.notify = notify;
            return this;
        }

        /** Notifications given up, and the log of those delivered. */
        public Builder notifyTopics(String failed, String sentLog) {
            this.notifyFailedTopic = failed;
            this.notifySentLogTopic = sentLog;
            return this;
        }

        public Builder alertsDelivery(AlertsDelivery alertsDelivery) {
            this.alertsDelivery = alertsDelivery;
            return this;
        }

        /**
         * @throws IllegalArgumentException with one sentence naming the flag, when a setting is
         *     invalid
         */
        public JobConfig build() {
            return new JobConfig(
                    bootstrapServers,
                    eventsTopic,
                    alertsTopic,
                    deadLetterTopic,
                    seriesTopic,
                    groupId,
                    startingOffsets,
                    checkpointDir,
                    checkpointInterval,
                    parallelism,
                    kafkaProperties,
                    createTopics,
                    topicPartitions,
                    fromCheckpoint,
                    stopAtEnd,
                    transactionalIdPrefix,
                    thresholds,
                    stateChangelog,
                    stateBackend,
                    postgres,
                    seriesEvery,
                    notify,
                    notifyFailedTopic,
                    notifySentLogTopic,
                    alertsDelivery);
        }
    }

    public static StartingOffsets parseStartingOffsets(String s) {
        try {
            return StartingOffsets.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    STARTING_OFFSETS + " must be earliest, latest or committed, got \"" + s + "\"");
        }
    }

    public static StateBackend parseStateBackend(String s) {
        try {
            return StateBackend.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    STATE_BACKEND + " must be hashmap or rocksdb, got \"" + s + "\"");
        }
    }

    /** {@value #ALERTS_DELIVERY} as given on the command line: exactly-once or at-least-once. */
    public static AlertsDelivery parseAlertsDelivery(String s) {
        for (AlertsDelivery d : AlertsDelivery.values()) {
            if (d.flagValue().equalsIgnoreCase(s.strip())) {
                return d;
            }
        }
        throw new IllegalArgumentException(
                ALERTS_DELIVERY + " must be exactly-once or at-least-once, got \"" + s + "\"");
    }

    /**
     * A checkpoint interval as given on the command line: ISO-8601 ({@code PT10S}) or milliseconds.
     */
    public static Duration parseCheckpointInterval(String s) {
        return parseDuration(CHECKPOINT_INTERVAL, s);
    }

    /** A duration flag's value: ISO-8601 (PT10S) or milliseconds; the error names the flag. */
    public static Duration parseDuration(String flag, String s) {
        try {
            return s.matches("\\d+") ? Duration.ofMillis(Long.parseLong(s)) : Duration.parse(s);
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException(
                    flag + " must be ISO-8601 (PT10S) or milliseconds, got \"" + s + "\"");
        }
    }

    private static boolean nonBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
