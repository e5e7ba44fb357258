package io.trainwatch.bench;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.KeyRecordsFunction;
import io.trainwatch.job.MonitorRunsFunction;
import io.trainwatch.kafka.KafkaClients;
import io.trainwatch.kafka.TopicAdmin;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * On an in-process broker, in one go: (1) the raw rate of a plain KafkaConsumer draining N events
 * of R concurrent runs, (2) the job processing the same events end to end (bounded, exactly once),
 * the {@link FlinkFloor} (the job's source, keyBy, keyed state and a discarding sink, no trainwatch
 * work) and the {@link EngineFreeCeiling} (the job's codec and monitor on one thread, no Flink)
 * over the same events, and (3) event→alert latency at a fixed offered rate for each of {@link
 * LatencyProfile#specs}: exactly once with a short and with a long checkpoint interval (alerts
 * become visible at checkpoints, so latency includes them), and at least once (alerts written as
 * raised). Prints each figure to standard output as it is measured. With fleet sizes, (1) and (2)
 * are {@link FleetScaling}'s instead: the job's rate and the state per run at each size.
 */
public final class Bench {
    private final BenchSettings settings;

    public Bench(BenchSettings settings) {
        this.settings = settings;
    }

    /**
     * Measures everything; throws {@link IllegalStateException} when a latency profile did not
     * measure every timed alert.
     */
    public void run() throws Exception {
        System.out.printf(
                "trainwatch bench: %,d events of %s concurrent runs, %d partitions, parallelism %d, %d cores%n",
                settings.events(),
                settings.fleet().isEmpty()
                        ? String.format("%,d", settings.runs())
                        : FleetScaling.sizes(settings.fleet()),
                settings.partitions(),
                settings.parallelism(),
                Runtime.getRuntime().availableProcessors());
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            if (settings.fleet().isEmpty()) {
                measureThroughput(kafka);
            } else {
                FleetScaling.measure(settings, kafka);
            }
            measureLatency(kafka);
        } finally {
            // the jobs are over: their checkpoints go (hundreds of MB at a large fleet)
            ScratchDirectories.deleteAll();
        }
    }

    /**
     * The throughput passes at --runs: the raw drain, the job, the floor and the ceiling, K times
     * in turn, and their median ratios.
     */
    private void measureThroughput(EmbeddedKafka kafka) throws Exception {
        String topic = "bench.events";
        TopicAdmin.create(kafka.bootstrapServers(), topic, settings.partitions());
        long t = System.nanoTime();
        long produced = produceBulk(kafka, topic, settings.events(), settings.runs());
        System.out.printf(
                "produced      %,d events in %.1f s (%,.0f events/s)%n",
                produced, secs(t), produced / secs(t));

        if (settings.warmup()) {
            // a streaming job runs for days: measure both sides JIT-compiled, not their first
            // seconds
            t = System.nanoTime();
            JobConfig cfg = throughputConfig(settings, kafka, topic, "bench-warmup");
            drain(kafka, topic);
            runJob(cfg);
            FlinkFloor.run(cfg);
            EngineFreeCeiling.drain(
                    kafka.bootstrapServers(), topic, KafkaPipeline.monitorConfig(cfg));
            System.out.printf(
                    "warm-up       one raw drain, job pass, floor pass and ceiling drain in %.1f s (not measured)%n",
                    secs(t));
        }
        // raw drain, job, floor and ceiling alternate, so all see the machine in the same
        // state; the median ratio is the figure
        int repeat = settings.repeat();
        double[][] ratios = new double[repeat][];
        int alertsDiffer = 0;
        for (int i = 0; i < repeat; i++) {
            if (repeat > 1) {
                System.out.printf("pass %d of %d%n", i + 1, repeat);
            }
            Pass pass = measureOnce(kafka, topic, produced);
            ratios[i] = pass.ratios();
            if (!pass.alertsAgree()) {
                alertsDiffer++;
            }
        }
        if (repeat > 1) {
            double[] medians = new double[ratios[0].length];
            for (int k = 0; k < medians.length; k++) {
                medians[k] = median(ratios, k);
            }
            String lead = String.format("median of %d  ", repeat);
            printRatios(lead + "ratio job/raw ", lead + "ratio job/floor ", medians);
        }
        if (alertsDiffer > 0) {
            System.out.printf(
                    "NOTE          the job and the ceiling counted different alerts in %d of %d passes (see the alerts lines)%n",
                    alertsDiffer, repeat);
        }
    }

    /**
     * Event→alert latency for each profile, unless --latency-seconds is 0; throws {@link
     * IllegalStateException} when a profile did not measure every timed alert.
     */
    private void measureLatency(EmbeddedKafka kafka) throws Exception {
        if (settings.latencySeconds() <= 0) {
            return;
        }
        List<String> failed = new ArrayList<>();
        for (LatencyProfile.Spec spec : LatencyProfile.specs(settings)) {
            JobConfig cfg =
                    config(
                            settings,
                            kafka,
                            "latency-" + spec.name() + ".events",
                            "latency-" + spec.name(),
                            spec.checkpoint(),
                            false,
                            spec.changelog(),
                            spec.delivery());
            if (!new LatencyProfile(settings, spec, cfg).measure()) {
                failed.add(spec.name());
            }
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException(
                    "the "
                            + String.join(" and ", failed)
                            + " profile(s) did not measure every timed alert (see above)");
        }
    }

    /**
     * One pass's ratios (job/raw end to end, job processing vs the raw drain, job/raw first record
     * to last, job/floor and job/ceiling processing rates), and whether the job and the ceiling
     * counted the same alerts.
     */
    private record Pass(double[] ratios, boolean alertsAgree) {}

    /**
     * One raw drain, one job pass, one floor pass and one ceiling drain; prints each, the alerts of
     * the job and the ceiling, and the ratios.
     */
    private Pass measureOnce(EmbeddedKafka kafka, String topic, long produced) throws Exception {
        TopicDrain.Timing drained = drain(kafka, topic);
        double raw = drained.records() / drained.seconds();
        double rawSteady = drained.records() / drained.steadySeconds();
        System.out.printf(
                "raw consume   %,d events in %.2f s: %,.0f events/s (plain KafkaConsumer, one thread; %,.0f events/s from its first record to its last)%n",
                drained.records(), drained.seconds(), raw, rawSteady);

        // the job, the floor and the ceiling: the same configuration
        JobConfig cfg = throughputConfig(settings, kafka, topic, "bench");
        JobPass jobPass = jobPass(cfg, produced);
        double job = jobPass.endToEndRate();
        double steady = jobPass.processingRate();
        long jobAlerts = jobPass.alerts();

        FlinkFloor.Result floor = FlinkFloor.run(cfg);
        System.out.printf(
                "floor end to end %,d events in %.2f s: %,.0f events/s (Flink floor: the job's source, keyBy run, a count per run in keyed state, discarding sink; job start and stop included)%n",
                floor.counted(), floor.seconds(), floor.rate());
        System.out.printf(
                "floor processing %,d events of %,d runs in %.2f s: %,.0f events/s (first record read to last record counted)%n",
                floor.counted(), floor.runs(), floor.processingSeconds(), floor.processingRate());

        EngineFreeCeiling.Result ceiling =
                EngineFreeCeiling.drain(
                        kafka.bootstrapServers(), topic, KafkaPipeline.monitorConfig(cfg));
        System.out.printf(
                "ceiling       %,d events in %.2f s: %,.0f events/s (engine-free: one thread, plain KafkaConsumer, event codec, run monitors in a HashMap; %,.0f events/s from its first record to its last); %,d judged, %,d rejected, %,d runs, %,d alerts%n",
                ceiling.records(),
                ceiling.seconds(),
                ceiling.rate(),
                ceiling.steadyRate(),
                ceiling.judged(),
                ceiling.rejected(),
                ceiling.runs(),
                ceiling.alerts());
        boolean alertsAgree = jobAlerts == ceiling.alerts();
        System.out.printf(
                "alerts        job %,d, ceiling %,d: %s%n",
                jobAlerts,
                ceiling.alerts(),
                alertsAgree
                        ? "the same"
                        : "THEY DIFFER (both judge the same events with the same monitor: worth a look; the bench goes on)");

        // like for like: both with their start-up, both from first record to last; and the job's
        // processing rate against the raw drain with the consumer's start-up
        double[] ratios = {
            job / raw,
            steady / raw,
            steady / rawSteady,
            steady / floor.processingRate(),
            steady / ceiling.steadyRate()
        };
        printRatios("ratio job/raw  ", "ratio job/floor ", ratios);
        return new Pass(ratios, alertsAgree);
    }

    /**
     * The two ratio lines, of one pass or of the medians: the job against the raw drain three ways,
     * then against the floor and the ceiling (and the raw drain, first record to last).
     */
    private static void printRatios(String rawLead, String floorLead, double[] r) {
        System.out.printf(
                "%s%s end to end, %s processing (vs the raw drain), %s first record to last on both sides%n",
                rawLead, ratio(r[0]), ratio(r[1]), ratio(r[2]));
        System.out.printf(
                "%s%s, job/ceiling %s, job/raw %s (processing rates, first record to last)%n",
                floorLead, ratio(r[3]), ratio(r[4]), ratio(r[2]));
    }

    /**
     * One job pass: its rate over the whole bounded job and over its processing (first record read
     * to last event judged), and the alerts it raised.
     */
    record JobPass(double endToEndRate, double processingRate, long alerts) {}

    /**
     * Runs the job once over {@code cfg}'s events topic of {@code produced} events, and prints its
     * rate end to end and processing.
     */
    static JobPass jobPass(JobConfig cfg, long produced) throws Exception {
        long t = System.nanoTime();
        JobExecutionResult result = runJob(cfg);
        double whole = secs(t);
        double job = produced / whole;
        System.out.printf(
                "job end to end %,d events in %.2f s: %,.0f events/s (bounded, exactly-once sinks, job start and stop included)%n",
                produced, whole, job);
        // first record parsed .. last event judged: the job's processing, without deploying and
        // finishing the job
        long first = result.getAccumulatorResult(KeyRecordsFunction.FIRST_READ_MILLIS);
        long last = result.getAccumulatorResult(MonitorRunsFunction.LAST_EVENT_MILLIS);
        double processing = Math.max(1, last - first) / 1000.0;
        double steady = produced / processing;
        System.out.printf(
                "job processing %,d events in %.2f s: %,.0f events/s (first record read to last event judged)%n",
                produced, processing, steady);
        return new JobPass(job, steady, result.getAccumulatorResult(MonitorRunsFunction.ALERTS));
    }

    private static double median(double[][] rows, int column) {
        return median(Arrays.stream(rows).mapToDouble(r -> r[column]).toArray());
    }

    /**
     * A ratio as printed: two decimals, or two significant digits below 0.1, so that a job slowed
     * to a crawl (start-up on a loaded machine) prints 0.0038, not 0.00.
     */
    static String ratio(double r) {
        if (r > 0 && r < 0.1) {
            return new BigDecimal(r).round(new MathContext(2)).toPlainString();
        }
        return String.format(Locale.ROOT, "%.2f", r);
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * The job, the floor and the ceiling over the whole events topic: bounded, with the throughput
     * profile's checkpoint interval.
     */
    static JobConfig throughputConfig(
            BenchSettings settings, EmbeddedKafka kafka, String topic, String name)
            throws IOException {
        return config(
                settings,
                kafka,
                topic,
                name,
                settings.throughputCheckpoint(),
                true,
                false,
                JobConfig.AlertsDelivery.EXACTLY_ONCE);
    }

    static JobExecutionResult runJob(JobConfig cfg) throws Exception {
        TopicAdmin.prepareTopics(cfg);
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        return env.execute("trainwatch-" + cfg.groupId());
    }

    private static JobConfig config(
            BenchSettings settings,
            EmbeddedKafka kafka,
            String eventsTopic,
            String name,
            String checkpoint,
            boolean stopAtEnd,
            boolean changelog,
            JobConfig.AlertsDelivery delivery)
            throws IOException {
        return JobConfig.builder(kafka.bootstrapServers())
                .topics(eventsTopic, name + ".alerts", name + ".dead-letter")
                .groupId(name)
                .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                .checkpointDir(ScratchDirectories.create("trainwatch-bench").toString())
                .checkpointInterval(JobConfig.parseCheckpointInterval(checkpoint))
                .parallelism(settings.parallelism())
                .topicPartitions(settings.partitions())
                .stopAtEnd(stopAtEnd)
                .transactionalIdPrefix(name)
                .stateChangelog(changelog)
                .alertsDelivery(delivery)
                .build();
    }

    /**
     * Produces {@code runs} runs' starts, then their steps in turn (step 0 of every run, step 1 of
     * every run, ...), each run's in order on its key's partition: as many steps each as fit in
     * {@code events}. Returns the events produced.
     */
    static long produceBulk(EmbeddedKafka kafka, String topic, long events, int runs) {
        long n = 0;
        try (KafkaProducer<String, String> p =
                KafkaClients.producer(
                        kafka.bootstrapServers(), Map.of("linger.ms", 5, "batch.size", 131072))) {
            for (int r = 0; r < runs; r++) {
                p.send(new ProducerRecord<>(topic, BenchEvents.key(r), BenchEvents.start(r)));
                n++;
            }
            long stepsPerRun = (events - runs) / runs;
            for (long s = 0; s < stepsPerRun; s++) {
                for (int r = 0; r < runs; r++) {
                    p.send(
                            new ProducerRecord<>(
                                    topic, BenchEvents.key(r), BenchEvents.step(r, s, false)));
                    n++;
                }
            }
            p.flush();
        }
        return n;
    }

    private static TopicDrain.Timing drain(EmbeddedKafka kafka, String topic) {
        return TopicDrain.drain(kafka.bootstrapServers(), topic, polled -> {});
    }

    static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
