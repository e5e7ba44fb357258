package io.trainwatch.cli;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code demo}: the README's first command. A real Kafka broker and a real PostgreSQL in-process, the live job,
 * realistic training runs with the faults users lose GPU-days to streamed at live speed, every alert printed as the
 * job commits it, and the rows the job wrote to PostgreSQL counted; then a preview of the schedule engine on the
 * bundled example specs.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs trainwatch on its embedded defaults: starts a Kafka broker and PostgreSQL in-process, runs the job",
                "on a local Flink, streams six realistic runs (healthy, a corrupted batch, a warmup blow-up, a gradient explosion,",
                "a scheduler stepped per epoch, a resume that resets the scheduler), prints each alert as it arrives",
                "(read_committed) and the rows written to PostgreSQL. Then previews the schedule engine on the bundled",
                "example specs (one SVG each)."})
final class DemoCommand implements Callable<Integer> {
    /** The runs the demo streams: a fault each, with a fixed seed so the demo is the same every time. */
    static final java.util.List<io.trainwatch.simulate.Fault> DEMO_FAULTS = java.util.List.of(
            io.trainwatch.simulate.Fault.NONE, io.trainwatch.simulate.Fault.NAN_BAD_BATCH, io.trainwatch.simulate.Fault.WARMUP_BLOWUP,
            io.trainwatch.simulate.Fault.GRAD_GROWTH, io.trainwatch.simulate.Fault.LR_STEPPED_PER_EPOCH,
            io.trainwatch.simulate.Fault.LR_RESTARTED_ON_RESUME);
    static final long DEMO_SEED = 20_261_121L;
    /** The healthy run's seed: one whose declared schedule is Hugging Face cosine with warmup, the most common real setup. */
    static final long DEMO_HEALTHY_SEED = 20_261_172L;
    static final String EXAMPLES = "/examples/schedules/";

    @Option(names = "--out", defaultValue = "trainwatch-demo", paramLabel = "DIR", description = "Where to write report.html (the runs' charts and alerts) and the schedule SVGs. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Optimizer steps to evaluate per schedule. Default: ${DEFAULT-VALUE}.")
    long steps;

    @Option(names = "--rate", defaultValue = "1500", paramLabel = "EVENTS_PER_S", description = "How fast the demo runs are streamed. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(names = "--follow", description = "Keep reading alerts after the demo runs are done (Ctrl-C to stop).")
    boolean follow;

    @Option(names = io.trainwatch.job.JobConfig.JDBC_URL, paramLabel = "jdbc:postgresql://HOST:PORT/DB", description = {"Write to this PostgreSQL instead of",
            "starting one in-process. User and password from the environment: " + io.trainwatch.job.PostgresConfig.USER_ENV + ", "
            + io.trainwatch.job.PostgresConfig.PASSWORD_ENV + "."})
    String jdbcUrl;

    @Option(names = io.trainwatch.job.JobConfig.BOOTSTRAP_SERVERS, paramLabel = "HOST:PORT", description = {"Only produce: stream the demo runs, stamped",
            "with the current time, to this Kafka (e.g. the Docker Compose stack's, whose job does the monitoring) and exit."})
    String bootstrapServers;

    @Option(names = io.trainwatch.job.JobConfig.EVENTS_TOPIC, defaultValue = "trainwatch.events", paramLabel = "TOPIC", description = "With "
            + io.trainwatch.job.JobConfig.BOOTSTRAP_SERVERS + ": the topic the job reads. Default: ${DEFAULT-VALUE}.")
    String eventsTopic;

    @Option(names = "--no-postgres", description = "Do not write to PostgreSQL (Kafka only).")
    boolean noPostgres;

    /** Where the credentials for --jdbc-url come from. */
    java.util.Map<String, String> environment = System.getenv();

    PrintStream console = System.out;

    public Integer call() throws Exception {
        if (steps < 2) {
            throw new UserInputException("--steps must be >= 2, got " + steps);
        }
        if (bootstrapServers != null) {
            return produceOnly();
        }
        Files.createDirectories(out);
        monitorDemoRuns();
        List<String> names = exampleNames();
        console.printf("%n[2/2] the schedule engine on %d example specs, %d optimizer steps each%n", names.size(), steps);
        console.printf(Locale.ROOT, "%-3s %-30s %-28s %12s %12s %12s %12s%n", "#", "example", "scheduler", "lr@0", "lr@10%", "lr@50%", "lr@end");
        StringBuilder html = new StringBuilder("<!doctype html><meta charset=\"utf-8\"><title>trainwatch schedules</title><h1>trainwatch: example schedules</h1>\n");
        int i = 0;
        for (String name : names) {
            i++;
            String json = resource(EXAMPLES + name);
            DeclaredSchedule s = ScheduleSpec.parse(json);
            String base = name.replace(".json", "");
            Files.writeString(out.resolve(base + ".svg"), ScheduleCommand.chart(s, base, steps).render());
            html.append("<h2>").append(base).append("</h2><pre>").append(json.replace("<", "&lt;")).append("</pre><img src=\"").append(base).append(".svg\">\n");
            console.printf(Locale.ROOT, "%-3d %-30s %-28s %12s %12s %12s %12s%n", i, base, s.scheduler() + (s.adaptive() ? " (range)" : ""),
                    fmt(s, 0), fmt(s, steps / 10), fmt(s, steps / 2), fmt(s, steps - 1));
        }
        Files.writeString(out.resolve("index.html"), html.toString());
        console.printf("%nwrote %d SVG charts and %s%n", names.size(), out.resolve("index.html").toAbsolutePath());
        console.printf("try: java -jar target/trainwatch.jar schedule --spec examples/schedules/hf-cosine.json --steps 20%n");
        return 0;
    }

    /**
     * Part 1: a real Kafka broker in-process, the live job on a local Flink, the runs streamed at live speed, and
     * the job's own alerts read back (read_committed) and printed as they arrive.
     */
    private void monitorDemoRuns() throws Exception {
        long t0 = System.nanoTime();
        if (noPostgres && jdbcUrl != null) {
            throw new UserInputException("--no-postgres and " + io.trainwatch.job.JobConfig.JDBC_URL + " exclude each other");
        }
        io.trainwatch.job.PostgresConfig external = PostgresTarget.config(jdbcUrl, environment);
        // PostgreSQL starts beside the broker (both take a few seconds), so the first alert is not delayed by it
        java.util.concurrent.CompletableFuture<DemoPostgres> postgres = noPostgres ? java.util.concurrent.CompletableFuture.completedFuture(null)
                : java.util.concurrent.CompletableFuture.supplyAsync(() -> DemoPostgres.start(external, t0));
        try (DemoPostgresHandle pg = new DemoPostgresHandle(postgres)) {
            monitorDemoRuns(t0, pg);
        }
    }

    private void monitorDemoRuns(long t0, DemoPostgresHandle pgHandle) throws Exception {
        console.printf("[1/2] starting a Kafka broker in-process (KRaft)... ");
        console.flush();
        try (io.trainwatch.embedded.EmbeddedKafka kafka = io.trainwatch.embedded.EmbeddedKafka.start()) {
            console.printf("ready at %s (%.1f s)%n", kafka.bootstrapServers(), seconds(t0));
            DemoPostgres pg = pgHandle.await();
            if (pg != null) {
                console.printf("      PostgreSQL %sat %s (%.1f s), tables from docker/postgres/init.sql%n", pg.server() != null ? "16 in-process " : "",
                        pg.cfg().printableUrl(), pg.readySeconds());
                if (pg.roleWarning() != null) {
                    console.printf("      warning: %s%n", pg.roleWarning());
                }
            }
            Path checkpoints = Files.createTempDirectory("trainwatch-demo-checkpoints");
            io.trainwatch.job.JobConfig cfg = new io.trainwatch.job.JobConfig(kafka.bootstrapServers(), "trainwatch.events", "trainwatch.alerts",
                    "trainwatch.dead-letter", "trainwatch.series", "trainwatch-demo", io.trainwatch.job.JobConfig.StartingOffsets.EARLIEST,
                    checkpoints.toString(), java.time.Duration.ofSeconds(1), 2, java.util.Map.of(), true, 2, null, false, "trainwatch-demo",
                    io.trainwatch.threshold.Thresholds.DEFAULTS, false, pg == null ? null : pg.cfg(), 1);
            io.trainwatch.job.KafkaPipeline.prepareTopics(cfg);
            var env = io.trainwatch.job.KafkaPipeline.environment(cfg);
            io.trainwatch.job.KafkaPipeline.define(env, cfg);
            var job = env.executeAsync("trainwatch-demo");
            console.printf("      job running on a local Flink (parallelism 2, checkpoint every 1 s): %s -> %s, %s%s%n",
                    cfg.eventsTopic(), cfg.alertsTopic(), cfg.deadLetterTopic(), pg == null ? "" : ", PostgreSQL");

            List<String[]> records = demoRecords();
            Thread producer = new Thread(() -> produce(kafka.bootstrapServers(), cfg.eventsTopic(), records), "demo-producer");
            producer.setDaemon(true);
            producer.start();
            console.printf("      streaming %d events of %d runs at %d events/s%n%n", records.size(), DEMO_FAULTS.size(), rate);

            int alerts = 0;
            int dead = 0;
            double firstAlert = -1;
            io.trainwatch.report.ReportData.Builder report = new io.trainwatch.report.ReportData.Builder();
            java.util.Map<String, Integer> byKind = new java.util.TreeMap<>();
            try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(java.util.Map.of(
                    "bootstrap.servers", kafka.bootstrapServers(), "isolation.level", "read_committed", "group.id", "trainwatch-demo-reader",
                    "auto.offset.reset", "earliest", "key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName(),
                    "value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName()))) {
                consumer.subscribe(List.of(cfg.alertsTopic(), cfg.deadLetterTopic(), cfg.seriesTopic()));
                long lastProgress = 0;
                boolean caughtUp = false;
                int quietPolls = 0;
                while (follow || !caughtUp || quietPolls < 3) {
                    var polled = consumer.poll(java.time.Duration.ofMillis(250));
                    quietPolls = polled.isEmpty() ? quietPolls + 1 : 0;
                    for (var r : polled) {
                        if (r.topic().equals(cfg.seriesTopic())) {
                            report.addPoint(r.key(), io.trainwatch.report.JsonlReportReader.point(io.trainwatch.event.JsonReader.parse(r.value())));
                            continue;
                        }
                        if (r.topic().equals(cfg.deadLetterTopic())) {
                            dead++;
                            var reason = r.headers().lastHeader(io.trainwatch.job.KafkaSerde.HEADER_REASON);
                            console.printf("  %6.1fs DEAD-LETTER %s%n", seconds(t0), reason == null ? "" : new String(reason.value(), java.nio.charset.StandardCharsets.UTF_8));
                            continue;
                        }
                        var a = io.trainwatch.event.JsonReader.parse(r.value());
                        report.addAlert(io.trainwatch.report.JsonlReportReader.alert(a));
                        alerts++;
                        byKind.merge(a.path("kind").asText() + " " + a.path("severity").asText() + " (" + a.path("status").asText() + ")", 1, Integer::sum);
                        if (firstAlert < 0) {
                            firstAlert = seconds(t0);
                        }
                        printAlert(t0, a);
                    }
                    if (System.nanoTime() - lastProgress > 2_000_000_000L) {
                        lastProgress = System.nanoTime();
                        console.printf("  %6.1fs progress: %d/%d events sent, %d alerts, %d dead letters%n", seconds(t0), sent.get(), records.size(), alerts, dead);
                    }
                    if (!producer.isAlive() && !caughtUp) {
                        caughtUp = committedAtEnd(kafka.bootstrapServers(), cfg.groupId(), cfg.eventsTopic());
                    }
                }
            } finally {
                job.cancel().get();
            }
            console.printf("%n  summary: %d events streamed, %d alerts, %d dead letters, first alert %.1f s after start, all in %.1f s%n",
                    records.size(), alerts, dead, firstAlert, seconds(t0));
            byKind.forEach((k, n) -> console.printf("    %-44s %d%n", k, n));
            if (pg != null) {
                // every row is in: the job's offsets reached the end at a checkpoint, and the sinks flush at each checkpoint
                long[] rows = pg.countDemoRows(demoRuns().stream().map(io.trainwatch.simulate.SimulatedRun::runId).toList(), cfg.eventsTopic());
                console.printf(Locale.ROOT, "  PostgreSQL: %,d series rows, %d alerts, %d dead letters (read back from %s)%n", rows[0], rows[1], rows[2],
                        pg.cfg().printableUrl());
            }
            // the same charts as the Grafana run dashboard, without Grafana: from the series and alerts topics just read
            io.trainwatch.report.ReportData data = report.build();
            Path html = out.resolve("report.html");
            try (var w = Files.newBufferedWriter(html, StandardCharsets.UTF_8)) {
                io.trainwatch.report.HtmlReport.write(data, "the demo's topics " + cfg.seriesTopic() + " and " + cfg.alertsTopic(), w);
            }
            console.printf("  report: %d runs, %d steps, %d alerts -> %s%n", data.runs().size(), data.steps(), data.alerts(), html.toAbsolutePath());
        }
    }

    /**
     * Producer only, for a job running elsewhere (the Docker Compose stack): the demo runs with every event time set
     * to now (the dashboards show the last hours), at --rate, to --events-topic; the malformed records go as they are.
     */
    private int produceOnly() throws Exception {
        long t0 = System.nanoTime();
        List<String[]> records = demoRecords();
        List<com.fasterxml.jackson.databind.node.ObjectNode> timed = new ArrayList<>();
        long last = Long.MIN_VALUE;
        for (String[] kv : records) {
            com.fasterxml.jackson.databind.node.ObjectNode o = null;
            try {
                if (io.trainwatch.event.JsonReader.parse(kv[1]) instanceof com.fasterxml.jackson.databind.node.ObjectNode n && n.path("time").isNumber()) {
                    o = n;
                    last = Math.max(last, n.get("time").asLong());
                }
            } catch (RuntimeException malformed) {
                // sent as it is, for the job to dead-letter
            }
            timed.add(o);
        }
        // the runs keep their own spacing (half a second per step), shifted so that they end now
        long shift = last == Long.MIN_VALUE ? 0 : System.currentTimeMillis() - last;
        List<String[]> stamped = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            var o = timed.get(i);
            if (o != null) {
                o.put("time", o.get("time").asLong() + shift);
            }
            stamped.add(o == null ? records.get(i) : new String[]{records.get(i)[0], o.toString()});
        }
        createTopicIfMissing();
        console.printf("demo producer: streaming %d events of %d runs and 3 malformed records to %s %s at %d events/s%n",
                stamped.size() - 3, DEMO_FAULTS.size(), bootstrapServers, eventsTopic, rate);
        var failure = new java.util.concurrent.atomic.AtomicReference<RuntimeException>();
        Thread producer = new Thread(() -> {
            try {
                produce(bootstrapServers, eventsTopic, stamped);
            } catch (RuntimeException e) {
                failure.set(e);
            }
        }, "demo-producer");
        producer.start();
        while (producer.isAlive()) {
            producer.join(2000);
            console.printf("  %6.1fs progress: %d/%d events sent%n", seconds(t0), sent.get(), stamped.size());
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending to Kafka at " + bootstrapServers + " failed after " + sent.get() + " events: " + failure.get().getMessage());
        }
        console.printf("done: %d events sent in %.1f s; the job's alerts go to its alerts topic, its series and alerts to PostgreSQL (Grafana)%n",
                sent.get(), seconds(t0));
        return 0;
    }

    /** The stack's job creates its topics when it starts; the producer may come first, so it creates the events topic (broker defaults). */
    private void createTopicIfMissing() throws InterruptedException {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(java.util.Map.of("bootstrap.servers", bootstrapServers,
                "request.timeout.ms", 15_000, "default.api.timeout.ms", 15_000))) {
            if (!admin.listTopics().names().get(15, java.util.concurrent.TimeUnit.SECONDS).contains(eventsTopic)) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(eventsTopic, java.util.Optional.empty(), java.util.Optional.empty())))
                        .all().get(15, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (!(cause instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException("cannot reach Kafka at " + bootstrapServers + " to create " + eventsTopic + " within 15 s ("
                        + cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()) + ")");
            }
        }
    }

    /** The PostgreSQL the demo writes to: started in-process (server not null), or the one given with --jdbc-url. */
    record DemoPostgres(io.trainwatch.job.PostgresConfig cfg, io.trainwatch.embedded.EmbeddedPostgres server, String roleWarning, double readySeconds) {
        static DemoPostgres start(io.trainwatch.job.PostgresConfig external, long t0) {
            io.trainwatch.embedded.EmbeddedPostgres server = null;
            try {
                io.trainwatch.job.PostgresConfig cfg = external;
                if (cfg == null) {
                    server = io.trainwatch.embedded.EmbeddedPostgres.start();
                    cfg = new io.trainwatch.job.PostgresConfig(server.jdbcUrl(), io.trainwatch.embedded.EmbeddedPostgres.USER, null);
                }
                io.trainwatch.job.PostgresSchema.Result schema;
                try {
                    schema = io.trainwatch.job.PostgresSchema.prepare(cfg);
                } catch (IllegalStateException e) {
                    throw new UserInputException(e.getMessage());
                }
                return new DemoPostgres(cfg, server, schema.roleWarning(), seconds(t0));
            } catch (IOException | RuntimeException e) {
                closeQuietly(server);
                throw e instanceof RuntimeException r ? r : new java.io.UncheckedIOException("starting PostgreSQL in-process failed: " + e.getMessage(), (IOException) e);
            }
        }

        /** Series rows and alerts of the demo's runs, and dead letters of its events topic. */
        long[] countDemoRows(List<String> runIds, String eventsTopic) throws java.sql.SQLException {
            try (java.sql.Connection c = io.trainwatch.job.PostgresSchema.connect(cfg)) {
                java.sql.Array ids = c.createArrayOf("text", runIds.toArray());
                return new long[]{count(c, "SELECT count(*) FROM trainwatch_series WHERE run_id = ANY(?)", ids),
                        count(c, "SELECT count(*) FROM trainwatch_alerts WHERE run_id = ANY(?)", ids),
                        count(c, "SELECT count(*) FROM trainwatch_dead_letters WHERE source LIKE ?", eventsTopic + "-%")};
            }
        }

        private static long count(java.sql.Connection c, String sql, Object parameter) throws java.sql.SQLException {
            try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setObject(1, parameter);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }
    }

    /** Closes the in-process PostgreSQL however the demo ends, once it has started (or failed to). */
    private record DemoPostgresHandle(java.util.concurrent.CompletableFuture<DemoPostgres> future) implements AutoCloseable {
        DemoPostgres await() {
            try {
                return future.join();
            } catch (java.util.concurrent.CompletionException e) {
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

    private static void closeQuietly(io.trainwatch.embedded.EmbeddedPostgres server) {
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                System.err.println("warning: stopping the in-process PostgreSQL failed: " + e.getMessage());
            }
        }
    }

    private void printAlert(long t0, com.fasterxml.jackson.databind.JsonNode a) {
        console.printf("  %6.1fs %-8s %-19s %-8s %-36s step %-5d %s%n", seconds(t0), a.path("status").asText().toUpperCase(Locale.ROOT),
                a.path("kind").asText(), a.path("severity").asText(), a.path("run_id").asText(), a.path("onset_step").asLong(), a.path("message").asText());
        if (!"resolved".equals(a.path("status").asText())) {
            console.printf("            why: %s%n", a.path("diagnosis").asText());
            var s = a.path("suggestion");
            console.printf("            fix: %s%s%n", s.path("action").asText(), s.has("change") ? " - " + s.path("change").asText() : "");
        }
    }

    /** The demo's runs, keyed by run_id and interleaved as a shared topic carries them, plus three malformed records. */
    static List<String[]> demoRecords() {
        List<List<String>> runs = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (io.trainwatch.simulate.SimulatedRun run : demoRuns()) {
            runs.add(run.events());
            ids.add(run.runId());
        }
        List<String[]> out = new ArrayList<>();
        for (int i = 0, more = 1; more > 0; i++) {
            more = 0;
            for (int r = 0; r < runs.size(); r++) {
                if (i < runs.get(r).size()) {
                    out.add(new String[]{ids.get(r), runs.get(r).get(i)});
                    more++;
                }
            }
        }
        out.add(out.size() / 3, new String[]{"bad", "{\"type\":\"step\",\"run_id\":\"sim-none-" + DEMO_HEALTHY_SEED + "\",\"step\":\"twelve\",\"loss\":1.0}"});
        out.add(out.size() / 2, new String[]{"bad", "{\"type\":\"step\",\"run_id\":\"sim-none-" + DEMO_HEALTHY_SEED + "\",\"loss\":"});
        out.add(2 * out.size() / 3, new String[]{"bad", "{\"type\":\"step\",\"step\":3,\"loss\":0.5}"});
        return out;
    }

    /** The demo's runs, one per fault, with fixed seeds. */
    static List<io.trainwatch.simulate.SimulatedRun> demoRuns() {
        List<io.trainwatch.simulate.SimulatedRun> runs = new ArrayList<>();
        for (io.trainwatch.simulate.Fault f : DEMO_FAULTS) {
            runs.add(io.trainwatch.simulate.RunSimulator.generate(f == io.trainwatch.simulate.Fault.NONE ? DEMO_HEALTHY_SEED : DEMO_SEED + f.ordinal(), f));
        }
        return runs;
    }

    private final java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();

    /** Sends the records at {@link #rate} events per second. */
    private void produce(String bootstrap, String topic, List<String[]> records) {
        try (var p = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(java.util.Map.of("bootstrap.servers", bootstrap,
                "linger.ms", 5, "max.block.ms", 30_000, "key.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName(),
                "value.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName()))) {
            long start = System.nanoTime();
            for (String[] kv : records) {
                long due = start + (long) (sent.get() * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, kv[0], kv[1]));
                sent.incrementAndGet();
            }
            p.flush();
        }
    }

    /** True when the job's committed offsets (committed at each checkpoint) reach the end of the events topic. */
    private static boolean committedAtEnd(String bootstrap, String group, String topic) throws Exception {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(java.util.Map.of("bootstrap.servers", bootstrap));
             var c = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(java.util.Map.of("bootstrap.servers", bootstrap,
                     "key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName(),
                     "value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName()))) {
            var parts = c.partitionsFor(topic).stream().map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            var end = c.endOffsets(parts);
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            return parts.stream().allMatch(p -> committed.get(p) != null && committed.get(p).offset() >= end.get(p));
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String fmt(DeclaredSchedule s, long step) {
        if (s.adaptive()) {
            return String.format(Locale.ROOT, "%.2e..%.2e", s.lowestLr(0, step), s.highestLr(0, step)).replace("e-0", "e-");
        }
        return String.format(Locale.ROOT, "%.4e", s.lr(0, step));
    }

    static List<String> exampleNames() throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : resource(EXAMPLES + "index.txt").split("\n")) {
            if (!line.isBlank()) {
                names.add(line.trim());
            }
        }
        return names;
    }

    static String resource(String path) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing bundled resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
