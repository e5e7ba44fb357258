package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The trainwatch pipeline, wired in one place for every command (replay, run, demo, bench): raw
 * records → parse (invalid → dead letters) → keyBy(run_id) → monitor → alerts, series (events it
 * cannot judge → dead letters). It knows nothing of where its results go: callers attach the
 * outputs they want to the returned streams ({@link KafkaOutputs}, {@link PostgresOutputs}, {@link
 * FileOutputs}).
 */
public final class TrainwatchJob {
    /**
     * The pipeline's outputs. {@code series} carries points only when the monitor was told to build
     * them ({@link MonitorConfig#series()}).
     */
    public record Outputs(
            DataStream<Alert> alerts,
            DataStream<SeriesPoint> series,
            DataStream<DeadLetter> deadLetters) {}

    private TrainwatchJob() {}

    /**
     * Types crossing operators must be POJOs (or have their own serializer, as the declared
     * schedule has): refuse a silent fallback to Kryo. Chained operators hand records on without a
     * defensive copy (object reuse): every function here builds a new output object and keeps no
     * input.
     */
    public static void configure(StreamExecutionEnvironment env) {
        TrainwatchTypes.register();
        Configuration c = new Configuration();
        c.set(PipelineOptions.GENERIC_TYPES, false);
        c.set(PipelineOptions.OBJECT_REUSE, true);
        env.configure(c);
    }

    public static Outputs defineWorkflow(
            StreamExecutionEnvironment env, DataStream<RawRecord> source, MonitorConfig config) {
        configure(env);
        // parse at the source's parallelism (chained to it): a run's events keep their order up to
        // keyBy,
        // as they arrive in one Kafka partition (key = run_id) or one file
        SingleOutputStreamOperator<TrainingEvent> events =
                source.process(new ParseEventsFunction())
                        .setParallelism(source.getParallelism())
                        .uid("parse-events")
                        .name("parse-events");

        SingleOutputStreamOperator<Alert> alerts =
                events.keyBy(e -> e.runId)
                        .process(new MonitorRunsFunction(config))
                        .uid("monitor-runs")
                        .name("monitor-runs");
        // records the parser refused, and events the monitor rejected (it failed on them, or their
        // run is quarantined)
        DataStream<DeadLetter> deadLetters =
                events.getSideOutput(OutputTags.DEAD_LETTERS)
                        .union(alerts.getSideOutput(OutputTags.DEAD_LETTERS));
        DataStream<SeriesPoint> series = alerts.getSideOutput(OutputTags.SERIES);
        return new Outputs(alerts, series, deadLetters);
    }
}
