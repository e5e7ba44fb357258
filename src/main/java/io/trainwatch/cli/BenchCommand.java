package io.trainwatch.cli;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.MonitorRunsFunction;
import io.trainwatch.job.ParseEventsFunction;
import io.trainwatch.threshold.Thresholds;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code bench}: on an in-process broker, in one invocation, (1) the raw rate of a plain KafkaConsumer
 * draining N events of R concurrent runs, (2) the job processing the same events end to end (bounded, exactly
 * once), and (3) event→alert latency at a fixed offered rate for a latency profile (short checkpoint interval)
 * and a throughput profile. Alerts become visible at checkpoints (exactly-once), so latency includes them.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures on this machine: raw Kafka consume rate vs the job's end-to-end rate for N events of R",
                "concurrent runs, and p50/p99 event->alert latency at a fixed offered rate (latency and throughput profiles)."})
final class BenchCommand implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--events", defaultValue = "2000000", paramLabel = "N", description = "Events for the throughput measurement. Default: ${DEFAULT-VALUE}.")
    long events;

    @Option(names = "--runs", defaultValue = "10000", paramLabel = "R", description = "Concurrent runs. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--partitions", defaultValue = "2", paramLabel = "P", description = "Partitions of the events topic. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--parallelism", defaultValue = "2", paramLabel = "N", description = "Job parallelism. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--latency-rate", defaultValue = "5000", paramLabel = "EVENTS_PER_S", description = "Offered rate for the latency measurement. Default: ${DEFAULT-VALUE}.")
    int latencyRate;

    @Option(names = "--latency-seconds", defaultValue = "20", paramLabel = "S", description = "Events offered for this long in each latency profile are timed (and at least 20 NaNs), after a warm-up that lasts"
            + " 3 s and until the job's alerts keep up; then it waits for the alert of every timed NaN. Each wait ends at 60 s plus two"
            + " checkpoint intervals at most. 0 skips the latency profiles. Default: ${DEFAULT-VALUE}.")
    int latencySeconds;

    @Option(names = "--latency-checkpoint", defaultValue = "PT0.1S", paramLabel = "DURATION", description = "Checkpoint interval of the latency profile. Default: ${DEFAULT-VALUE}.")
    String latencyCheckpoint;

    @Option(names = "--no-latency-changelog", negatable = true, description = "Use the changelog state backend in the latency profile. Default: ${DEFAULT-VALUE}.")
    boolean latencyChangelog = true;

    @Option(names = "--no-warmup", negatable = true, description = "Drain the topic and run the job once, unmeasured, before measuring both. Default: ${DEFAULT-VALUE}.")
    // picocli: a negatable option that is true by default is declared by its --no- name with the field set to true
    // (with defaultValue = "true" instead, --no-warmup left it true)
    boolean warmup = true;

    @Option(names = "--repeat", defaultValue = "1", paramLabel = "K", description = "Raw drain and job pass measured K times, alternating, with the median ratios. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--throughput-checkpoint", defaultValue = "PT10S", paramLabel = "DURATION", description = "Checkpoint interval of the throughput profile. Default: ${DEFAULT-VALUE}.")
    String throughputCheckpoint;

    public Integer call() throws Exception {
        if (events < runs || runs < 1) {
            throw new UserInputException("--events must be >= --runs >= 1");
        }
        if (repeat < 1) {
            throw new UserInputException("--repeat must be >= 1");
        }
        if (latencySeconds < 0 || latencyRate < 1) {
            throw new UserInputException("--latency-seconds must be >= 0 and --latency-rate >= 1");
        }
        System.out.printf("trainwatch bench: %,d events of %,d concurrent runs, %d partitions, parallelism %d, %d cores%n",
                events, runs, partitions, parallelism, Runtime.getRuntime().availableProcessors());
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "bench.events";
            createTopic(kafka, topic);
            long t = System.nanoTime();
            long produced = produceBulk(kafka, topic);
            System.out.printf("produced      %,d events in %.1f s (%,.0f events/s)%n", produced, secs(t), produced / secs(t));

            if (warmup) {
                // a streaming job runs for days: measure both sides JIT-compiled, not their first seconds
                t = System.nanoTime();
                drain(kafka, topic);
                runJob(kafka, topic, "bench-warmup");
                System.out.printf("warm-up       one raw drain and one job pass in %.1f s (not measured)%n", secs(t));
            }
            // raw drain and job pass alternate, so both see the machine in the same state; the median ratio is the figure
            double[][] ratios = new double[repeat][];
            for (int i = 0; i < repeat; i++) {
                if (repeat > 1) {
                    System.out.printf("pass %d of %d%n", i + 1, repeat);
                }
                ratios[i] = measureOnce(kafka, topic, produced);
            }
            if (repeat > 1) {
                System.out.printf("median of %d  ratio job/raw %.2f end to end, %.2f processing (vs the raw drain), %.2f first record to last on both sides%n",
                        repeat, median(ratios, 0), median(ratios, 1), median(ratios, 2));
            }

            if (latencySeconds > 0) {
                List<String> failed = new ArrayList<>();
                for (String[] profile : new String[][]{{"latency", latencyCheckpoint}, {"throughput", throughputCheckpoint}}) {
                    if (!latency(kafka, profile[0], profile[1])) {
                        failed.add(profile[0]);
                    }
                }
                if (!failed.isEmpty()) {
                    throw new IllegalStateException("the " + String.join(" and ", failed) + " profile(s) did not measure every timed alert (see above)");
                }
            }
        }
        return 0;
    }

    /** One raw drain, then one job pass; prints both and returns the three ratios (end to end, processing, first to last). */
    private double[] measureOnce(EmbeddedKafka kafka, String topic, long produced) throws Exception {
        Drain drained = drain(kafka, topic);
        double raw = drained.records() / drained.seconds();
        double rawSteady = drained.records() / drained.steadySeconds();
        System.out.printf("raw consume   %,d events in %.2f s: %,.0f events/s (plain KafkaConsumer, one thread; %,.0f events/s from its first record to its last)%n",
                drained.records(), drained.seconds(), raw, rawSteady);

        long t = System.nanoTime();
        var result = runJob(kafka, topic, "bench");
        double whole = secs(t);
        double job = produced / whole;
        System.out.printf("job end to end %,d events in %.2f s: %,.0f events/s (bounded, exactly-once sinks, job start and stop included)%n", produced, whole, job);
        // first record parsed .. last event judged: the job's processing, without deploying and finishing the job
        long first = result.getAccumulatorResult(ParseEventsFunction.FIRST_READ_MILLIS);
        long last = result.getAccumulatorResult(MonitorRunsFunction.LAST_EVENT_MILLIS);
        double processing = Math.max(1, last - first) / 1000.0;
        double steady = produced / processing;
        System.out.printf("job processing %,d events in %.2f s: %,.0f events/s (first record read to last event judged)%n", produced, processing, steady);
        // like for like: both with their start-up, both from first record to last; and the job's processing rate
        // against the raw drain with the consumer's start-up, the comparison of ../shared/INFRA.md and of issue 4's target
        double[] ratios = {job / raw, steady / raw, steady / rawSteady};
        System.out.printf("ratio job/raw  %.2f end to end, %.2f processing (vs the raw drain), %.2f first record to last on both sides%n",
                ratios[0], ratios[1], ratios[2]);
        return ratios;
    }

    private static double median(double[][] rows, int column) {
        double[] v = Arrays.stream(rows).mapToDouble(r -> r[column]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** The job, bounded, over the whole events topic, with the throughput profile's checkpoint interval. */
    private org.apache.flink.api.common.JobExecutionResult runJob(EmbeddedKafka kafka, String topic, String name) throws Exception {
        JobConfig cfg = config(kafka, topic, name, throughputCheckpoint, true, false);
        KafkaPipeline.prepareTopics(cfg);
        var env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        return env.execute("trainwatch-" + name);
    }

    private JobConfig config(EmbeddedKafka kafka, String eventsTopic, String name, String checkpoint, boolean stopAtEnd, boolean changelog) throws Exception {
        return new JobConfig(kafka.bootstrapServers(), eventsTopic, name + ".alerts", name + ".dead-letter", null, name,
                JobConfig.StartingOffsets.EARLIEST, Files.createTempDirectory("trainwatch-bench").toString(), RunCommand.duration(checkpoint),
                parallelism, Map.of(), true, partitions, null, stopAtEnd, name, Thresholds.DEFAULTS, changelog);
    }

    private void createTopic(EmbeddedKafka kafka, String topic) throws Exception {
        try (Admin a = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** A healthy step of run r at step s (a declared cosine schedule, realistic numbers, ~200 bytes). */
    static String step(int r, long s, boolean nan) {
        double loss = nan ? Double.NaN : 1 + 2 * Math.exp(-s / 300.0) + 0.02 * Math.sin(s * 12.9898 + r);
        double grad = 0.8 + 0.1 * Math.sin(s * 78.233 + r);
        double lr = 1e-3 * (s < 100 ? s / 100.0 : 0.5 * (1 + Math.cos(Math.PI * (s - 100) / 1_000_000.0)));
        return String.format(Locale.ROOT, "{\"type\":\"step\",\"run_id\":\"run-%05d\",\"step\":%d,\"loss\":%s,\"grad_norm\":%.6f,\"lr\":[%s],\"time\":%d}",
                r, s, nan ? "NaN" : String.format(Locale.ROOT, "%.6f", loss), grad, lr, System.currentTimeMillis());
    }

    static String start(int r) {
        return String.format(Locale.ROOT, "{\"type\":\"run_start\",\"run_id\":\"run-%05d\",\"schedule\":{\"scheduler\":\"cosine\",\"params\":"
                + "{\"num_warmup_steps\":100,\"num_training_steps\":1000100,\"base_lrs\":[0.001]}}}", r);
    }

    private long produceBulk(EmbeddedKafka kafka, String topic) {
        long n = 0;
        try (KafkaProducer<String, String> p = producer(kafka)) {
            for (int r = 0; r < runs; r++) {
                p.send(new ProducerRecord<>(topic, key(r), start(r)));
                n++;
            }
            long stepsPerRun = (events - runs) / runs;
            for (long s = 0; s < stepsPerRun; s++) {
                for (int r = 0; r < runs; r++) {
                    p.send(new ProducerRecord<>(topic, key(r), step(r, s, false)));
                    n++;
                }
            }
            p.flush();
        }
        return n;
    }

    private static String key(int r) {
        return String.format(Locale.ROOT, "run-%05d", r);
    }

    private static KafkaProducer<String, String> producer(EmbeddedKafka kafka) {
        return new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(), "linger.ms", 5, "batch.size", 131072,
                "key.serializer", StringSerializer.class.getName(), "value.serializer", StringSerializer.class.getName()));
    }

    /** What a plain consumer's drain took: from creating the consumer, and from its first record, to its last. */
    private record Drain(long records, double seconds, double steadySeconds) {
    }

    private Drain drain(EmbeddedKafka kafka, String topic) {
        long t0 = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                "key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName(),
                "value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName(), "max.poll.records", 5000))) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long n = 0;
            long first = 0;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                int k = c.poll(Duration.ofMillis(100)).count();
                if (n == 0 && k > 0) {
                    first = System.nanoTime();
                }
                n += k;
            }
            return new Drain(n, secs(t0), secs(first));
        }
    }

    /**
     * Offers events at latencyRate to a running job; about one event in 200 is a NaN whose NON_FINITE alert is
     * awaited on the alerts topic (read_committed). Three phases, each ended by what was seen, not by the clock:
     * warm-up until the job keeps up, the measured window, then the wait for the alert of every timed NaN.
     * Returns false when the job gave no usable alert in time (nothing measured).
     */
    private boolean latency(EmbeddedKafka kafka, String profile, String checkpoint) throws Exception {
        // the latency profile checkpoints often, so it writes only changed state (changelog); the throughput profile rarely
        JobConfig cfg = config(kafka, "latency-" + profile + ".events", "latency-" + profile, checkpoint, false, profile.equals("latency") && latencyChangelog);
        KafkaPipeline.prepareTopics(cfg);
        var env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        // alerts are committed at checkpoints: every wait allows two checkpoint intervals beyond the fixed bound
        long waitNanos = ALERT_WAIT.plus(cfg.checkpointInterval().multipliedBy(2)).toNanos();
        var job = env.executeAsync("trainwatch-latency-" + profile);
        Offered offered = new Offered();
        List<Long> latencies = new ArrayList<>();
        long start = System.nanoTime();
        long firstAlert = -1;
        try (KafkaConsumer<String, String> alerts = new KafkaConsumer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                "isolation.level", "read_committed", "group.id", "bench-reader-" + profile, "auto.offset.reset", "earliest",
                "key.deserializer", StringDeserializer.class.getName(), "value.deserializer", StringDeserializer.class.getName()))) {
            alerts.subscribe(List.of(cfg.alertsTopic()));
            Thread producer = new Thread(() -> offer(kafka, cfg.eventsTopic(), offered), "bench-offer");
            producer.start();
            try {
                while (true) {
                    long now = System.nanoTime();
                    boolean measuring = offered.measureFrom.get() != Long.MAX_VALUE;
                    long doneAt = offered.doneAt;
                    if (!measuring && now - start > waitNanos) {
                        break; // the job never kept up: reported below
                    }
                    if (doneAt > 0 && (offered.timed.isEmpty() || now - doneAt > waitNanos)) {
                        break; // every timed alert is in, or the last wait is over
                    }
                    for (ConsumerRecord<String, String> r : alerts.poll(Duration.ofMillis(20))) {
                        long at = System.nanoTime();
                        var a = io.trainwatch.event.JsonReader.parse(r.value());
                        if (!"NON_FINITE".equals(a.path("kind").asText()) || !"open".equals(a.path("status").asText())) {
                            continue;
                        }
                        String id = a.path("run_id").asText() + "/" + a.path("onset_step").asLong();
                        Long sent = offered.timed.remove(id);
                        if (sent != null) {
                            latencies.add(at - sent);
                        } else if ((sent = offered.warmup.remove(id)) != null) {
                            // warm-up ends once the job has committed the alert of a NaN sent after its first alert was read:
                            // it is running, checkpointing and through the backlog of its start (and 3 s have passed, for the JIT)
                            if (firstAlert < 0) {
                                firstAlert = at;
                            } else if (sent > firstAlert && at - start >= WARMUP_NANOS) {
                                offered.measureFrom.compareAndSet(Long.MAX_VALUE, at);
                            }
                        }
                    }
                }
            } finally {
                offered.producing.set(false);
                producer.join();
            }
        } finally {
            job.cancel().get();
        }
        long measureFrom = offered.measureFrom.get();
        if (measureFrom == Long.MAX_VALUE) {
            System.out.printf("latency       %s profile (checkpoint %s): not measured: %s within %.0f s of the job's start%n", profile, checkpoint,
                    firstAlert < 0 ? "no alert arrived" : "the job's alerts did not catch up with what was offered", waitNanos / 1e9);
            return false;
        }
        long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        // a timed NaN without its alert is reported, not left out silently (it would flatter the percentiles)
        int missing = offered.timed.size();
        System.out.printf("latency       %s profile (checkpoint %s) at %,d events/s offered: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d alerts"
                        + " (warm-up %.1f s, %,d events measured)%s%n",
                profile, checkpoint, latencyRate, l.length == 0 ? Double.NaN : l[l.length / 2] / 1e6,
                l.length == 0 ? Double.NaN : l[(int) Math.min(l.length - 1, Math.floor(0.99 * l.length))] / 1e6,
                l.length == 0 ? Double.NaN : l[l.length - 1] / 1e6, l.length, (measureFrom - start) / 1e9, offered.measured,
                missing == 0 ? "" : String.format(Locale.ROOT, "; %d timed NaN(s) got no alert within %.0f s", missing, waitNanos / 1e9));
        return missing == 0 && l.length > 0;
    }

    /** What the offering thread and the alert reader share. */
    private static final class Offered {
        /** NaNs sent before and during the measured window: "run/step" to the nanoTime they were sent. */
        final Map<String, Long> warmup = new ConcurrentHashMap<>();
        final Map<String, Long> timed = new ConcurrentHashMap<>();
        /** When the reader ended the warm-up (nanoTime); MAX_VALUE while warming up. */
        final AtomicLong measureFrom = new AtomicLong(Long.MAX_VALUE);
        final AtomicBoolean producing = new AtomicBoolean(true);
        /** nanoTime the measured events were all sent; 0 before. */
        volatile long doneAt;
        /** Events sent in the measured window. */
        volatile long measured;
    }

    private void offer(EmbeddedKafka kafka, String topic, Offered offered) {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(), "linger.ms", 0,
                "key.serializer", StringSerializer.class.getName(), "value.serializer", StringSerializer.class.getName()))) {
            for (int r = 0; r < runs; r++) {
                p.send(new ProducerRecord<>(topic, key(r), start(r)));
            }
            long[] next = new long[runs];
            long[] lastNan = new long[runs];
            java.util.Arrays.fill(lastNan, -100);
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
            long start = System.nanoTime();
            long sent = 0;
            long measured = 0;
            long timedNans = 0;
            // the measured window: --latency-seconds of events at the offered rate, and enough NaNs for a p99 to mean something
            long window = (long) latencyRate * latencySeconds;
            while (offered.producing.get() && (measured < window || timedNans < MIN_TIMED_NANS)) {
                long due = start + (long) (sent * 1e9 / latencyRate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                int r = (int) (sent % runs);
                long s = next[r]++;
                // about one NaN per 200 events, on a run whose last NaN alert has had time to resolve (3 finite steps)
                boolean nan = rnd.nextInt(200) == 0 && s - lastNan[r] >= 10;
                boolean measuring = offered.measureFrom.get() != Long.MAX_VALUE;
                String id = key(r);
                if (nan) {
                    lastNan[r] = s;
                    (measuring ? offered.timed : offered.warmup).put(id + "/" + s, System.nanoTime());
                    timedNans += measuring ? 1 : 0;
                }
                p.send(new ProducerRecord<>(topic, id, step(r, s, nan)));
                sent++;
                measured += measuring ? 1 : 0;
            }
            p.flush();
            offered.measured = measured;
            offered.doneAt = System.nanoTime();
        }
    }

    /** Latencies of the first seconds (job start, JIT) are not counted: the warm-up lasts at least this long. */
    static final long WARMUP_NANOS = 3_000_000_000L;
    /** Bounds each wait of a latency profile (the job keeping up; the last timed alerts), plus two checkpoint intervals. */
    static final Duration ALERT_WAIT = Duration.ofSeconds(60);
    /** Timed NaNs a latency profile sends at least, whatever --latency-seconds. */
    static final int MIN_TIMED_NANS = 20;

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
