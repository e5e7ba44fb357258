package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Thresholds;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The trainwatch pipeline, wired in one place for every command (replay, run, demo):
 * raw records → parse (invalid → dead letters) → keyBy(run_id) → monitor → alerts, series (events it cannot judge →
 * dead letters).
 */
public final class TrainwatchJob {
    /**
     * Where the pipeline's three outputs go; {@code series} may be null (not written). {@code singleWriter}: the
     * three sinks run with parallelism 1 (local files). {@code postgres}, when not null, receives all three outputs
     * as well (series included even without a {@code series} sink), at the monitor's parallelism.
     */
    public record Sinks(Sink<Alert> alerts, Sink<SeriesPoint> series, Sink<DeadLetter> deadLetters, boolean singleWriter, PostgresSinks postgres) {
        /** Without PostgreSQL. */
        public Sinks(Sink<Alert> alerts, Sink<SeriesPoint> series, Sink<DeadLetter> deadLetters, boolean singleWriter) {
            this(alerts, series, deadLetters, singleWriter, null);
        }
    }

    /**
     * How the monitor judges runs: the job's thresholds (a run's idle timeout among them, which a run may override) and
     * {@code seriesEvery}, at most one series point per that many steps of a run (--series-every).
     */
    public record MonitorConfig(Thresholds thresholds, int seriesEvery) {
        public MonitorConfig {
            if (seriesEvery < 1) {
                throw new IllegalArgumentException(JobConfig.SERIES_EVERY + " must be >= 1 (1 keeps every step), got " + seriesEvery);
            }
        }

        /** Every series point. */
        public MonitorConfig(Thresholds thresholds) {
            this(thresholds, 1);
        }
    }

    private TrainwatchJob() {
    }

    /**
     * Types crossing operators must be POJOs: refuse a silent fallback to Kryo. Chained operators hand records on
     * without a defensive copy (object reuse): every function here builds a new output object and keeps no input.
     */
    public static void configure(StreamExecutionEnvironment env) {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(PipelineOptions.GENERIC_TYPES, false);
        c.set(PipelineOptions.OBJECT_REUSE, true);
        env.configure(c);
    }

    public static void defineWorkflow(StreamExecutionEnvironment env, DataStream<RawRecord> source, Sinks sinks, MonitorConfig config) {
        configure(env);
        // parse at the source's parallelism (chained to it): a run's events keep their order up to keyBy,
        // as they arrive in one Kafka partition (key = run_id) or one file
        SingleOutputStreamOperator<TrainingEvent> events = source
                .process(new ParseEventsFunction())
                .setParallelism(source.getParallelism())
                .uid("parse-events").name("parse-events");

        SingleOutputStreamOperator<Alert> alerts = events
                .keyBy(e -> e.runId)
                .process(new MonitorRunsFunction(config.thresholds(), config.seriesEvery(), sinks.series() != null || sinks.postgres() != null))
                .uid("monitor-runs").name("monitor-runs");
        // records the parser refused, and events the monitor rejected (it failed on them, or their run is quarantined)
        DataStream<DeadLetter> deadLetters = events.getSideOutput(OutputTags.DEAD_LETTERS).union(alerts.getSideOutput(OutputTags.DEAD_LETTERS));
        DataStream<SeriesPoint> series = alerts.getSideOutput(OutputTags.SERIES);

        attach(alerts, sinks.alerts(), "alerts-sink", sinks.singleWriter());
        attach(deadLetters, sinks.deadLetters(), "dead-letter-sink", sinks.singleWriter());
        if (sinks.series() != null) {
            attach(series, sinks.series(), "series-sink", sinks.singleWriter());
        }
        if (sinks.postgres() != null) {
            // at the monitor's parallelism, chained to it: a run's alerts reach their row in the order they were raised
            attach(alerts, sinks.postgres().alerts(), "postgres-alerts-sink", false);
            attach(series, sinks.postgres().series(), "postgres-series-sink", false);
            attach(deadLetters, sinks.postgres().deadLetters(), "postgres-dead-letter-sink", false);
        }
    }

    private static <T> void attach(DataStream<T> stream, Sink<T> sink, String name, boolean singleWriter) {
        var s = stream.sinkTo(sink).uid(name).name(name);
        if (singleWriter) {
            s.setParallelism(1);
        }
    }
}
