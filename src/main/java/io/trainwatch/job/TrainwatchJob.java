package io.trainwatch.job;

import io.trainwatch.detect.Thresholds;
import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;

/**
 * The trainwatch pipeline, wired in one place for every command (replay, run, demo):
 * raw records → parse (invalid → dead letters) → keyBy(run_id) → monitor → alerts, series.
 */
public final class TrainwatchJob {
    /** Where the pipeline's three outputs go; {@code series} may be null (not written). */
    public record Sinks(Sink<Alert> alerts, Sink<SeriesPoint> series, Sink<DeadLetter> deadLetters, boolean singleWriter) {
    }

    /** How the monitor judges runs. */
    public record MonitorConfig(Thresholds thresholds, Duration idleTimeout) {
        public static MonitorConfig defaults() {
            return new MonitorConfig(Thresholds.DEFAULTS, Duration.ofMinutes(
                    (long) Thresholds.DEFAULTS.get(io.trainwatch.detect.Threshold.IDLE_TIMEOUT_MINUTES)));
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
                .process(new MonitorRunsFunction(config.thresholds(), config.idleTimeout().toMillis()))
                .uid("monitor-runs").name("monitor-runs");

        attach(alerts, sinks.alerts(), "alerts-sink", sinks.singleWriter());
        attach(events.getSideOutput(OutputTags.DEAD_LETTERS), sinks.deadLetters(), "dead-letter-sink", sinks.singleWriter());
        if (sinks.series() != null) {
            attach(alerts.getSideOutput(OutputTags.SERIES), sinks.series(), "series-sink", sinks.singleWriter());
        }
    }

    private static <T> void attach(DataStream<T> stream, Sink<T> sink, String name, boolean singleWriter) {
        var s = stream.sinkTo(sink).uid(name).name(name);
        if (singleWriter) {
            s.setParallelism(1);
        }
    }
}
