package io.trainwatch.bench;

import io.trainwatch.event.JsonReader;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.kafka.KafkaClients;
import io.trainwatch.kafka.RateLimitedProducer;
import io.trainwatch.kafka.TopicAdmin;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Event→alert latency of one profile: offers events at the latency rate to the running job; about
 * one event in 200 is a NaN whose NON_FINITE alert is awaited on the alerts topic, as a consumer of
 * the profile's delivery reads it (read_committed for exactly once, read_uncommitted for at least
 * once). Three phases, each ended by what was seen, not by the clock: warm-up until the job keeps
 * up, the measured window, then the wait for the alert of every timed NaN.
 */
public final class LatencyProfile {
    /**
     * One profile: its name, checkpoint interval (as on the command line), whether it uses the
     * changelog state backend, and how its alerts are delivered.
     */
    public record Spec(
            String name, String checkpoint, boolean changelog, JobConfig.AlertsDelivery delivery) {}

    /**
     * The profiles bench measures, in order, at the same offered rate: exactly once with a short
     * checkpoint interval (latency; it checkpoints often, so it writes only changed state: the
     * changelog) and with a long one (throughput), then at least once, where alerts do not wait for
     * checkpoints, with the long interval.
     */
    public static List<Spec> specs(BenchSettings settings) {
        return List.of(
                new Spec(
                        "latency",
                        settings.latencyCheckpoint(),
                        settings.latencyChangelog(),
                        JobConfig.AlertsDelivery.EXACTLY_ONCE),
                new Spec(
                        "throughput",
                        settings.throughputCheckpoint(),
                        false,
                        JobConfig.AlertsDelivery.EXACTLY_ONCE),
                new Spec(
                        "at-least-once",
                        settings.throughputCheckpoint(),
                        false,
                        JobConfig.AlertsDelivery.AT_LEAST_ONCE));
    }

    /**
     * Latencies of the first seconds (job start, JIT) are not counted: the warm-up lasts at least
     * this long.
     */
    public static final long WARMUP_NANOS = 3_000_000_000L;

    /**
     * Bounds each wait of a latency profile (the job keeping up; the last timed alerts), plus two
     * checkpoint intervals.
     */
    static final Duration ALERT_WAIT = Duration.ofSeconds(60);

    /** Timed NaNs a latency profile sends at least, whatever --latency-seconds. */
    public static final int MIN_TIMED_NANS = 20;

    private final BenchSettings settings;
    private final String profile;
    private final String checkpoint;
    private final JobConfig cfg;

    /** {@code cfg}: the job's configuration for the spec (its checkpoint interval and delivery). */
    LatencyProfile(BenchSettings settings, Spec spec, JobConfig cfg) {
        this.settings = settings;
        this.profile = spec.name();
        this.checkpoint = spec.checkpoint();
        this.cfg = cfg;
    }

    /**
     * Measures and prints the profile's figures; false when the job gave no usable alert in time
     * (nothing measured).
     */
    boolean measure() throws Exception {
        TopicAdmin.prepareTopics(cfg);
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        // exactly once, alerts are committed at checkpoints: every wait allows two checkpoint
        // intervals beyond the fixed bound
        long waitNanos = ALERT_WAIT.plus(cfg.checkpointInterval().multipliedBy(2)).toNanos();
        JobClient job = env.executeAsync("trainwatch-latency-" + profile);
        Offered offered = new Offered();
        List<Long> latencies = new ArrayList<>();
        long start = System.nanoTime();
        long firstAlert = -1;
        try (KafkaConsumer<String, String> alerts = reader()) {
            alerts.subscribe(List.of(cfg.alertsTopic()));
            Thread producer = new Thread(() -> offer(offered), "bench-offer");
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
                        JsonNode a = JsonReader.parse(r.value());
                        if (!"NON_FINITE".equals(a.path("kind").asText())
                                || !"open".equals(a.path("status").asText())) {
                            continue;
                        }
                        String id = a.path("run_id").asText() + "/" + a.path("onset_step").asLong();
                        // an alert read twice (at least once, after a restart of the job) is
                        // in neither map the second time: counted once, at its first arrival
                        Long sent = offered.timed.remove(id);
                        if (sent != null) {
                            latencies.add(at - sent);
                        } else if ((sent = offered.warmup.remove(id)) != null) {
                            // warm-up ends once the job has written (exactly once: committed) the
                            // alert of a NaN sent after its first alert was read: it is running,
                            // (checkpointing) and through the backlog of its start (and 3 s have
                            // passed, for the JIT)
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
            System.out.printf(
                    "latency       %s profile (checkpoint %s): not measured: %s within %.0f s of the job's start%n",
                    profile,
                    checkpoint,
                    firstAlert < 0
                            ? "no alert arrived"
                            : "the job's alerts did not catch up with what was offered",
                    waitNanos / 1e9);
            return false;
        }
        long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        // a timed NaN without its alert is reported, not left out silently (it would flatter the
        // percentiles)
        int missing = offered.timed.size();
        System.out.printf(
                "latency       %s profile (checkpoint %s) at %,d events/s offered: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d alerts"
                        + " (warm-up %.1f s, %,d events measured)%s%n",
                profile,
                checkpoint,
                settings.latencyRate(),
                l.length == 0 ? Double.NaN : l[l.length / 2] / 1e6,
                l.length == 0
                        ? Double.NaN
                        : l[(int) Math.min(l.length - 1, Math.floor(0.99 * l.length))] / 1e6,
                l.length == 0 ? Double.NaN : l[l.length - 1] / 1e6,
                l.length,
                (measureFrom - start) / 1e9,
                offered.measured,
                missing == 0
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "; %d timed NaN(s) got no alert within %.0f s",
                                missing,
                                waitNanos / 1e9));
        return missing == 0 && l.length > 0;
    }

    /**
     * A consumer of the alerts as one of the profile's delivery reads them: exactly once, only
     * committed records (they appear when their checkpoint commits); at least once there is no
     * transaction, and the records are read as soon as the brokers have them.
     */
    private KafkaConsumer<String, String> reader() {
        String group = "bench-reader-" + profile;
        if (cfg.alertsDelivery() == JobConfig.AlertsDelivery.EXACTLY_ONCE) {
            return KafkaClients.readCommitted(cfg.bootstrapServers(), group);
        }
        return KafkaClients.consumer(
                cfg.bootstrapServers(),
                Map.of(
                        "isolation.level",
                        "read_uncommitted",
                        "group.id",
                        group,
                        "auto.offset.reset",
                        "earliest"));
    }

    /** What the offering thread and the alert reader share. */
    private static final class Offered {
        /**
         * NaNs sent before and during the measured window: "run/step" to the nanoTime they were
         * sent.
         */
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

    private void offer(Offered offered) {
        int runs = settings.runs();
        // no batching delay: the time a NaN is sent is the time it leaves
        try (RateLimitedProducer p =
                new RateLimitedProducer(
                        cfg.bootstrapServers(),
                        cfg.eventsTopic(),
                        settings.latencyRate(),
                        Map.of("linger.ms", 0))) {
            for (int r = 0; r < runs; r++) {
                p.sendNow(BenchEvents.key(r), BenchEvents.start(r));
            }
            long[] next = new long[runs];
            long[] lastNan = new long[runs];
            Arrays.fill(lastNan, -100);
            SplittableRandom rnd = new SplittableRandom(7);
            long measured = 0;
            long timedNans = 0;
            // the measured window: --latency-seconds of events at the offered rate, and enough NaNs
            // for a p99 to mean something
            long window = (long) settings.latencyRate() * settings.latencySeconds();
            while (offered.producing.get() && (measured < window || timedNans < MIN_TIMED_NANS)) {
                int r = (int) (p.sent() % runs);
                long s = next[r]++;
                // about one NaN per 200 events, on a run whose last NaN alert has had time to
                // resolve (3 finite steps)
                boolean nan = rnd.nextInt(200) == 0 && s - lastNan[r] >= 10;
                String id = BenchEvents.key(r);
                p.awaitTurn();
                boolean measuring = offered.measureFrom.get() != Long.MAX_VALUE;
                if (nan) {
                    lastNan[r] = s;
                    (measuring ? offered.timed : offered.warmup)
                            .put(id + "/" + s, System.nanoTime());
                    timedNans += measuring ? 1 : 0;
                }
                p.send(id, BenchEvents.step(r, s, nan));
                measured += measuring ? 1 : 0;
            }
            try {
                p.flush();
            } finally {
                // also when records were lost (flush throws): the reader stops waiting for them
                offered.measured = measured;
                offered.doneAt = System.nanoTime();
            }
        }
    }
}
