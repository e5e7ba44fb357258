package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonReader;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.notify.DispatchSettings;
import io.trainwatch.notify.NotifyTarget;
import io.trainwatch.notify.WebhookRequest;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The notification output through the real pipeline: the live job on a real broker, notifying real
 * HTTP receivers started here. Each alert at or above a target's severity reaches it once, in the
 * documented format; a receiver down for 10 s loses nothing and gets nothing twice; a hanging
 * receiver does not hold up the alerts topic; a kill-and-restore sends nothing twice; no secret
 * reaches the log. The commit-to-receiver latency is printed (the README quotes its p99).
 */
class NotificationsITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.parallelismTwo();
    @RegisterExtension static final InProcessBroker BROKER = new InProcessBroker();

    static final Duration DEADLINE = Duration.ofSeconds(120);

    /** The MiniCluster the jobs run on: their checkpoints are counted from it. */
    static MiniCluster cluster;

    @BeforeEach
    void holdCluster(@InjectMiniCluster MiniCluster flink) {
        cluster = flink;
    }

    static final String SLACK_ENV = "TEST_SLACK_URL";
    static final String PAGERDUTY_ENV = "TEST_PD_KEY";
    static final String AUTH_ENV = "TEST_WEBHOOK_AUTH";
    static final String ROUTING_KEY = "R0UT1NGKEYsecret0123456789abcdef";
    static final String AUTH = "Bearer tok-SECRET-4242";
    static final String SLACK_PATH = "/services/T000/B000/XXXXSECRETSLACKPATH";

    /** The console appender of log4j2-test.properties. */
    static final String CONSOLE = "Console";

    /** Records sent before a latency measurement starts: the first step of each run. */
    static final int WARM_UP = 10;

    /** Runs with critical (NaN), warning and info alerts. */
    static List<SimulatedRun> runs(long seed) {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f :
                List.of(
                        Fault.NONE,
                        Fault.NAN_BAD_BATCH,
                        Fault.WARMUP_BLOWUP,
                        Fault.GRAD_GROWTH,
                        Fault.LR_STEPPED_PER_EPOCH)) {
            runs.add(RunSimulator.generate(seed + f.ordinal(), f));
        }
        return runs;
    }

    static JobConfig config(String name, NotifyConfig notify, String checkpointDir, String from) {
        return JobConfig.builder(BROKER.bootstrapServers())
                .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                .groupId(name)
                .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                .checkpointInterval(Duration.ofMillis(300))
                .checkpointDir(checkpointDir)
                .fromCheckpoint(from)
                .transactionalIdPrefix(name)
                .notifications(notify)
                .notifyTopics(name + ".notify-failed", name + ".notify-sent")
                .build();
    }

    static JobClient start(JobConfig cfg) throws Exception {
        TopicAdmin.prepareTopics(cfg);
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        return env.executeAsync(cfg.groupId() + "-itcase");
    }

    /** One webhook target taking every alert (info and above), no secrets. */
    static NotifyConfig everyAlertTo(
            HttpReceiver receiver, String path, DispatchSettings settings) {
        return new NotifyConfig(
                List.of(
                        NotifyTarget.parse(
                                "webhook=" + receiver.url(path) + ";min_severity=info",
                                Map.<String, String>of()::get)),
                null,
                settings);
    }

    /** The committed alerts of a topic, parsed. */
    static List<JsonNode> committedAlerts(JobConfig cfg) {
        return BROKER.topics().values(cfg.alertsTopic()).stream().map(JsonReader::parse).toList();
    }

    /** The Idempotency-Key a committed alert's notification carries. */
    static String key(JsonNode a) {
        Alert alert = new Alert();
        alert.alertId = a.path("alert_id").asText();
        alert.status = a.path("status").asText();
        alert.occurrences = a.path("occurrences").asInt();
        alert.step = a.path("step").asLong();
        return WebhookRequest.idempotencyKey(alert);
    }

    static Set<String> keysOf(List<JsonNode> alerts, Set<String> severities) {
        return alerts.stream()
                .filter(a -> severities.contains(a.path("severity").asText()))
                .map(NotificationsITCase::key)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Waits until the job read every event and committed the checkpoint after it. */
    static void awaitAllCommitted(JobConfig cfg) throws Exception {
        BROKER.topics().awaitCommittedAtEnd(cfg.groupId(), cfg.eventsTopic(), DEADLINE);
    }

    @Test
    void shouldSendEachAlertAtOrAboveEachTargetsSeverityOnceInItsDocumentedShape()
            throws Exception {
        List<String> logged = Collections.synchronizedList(new ArrayList<>());
        AbstractAppender capture = captureLogs(logged);
        Map<String, Long> committedAt = new ConcurrentHashMap<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        try (HttpReceiver all = HttpReceiver.healthy();
                HttpReceiver critical = HttpReceiver.healthy();
                HttpReceiver slack = HttpReceiver.healthy();
                HttpReceiver pagerduty = HttpReceiver.healthy()) {
            Map<String, String> env =
                    Map.of(
                            AUTH_ENV, AUTH,
                            PAGERDUTY_ENV, ROUTING_KEY,
                            SLACK_ENV, slack.url(SLACK_PATH));
            NotifyConfig notify =
                    new NotifyConfig(
                            List.of(
                                    NotifyTarget.parse(
                                            "webhook="
                                                    + all.url("/all")
                                                    + ";min_severity=info;auth=env:"
                                                    + AUTH_ENV,
                                            env::get),
                                    NotifyTarget.parse(
                                            "webhook="
                                                    + critical.url("/critical")
                                                    + ";min_severity=critical",
                                            env::get),
                                    NotifyTarget.parse("slack=env:" + SLACK_ENV, env::get),
                                    NotifyTarget.parse(
                                            "pagerduty=env:"
                                                    + PAGERDUTY_ENV
                                                    + ";url="
                                                    + pagerduty.url("/v2/enqueue"),
                                            env::get)),
                            "http://grafana.example:3000",
                            DispatchSettings.defaults());
            JobConfig cfg = config("notify-shape", notify, null, null);
            // every fault kind: enough alerts for a latency percentile
            List<SimulatedRun> runs = KafkaITCase.runs(71_000);
            TopicAdmin.prepareTopics(cfg);
            Thread watcher = watchCommits(cfg, committedAt, watching);
            JobClient job = start(cfg);
            try {
                BROKER.topics().produce(cfg.eventsTopic(), KafkaITCase.keyed(runs, 0, 1));
                awaitAllCommitted(cfg);
                List<JsonNode> alerts = committedAlerts(cfg);
                Set<String> everyKey = keysOf(alerts, Set.of("info", "warning", "critical"));
                Set<String> criticalKeys = keysOf(alerts, Set.of("critical"));
                assertThat(criticalKeys).isNotEmpty();
                assertThat(everyKey.size()).isGreaterThan(criticalKeys.size());

                HttpReceiver.await(
                        "every alert at the webhooks",
                        DEADLINE,
                        () ->
                                all.acceptedBy(r -> r.header("Idempotency-Key"))
                                                .keySet()
                                                .equals(everyKey)
                                        && critical.acceptedBy(r -> r.header("Idempotency-Key"))
                                                .keySet()
                                                .equals(criticalKeys));
                HttpReceiver.await(
                        "the critical alerts at PagerDuty",
                        DEADLINE,
                        () -> pagerduty.requests().size() >= criticalKeys.size());
                // one more checkpoint round, then nothing may have come twice
                awaitNextCheckpoints(job, 3);
                assertThat(all.acceptedBy(r -> r.header("Idempotency-Key")))
                        .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
                assertThat(critical.acceptedBy(r -> r.header("Idempotency-Key")))
                        .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));

                // webhook: the alert JSON itself, its headers
                for (HttpReceiver.Request r : all.requests()) {
                    assertThat(r.path()).isEqualTo("/all");
                    assertThat(r.header("Content-Type")).isEqualTo("application/json");
                    assertThat(r.header("Authorization")).isEqualTo(AUTH);
                    JsonNode body = JsonReader.parse(r.body());
                    assertThat(key(body)).isEqualTo(r.header("Idempotency-Key"));
                    assertThat(body.path("run_id").asText()).isNotBlank();
                }
                assertThat(critical.requests())
                        .allSatisfy(r -> assertThat(r.header("Authorization")).isNull());

                // slack: warnings and criticals (its default), text + blocks; bursts folded
                assertThat(slack.requests()).isNotEmpty();
                for (HttpReceiver.Request r : slack.requests()) {
                    assertThat(r.path()).isEqualTo(SLACK_PATH);
                    JsonNode m = JsonReader.parse(r.body());
                    assertThat(m.path("text").asText()).isNotBlank();
                    assertThat(m.path("blocks").isArray()).isTrue();
                    for (JsonNode b : m.path("blocks")) {
                        assertThat(b.path("type").asText())
                                .isIn("header", "section", "context", "divider");
                    }
                }
                long slackWanted = keysOf(alerts, Set.of("warning", "critical")).size();
                assertThat((long) slack.requests().size()).isLessThanOrEqualTo(slackWanted);

                // pagerduty: Events API v2, criticals only, trigger/resolve with a dedup key
                for (HttpReceiver.Request r : pagerduty.requests()) {
                    JsonNode e = JsonReader.parse(r.body());
                    assertThat(e.path("routing_key").asText()).isEqualTo(ROUTING_KEY);
                    assertThat(e.path("event_action").asText()).isIn("trigger", "resolve");
                    assertThat(e.path("dedup_key").asText())
                            .isNotBlank()
                            .hasSizeLessThanOrEqualTo(255);
                    if (e.path("event_action").asText().equals("trigger")) {
                        JsonNode p = e.path("payload");
                        assertThat(p.path("summary").asText())
                                .isNotBlank()
                                .hasSizeLessThanOrEqualTo(1024);
                        assertThat(p.path("source").asText()).isNotBlank();
                        assertThat(p.path("severity").asText()).isEqualTo("critical");
                        assertThat(p.path("custom_details").isObject()).isTrue();
                    }
                }
                assertThat(pagerduty.acceptedBy(HttpReceiver.Request::body).size())
                        .isEqualTo(criticalKeys.size());

                printLatency(all, committedAt);
            } finally {
                watching.set(false);
                job.cancel().get(60, TimeUnit.SECONDS);
                watcher.join(10_000);
            }
        } finally {
            release(capture);
        }
        assertThat(logged)
                .isNotEmpty()
                .noneMatch(
                        l -> l.contains(ROUTING_KEY) || l.contains(AUTH) || l.contains(SLACK_PATH));
    }

    @Test
    void shouldDeliverEveryNotificationOnceAcrossATenSecondReceiverOutage() throws Exception {
        try (HttpReceiver flaky =
                HttpReceiver.answering(
                        sinceFirst ->
                                sinceFirst.compareTo(Duration.ofSeconds(10)) < 0 ? 500 : 200)) {
            DispatchSettings settings =
                    new DispatchSettings(
                            4,
                            Duration.ofSeconds(5),
                            Duration.ofMillis(200),
                            Duration.ofSeconds(2),
                            Duration.ofMinutes(2),
                            Duration.ofSeconds(1),
                            10_000,
                            false);
            JobConfig cfg =
                    config("notify-outage", everyAlertTo(flaky, "/hook", settings), null, null);
            JobClient job = start(cfg);
            try {
                BROKER.topics().produce(cfg.eventsTopic(), KafkaITCase.keyed(runs(72_000), 0, 1));
                awaitAllCommitted(cfg);
                Set<String> expected =
                        keysOf(committedAlerts(cfg), Set.of("info", "warning", "critical"));
                HttpReceiver.await(
                        "every notification through the outage",
                        DEADLINE,
                        () ->
                                flaky.acceptedBy(r -> r.header("Idempotency-Key"))
                                        .keySet()
                                        .equals(expected));
                awaitNextCheckpoints(job, 3);
                long refused = flaky.requests().stream().filter(r -> r.status() == 500).count();
                System.out.printf(
                        "receiver outage: %d notifications delivered, %d requests refused during the 10 s outage%n",
                        expected.size(), refused);
                assertThat(refused).isPositive();
                assertThat(flaky.acceptedBy(r -> r.header("Idempotency-Key")))
                        .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
                assertThat(BROKER.topics().values(cfg.notifyFailedTopic())).isEmpty();
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldDeadLetterWhatAReceiverRefusesAndSendTheLastAlertsOfABoundedRun() throws Exception {
        try (HttpReceiver refusing = HttpReceiver.answering(sinceFirst -> 404);
                HttpReceiver healthy = HttpReceiver.healthy()) {
            NotifyConfig notify =
                    new NotifyConfig(
                            List.of(
                                    NotifyTarget.parse(
                                            "webhook="
                                                    + healthy.url("/hook")
                                                    + ";min_severity=info",
                                            Map.<String, String>of()::get),
                                    NotifyTarget.parse(
                                            "webhook="
                                                    + refusing.url("/gone")
                                                    + ";min_severity=critical",
                                            Map.<String, String>of()::get)),
                            null,
                            DispatchSettings.defaults());
            JobConfig cfg =
                    JobConfig.builder(BROKER.bootstrapServers())
                            .topics(
                                    "notify-bounded.events",
                                    "notify-bounded.alerts",
                                    "notify-bounded.dead-letter")
                            .groupId("notify-bounded")
                            .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                            .checkpointInterval(Duration.ofMillis(300))
                            .stopAtEnd(true)
                            .transactionalIdPrefix("notify-bounded")
                            .notifications(notify)
                            .notifyTopics(
                                    "notify-bounded.notify-failed", "notify-bounded.notify-sent")
                            .build();
            TopicAdmin.prepareTopics(cfg);
            BROKER.topics().produce(cfg.eventsTopic(), KafkaITCase.keyed(runs(75_000), 0, 1));
            StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
            KafkaPipeline.define(env, cfg);
            // --stop-at-end: the job ends by itself, its last alerts committed by its final
            // checkpoint; by then they are sent
            env.execute("notify-bounded-itcase");

            List<JsonNode> alerts = committedAlerts(cfg);
            assertThat(healthy.acceptedBy(r -> r.header("Idempotency-Key")).keySet())
                    .isEqualTo(keysOf(alerts, Set.of("info", "warning", "critical")));
            Set<String> critical = keysOf(alerts, Set.of("critical"));
            assertThat(refusing.requests()).hasSize(critical.size());
            List<JsonNode> failed =
                    BROKER.topics().values(cfg.notifyFailedTopic()).stream()
                            .map(JsonReader::parse)
                            .toList();
            assertThat(failed).hasSize(critical.size());
            for (JsonNode f : failed) {
                assertThat(f.path("reason").asText()).contains("404").contains("not retried");
                assertThat(f.path("target").asText()).startsWith("webhook=http://127.0.0.1:");
                assertThat(f.path("attempts").asInt()).isEqualTo(1);
                assertThat(f.path("last_status").asInt()).isEqualTo(404);
                assertThat(critical).contains(f.path("idempotency_key").asText());
                assertThat(f.path("alert").path("alert_id").asText())
                        .isEqualTo(f.path("alert_id").asText());
            }
        }
    }

    @Test
    void shouldCommitAlertsAsFastWithAHangingReceiverAsWithAHealthyOne() throws Exception {
        try (HttpReceiver healthy = HttpReceiver.healthy();
                HttpReceiver hanging =
                        HttpReceiver.answering(sinceFirst -> HttpReceiver.Answer.HANG)) {
            double healthyMillis = alertLatency("notify-healthy", healthy, 73_000);
            double hangingMillis = alertLatency("notify-hanging", hanging, 73_000);
            System.out.printf(
                    "alerts topic, event produced -> alert committed, median: %.0f ms with a healthy receiver, %.0f ms with a hanging one%n",
                    healthyMillis, hangingMillis);
            assertThat(hanging.requests()).isNotEmpty();
            assertThat(hanging.requests()).allMatch(r -> r.status() == HttpReceiver.Answer.HANG);
            // the same pipeline, the same checkpoint interval: a hang costs less than two more
            // checkpoint rounds
            assertThat(hangingMillis).isLessThan(healthyMillis * 2 + 600);
        }
    }

    /**
     * Streams the runs' events in one go and returns the median time from the end of the send to
     * each alert being visible read_committed.
     */
    private static double alertLatency(String name, HttpReceiver receiver, long seed)
            throws Exception {
        DispatchSettings settings =
                DispatchSettings.defaults().withRequestTimeout(Duration.ofMinutes(5));
        JobConfig cfg = config(name, everyAlertTo(receiver, "/hook", settings), null, null);
        Map<String, Long> committedAt = new ConcurrentHashMap<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        TopicAdmin.prepareTopics(cfg);
        Thread watcher = watchCommits(cfg, committedAt, watching);
        JobClient job = start(cfg);
        try {
            // the job is up and reading before the clock starts (records of every run, so that
            // every partition has a committed offset to wait for)
            List<String[]> records = KafkaITCase.keyed(runs(seed), 0, 1);
            BROKER.topics().produce(cfg.eventsTopic(), records.subList(0, WARM_UP));
            awaitAllCommitted(cfg);
            long sent = System.nanoTime();
            BROKER.topics().produce(cfg.eventsTopic(), records.subList(WARM_UP, records.size()));
            awaitAllCommitted(cfg);
            int expected = committedAlerts(cfg).size();
            HttpReceiver.await(
                    "the watcher saw every alert", DEADLINE, () -> committedAt.size() >= expected);
            List<Long> lags =
                    committedAt.values().stream()
                            .map(t -> Math.max(0, t - sent) / 1_000_000)
                            .sorted()
                            .toList();
            return lags.get(lags.size() / 2);
        } finally {
            watching.set(false);
            job.cancel().get(60, TimeUnit.SECONDS);
            watcher.join(10_000);
        }
    }

    @Test
    void shouldSendNothingTwiceAcrossAKillAndRestore(@TempDir Path checkpoints) throws Exception {
        try (HttpReceiver receiver = HttpReceiver.healthy()) {
            NotifyConfig notify = everyAlertTo(receiver, "/hook", DispatchSettings.defaults());
            List<String[]> records = KafkaITCase.keyed(runs(74_000), 0, 1);
            JobConfig first = config("notify-restore", notify, checkpoints.toString(), null);
            JobClient job = start(first);
            // killed mid-stream: while alerts are raised, committed and sent
            BROKER.topics().produce(first.eventsTopic(), records.subList(0, records.size() / 2));
            HttpReceiver.await(
                    "some notifications before the kill",
                    DEADLINE,
                    () -> receiver.requests().size() >= 3);
            job.cancel().get(60, TimeUnit.SECONDS);
            int beforeKill = receiver.requests().size();
            Path latest = KafkaITCase.awaitCheckpoint(checkpoints, 1, Duration.ofSeconds(30));

            BROKER.topics()
                    .produce(
                            first.eventsTopic(),
                            records.subList(records.size() / 2, records.size()));
            JobConfig second =
                    config("notify-restore", notify, checkpoints.toString(), latest.toString());
            JobClient restored = start(second);
            try {
                awaitAllCommitted(second);
                Set<String> expected =
                        keysOf(committedAlerts(second), Set.of("info", "warning", "critical"));
                HttpReceiver.await(
                        "every notification after the restore",
                        DEADLINE,
                        () ->
                                receiver.acceptedBy(r -> r.header("Idempotency-Key"))
                                        .keySet()
                                        .equals(expected));
                awaitNextCheckpoints(restored, 3);
                System.out.printf(
                        "kill and restore: %d notifications before the kill, %d in all, %d expected%n",
                        beforeKill, receiver.requests().size(), expected.size());
                assertThat(receiver.acceptedBy(r -> r.header("Idempotency-Key")))
                        .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
            } finally {
                restored.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldNotSendAgainWhatWasDeliveredAfterTheRestoredCheckpoint() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.healthy();
                Admin admin =
                        Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()))) {
            admin.createTopics(
                            List.of(
                                    new NewTopic("notify-window.sent", 1, (short) 1),
                                    new NewTopic("notify-window.empty", 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            NotifyConfig notify = everyAlertTo(receiver, "/hook", DispatchSettings.defaults());
            SentNotificationLog.Location log =
                    new SentNotificationLog.Location(
                            BROKER.bootstrapServers(), Map.of(), "notify-window.sent");
            OperatorSubtaskState checkpoint;
            try (var h = harness(notify, log)) {
                h.open();
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-a", 10)));
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-b", 20)));
                checkpoint = h.snapshot(1L, 1L);
                HttpReceiver.await(
                        "nothing before the commit",
                        Duration.ZERO,
                        () -> receiver.requests().isEmpty());
                h.notifyOfCompletedCheckpoint(1L);
                HttpReceiver.await(
                        "both delivered",
                        DEADLINE,
                        () -> receiver.acceptedBy(r -> r.header("Idempotency-Key")).size() == 2);
                // the job dies here: checkpoint 1 still owes both notifications
            }
            try (var h = harness(notify, log)) {
                h.initializeState(checkpoint);
                h.open();
                h.processElement(new StreamRecord<>(TestAlerts.nonFinite("run-c", 30)));
                h.snapshot(2L, 2L);
                h.notifyOfCompletedCheckpoint(2L);
                HttpReceiver.await(
                        "the new alert delivered",
                        DEADLINE,
                        () -> receiver.acceptedBy(r -> r.header("Idempotency-Key")).size() == 3);
            }
            assertThat(receiver.acceptedBy(r -> r.header("Idempotency-Key")))
                    .hasSize(3)
                    .allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));

            // the same restore reading a log that shows nothing delivered sends both again: the log
            // is what prevented it
            try (var h =
                    harness(
                            notify,
                            new SentNotificationLog.Location(
                                    BROKER.bootstrapServers(), Map.of(), "notify-window.empty"))) {
                h.initializeState(checkpoint);
                h.open();
                HttpReceiver.await("sent again", DEADLINE, () -> receiver.requests().size() == 5);
            }
        }
    }

    private static OneInputStreamOperatorTestHarness<Alert, FailedNotification> harness(
            NotifyConfig notify, SentNotificationLog.Location log) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new DeliverNotificationsOperator(notify, log, true));
    }

    /** Waits until the job has completed {@code n} more checkpoints. */
    private static void awaitNextCheckpoints(JobClient job, int n) throws Exception {
        long before = completedCheckpoints(job);
        HttpReceiver.await(
                n + " more checkpoints", DEADLINE, () -> completedCheckpoints(job) >= before + n);
    }

    private static long completedCheckpoints(JobClient job) {
        try {
            return cluster.getExecutionGraph(job.getJobID())
                    .get(30, TimeUnit.SECONDS)
                    .getCheckpointStatsSnapshot()
                    .getCounts()
                    .getNumberOfCompletedCheckpoints();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A read_committed reader noting when each alert (by idempotency key) became visible. */
    private static Thread watchCommits(
            JobConfig cfg, Map<String, Long> committedAt, AtomicBoolean watching) {
        Thread t =
                new Thread(
                        () -> {
                            try (KafkaConsumer<String, String> c =
                                    io.trainwatch.kafka.KafkaClients.readCommitted(
                                            cfg.bootstrapServers(), cfg.groupId() + "-watcher")) {
                                c.subscribe(List.of(cfg.alertsTopic()));
                                while (watching.get()) {
                                    for (ConsumerRecord<String, String> r :
                                            c.poll(Duration.ofMillis(20))) {
                                        committedAt.putIfAbsent(
                                                key(JsonReader.parse(r.value())),
                                                System.nanoTime());
                                    }
                                }
                            }
                        },
                        "commit-watcher");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void printLatency(HttpReceiver receiver, Map<String, Long> committedAt) {
        List<Long> lags = new ArrayList<>();
        Map<String, Long> arrived = new HashMap<>();
        for (HttpReceiver.Request r : receiver.requests()) {
            arrived.putIfAbsent(r.header("Idempotency-Key"), r.arrivedNanos());
        }
        arrived.forEach(
                (k, t) -> {
                    Long c = committedAt.get(k);
                    if (c != null) {
                        lags.add((t - c) / 1_000_000);
                    }
                });
        Collections.sort(lags);
        assertThat(lags).isNotEmpty();
        long p50 = lags.get(lags.size() / 2);
        long p99 = lags.get((int) Math.ceil(lags.size() * 0.99) - 1);
        System.out.printf(
                "notification latency, alert visible read_committed -> receiver: %d notifications, p50 %d ms, p99 %d ms, max %d ms"
                        + " (negative: the receiver had it before a 20 ms poll saw the commit)%n",
                lags.size(), p50, p99, lags.get(lags.size() - 1));
        assertThat(p99).isLessThanOrEqualTo(1000);
    }

    private static AbstractAppender captureLogs(List<String> lines) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        AbstractAppender appender =
                new AbstractAppender("notify-capture", null, null, true, Property.EMPTY_ARRAY) {
                    @Override
                    public void append(LogEvent event) {
                        lines.add(
                                event.getMessage().getFormattedMessage()
                                        + (event.getThrown() == null
                                                ? ""
                                                : " " + event.getThrown()));
                    }
                };
        appender.start();
        // everything at INFO and above to the capture only: the console stays as quiet as usual
        ctx.getConfiguration().getRootLogger().removeAppender(CONSOLE);
        ctx.getConfiguration().getRootLogger().addAppender(appender, Level.ALL, null);
        ctx.getConfiguration().getRootLogger().setLevel(Level.INFO);
        ctx.updateLoggers();
        return appender;
    }

    private static void release(AbstractAppender appender) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().getRootLogger().removeAppender(appender.getName());
        ctx.getConfiguration()
                .getRootLogger()
                .addAppender(ctx.getConfiguration().getAppender(CONSOLE), null, null);
        ctx.getConfiguration().getRootLogger().setLevel(Level.WARN);
        ctx.updateLoggers();
        appender.stop();
    }
}
