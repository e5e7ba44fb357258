package io.trainwatch.demo;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.event.JsonReader;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.KafkaSerde;
import io.trainwatch.job.NotifyConfig;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.kafka.KafkaClients;
import io.trainwatch.kafka.RateLimitedProducer;
import io.trainwatch.kafka.TopicAdmin;
import io.trainwatch.notify.DispatchSettings;
import io.trainwatch.notify.NotifyTarget;
import io.trainwatch.report.AlertTally;
import io.trainwatch.report.HtmlReport;
import io.trainwatch.report.JsonlReportReader;
import io.trainwatch.report.ReportData;
import io.trainwatch.simulate.SimulatedRun;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;

import java.io.BufferedWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The demo's first part: a real Kafka broker in-process (and PostgreSQL, unless told otherwise),
 * the live job on a local Flink, the {@link DemoRuns} streamed at live speed, the job's own alerts
 * read back (read_committed) and printed as they arrive, then a summary, the rows the job wrote to
 * PostgreSQL, and an HTML report of the series and alerts read.
 */
public final class LiveDemo {
    /** Producer settings: small batches, and a send that gives up after 30 s without a broker. */
    static final Map<String, Object> PRODUCER_SETTINGS =
            Map.of("linger.ms", 5, "max.block.ms", 30_000);

    private final Path out;
    private final int rate;
    private final boolean follow;
    private final boolean postgres;
    private final PostgresConfig externalPostgres;
    private final PrintStream console;
    private final NotifyConfig userNotify;

    /**
     * @param out where report.html goes
     * @param rate events per second streamed
     * @param follow keep reading alerts after the runs are done
     * @param postgres write to PostgreSQL as well
     * @param externalPostgres the PostgreSQL to write to; null: one started in-process
     * @param userNotify notification targets given with --notify, besides the demo's own webhook
     *     receiver; may be null
     */
    public LiveDemo(
            Path out,
            int rate,
            boolean follow,
            boolean postgres,
            PostgresConfig externalPostgres,
            NotifyConfig userNotify,
            PrintStream console) {
        this.out = out;
        this.rate = rate;
        this.follow = follow;
        this.postgres = postgres;
        this.externalPostgres = externalPostgres;
        this.console = console;
        this.userNotify = userNotify;
    }

    public void run() throws Exception {
        long t0 = System.nanoTime();
        // PostgreSQL starts beside the broker (both take a few seconds), so the first alert is not
        // delayed by it
        CompletableFuture<DemoPostgres> pg =
                postgres
                        ? CompletableFuture.supplyAsync(
                                () -> DemoPostgres.start(externalPostgres, t0))
                        : CompletableFuture.completedFuture(null);
        try (DemoPostgres.Handle handle = new DemoPostgres.Handle(pg)) {
            run(t0, handle);
        }
    }

    private void run(long t0, DemoPostgres.Handle pgHandle) throws Exception {
        console.printf("[1/2] starting a Kafka broker in-process (KRaft)... ");
        console.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
                DemoWebhookReceiver receiver = DemoWebhookReceiver.start(console, t0)) {
            console.printf("ready at %s (%.1f s)%n", kafka.bootstrapServers(), seconds(t0));
            DemoPostgres pg = pgHandle.await();
            if (pg != null) {
                console.printf(
                        "      PostgreSQL %sat %s (%.1f s), tables from docker/postgres/init.sql%n",
                        pg.server() != null ? "16 in-process " : "",
                        pg.cfg().printableUrl(),
                        pg.readySeconds());
                if (pg.roleWarning() != null) {
                    console.printf("      warning: %s%n", pg.roleWarning());
                }
            }
            JobConfig cfg =
                    JobConfig.builder(kafka.bootstrapServers())
                            .topics(
                                    "trainwatch.events",
                                    "trainwatch.alerts",
                                    "trainwatch.dead-letter")
                            .seriesTopic("trainwatch.series")
                            .groupId("trainwatch-demo")
                            .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                            .checkpointDir(
                                    Files.createTempDirectory("trainwatch-demo-checkpoints")
                                            .toString())
                            .checkpointInterval(Duration.ofSeconds(1))
                            .transactionalIdPrefix("trainwatch-demo")
                            .postgres(pg == null ? null : pg.cfg())
                            .notifications(notifyConfig(receiver))
                            .build();
            TopicAdmin.prepareTopics(cfg);
            StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
            KafkaPipeline.define(env, cfg);
            JobClient job = env.executeAsync("trainwatch-demo");
            console.printf(
                    "      job running on a local Flink (parallelism 2, checkpoint every 1 s): %s -> %s, %s%s%n",
                    cfg.eventsTopic(),
                    cfg.alertsTopic(),
                    cfg.deadLetterTopic(),
                    pg == null ? "" : ", PostgreSQL");
            console.printf(
                    "      notifications: %s%n",
                    cfg.notifications().targets().stream().map(Object::toString).toList());

            List<String[]> records = DemoRuns.records();
            RateLimitedProducer producer =
                    new RateLimitedProducer(
                            kafka.bootstrapServers(), cfg.eventsTopic(), rate, PRODUCER_SETTINGS);
            Thread sending = new Thread(() -> sendAll(producer, records), "demo-producer");
            sending.setDaemon(true);
            sending.start();
            console.printf(
                    "      streaming %d events of %d runs at %d events/s%n%n",
                    records.size(), DemoRuns.FAULTS.size(), rate);

            int alerts = 0;
            int dead = 0;
            double firstAlert = -1;
            ReportData.Builder report = new ReportData.Builder();
            AlertTally tally = new AlertTally();
            try (KafkaConsumer<String, String> consumer =
                    KafkaClients.readCommitted(
                            kafka.bootstrapServers(), "trainwatch-demo-reader")) {
                consumer.subscribe(
                        List.of(cfg.alertsTopic(), cfg.deadLetterTopic(), cfg.seriesTopic()));
                long lastProgress = 0;
                boolean caughtUp = false;
                int quietPolls = 0;
                // and until the run that went silent is called so (its threshold is seconds)
                long silentUntil = System.nanoTime() + 90_000_000_000L;
                boolean silentSeen = false;
                while (follow
                        || !caughtUp
                        || quietPolls < 3
                        || (!silentSeen && System.nanoTime() < silentUntil)) {
                    var polled = consumer.poll(Duration.ofMillis(250));
                    quietPolls = polled.isEmpty() ? quietPolls + 1 : 0;
                    for (ConsumerRecord<String, String> r : polled) {
                        if (r.topic().equals(cfg.seriesTopic())) {
                            report.addPoint(
                                    r.key(), JsonlReportReader.point(JsonReader.parse(r.value())));
                            continue;
                        }
                        if (r.topic().equals(cfg.deadLetterTopic())) {
                            dead++;
                            Header reason = r.headers().lastHeader(KafkaSerde.HEADER_REASON);
                            console.printf(
                                    "  %6.1fs DEAD-LETTER %s%n",
                                    seconds(t0),
                                    reason == null
                                            ? ""
                                            : new String(reason.value(), StandardCharsets.UTF_8));
                            continue;
                        }
                        JsonNode a = JsonReader.parse(r.value());
                        report.addAlert(JsonlReportReader.alert(a));
                        alerts++;
                        tally.add(a);
                        silentSeen |= "RUN_SILENT".equals(a.path("kind").asText());
                        if (firstAlert < 0) {
                            firstAlert = seconds(t0);
                        }
                        printAlert(t0, a);
                    }
                    if (System.nanoTime() - lastProgress > 2_000_000_000L) {
                        lastProgress = System.nanoTime();
                        console.printf(
                                "  %6.1fs progress: %d/%d events sent, %d alerts, %d dead letters%n",
                                seconds(t0), producer.sent(), records.size(), alerts, dead);
                    }
                    if (!sending.isAlive() && !caughtUp) {
                        caughtUp =
                                TopicAdmin.committedAtEnd(
                                        kafka.bootstrapServers(), cfg.groupId(), cfg.eventsTopic());
                    }
                }
            } finally {
                job.cancel().get();
            }
            console.printf(
                    "%n  summary: %d events streamed, %d alerts, %d dead letters, first alert %.1f s after start, all in %.1f s%n",
                    records.size(), alerts, dead, firstAlert, seconds(t0));
            tally.print(console, "    ");
            console.printf(
                    "  notifications: %d received by the webhook receiver (each Idempotency-Key once; %d repeat(s))%n",
                    receiver.received(), receiver.repeated());
            if (pg != null) {
                // every row is in: the job's offsets reached the end at a checkpoint, and the sinks
                // flush at each checkpoint
                long[] rows =
                        pg.countDemoRows(
                                DemoRuns.runs().stream().map(SimulatedRun::runId).toList(),
                                cfg.eventsTopic());
                console.printf(
                        Locale.ROOT,
                        "  PostgreSQL: %,d series rows, %d alerts, %d dead letters (read back from %s)%n",
                        rows[0],
                        rows[1],
                        rows[2],
                        pg.cfg().printableUrl());
            }
            // the same charts as the Grafana run dashboard, without Grafana: from the series and
            // alerts topics just read
            ReportData data = report.build();
            Path html = out.resolve("report.html");
            try (BufferedWriter w = Files.newBufferedWriter(html, StandardCharsets.UTF_8)) {
                HtmlReport.write(
                        data,
                        "the demo's topics " + cfg.seriesTopic() + " and " + cfg.alertsTopic(),
                        w);
            }
            console.printf(
                    "  report: %d runs, %d steps, %d alerts -> %s%n",
                    data.runs().size(), data.steps(), data.alerts(), html.toAbsolutePath());
        }
    }

    /**
     * Sends every record at the producer's rate, then waits for their acknowledgements and closes
     * it.
     */
    static void sendAll(RateLimitedProducer producer, List<String[]> records) {
        try (producer) {
            for (String[] kv : records) {
                producer.send(kv[0], kv[1]);
            }
            producer.flush();
        }
    }

    private void printAlert(long t0, JsonNode a) {
        console.printf(
                "  %6.1fs %-8s %-19s %-8s %-36s step %-5d %s%n",
                seconds(t0),
                a.path("status").asText().toUpperCase(Locale.ROOT),
                a.path("kind").asText(),
                a.path("severity").asText(),
                a.path("run_id").asText(),
                // the onset as the run's logs number it (display_step is step + the run's
                // step_base)
                a.path("onset_step").asLong()
                        + a.path("display_step").asLong(a.path("step").asLong())
                        - a.path("step").asLong(),
                a.path("message").asText());
        if (!"resolved".equals(a.path("status").asText())) {
            console.printf("            why: %s%n", a.path("diagnosis").asText());
            JsonNode s = a.path("suggestion");
            console.printf(
                    "            fix: %s%s%n",
                    s.path("action").asText(),
                    s.has("change") ? " - " + s.path("change").asText() : "");
        }
    }

    /**
     * The demo's own webhook receiver (warnings and criticals, as a team channel would take them),
     * then the targets given with --notify.
     */
    private NotifyConfig notifyConfig(DemoWebhookReceiver receiver) {
        List<NotifyTarget> targets = new ArrayList<>();
        targets.add(
                NotifyTarget.parse(
                        "webhook=" + receiver.url() + ";min_severity=warning", System::getenv));
        if (userNotify == null) {
            return new NotifyConfig(targets, null, DispatchSettings.defaults());
        }
        targets.addAll(userNotify.targets());
        return new NotifyConfig(targets, userNotify.grafanaUrl(), userNotify.settings());
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
