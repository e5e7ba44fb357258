package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.SeriesPoint;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The trainwatch pipeline, wired in one place for every command (replay, run, demo, bench): raw
 * records → key by run (the Kafka key, or the run_id found in the payload; none found → dead
 * letters) → keyBy(run_id), carrying the raw bytes → parse and monitor (invalid, or not of the run
 * it was keyed by → dead letters) → alerts, series. Each record is parsed once, behind the keyBy,
 * so the parsed event never crosses the shuffle. It knows nothing of where its results go: callers
 * attach the outputs they want to the returned streams ({@link KafkaOutputs}, {@link
 * PostgresOutputs}, {@link FileOutputs}).
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
     * Types crossing operators must be POJOs (or have their own serializer, as the raw record and
     * the declared schedule have): refuse a silent fallback to Kryo. Chained operators hand records
     * on without a defensive copy (object reuse): no function here keeps an input, and each builds
     * a new output object, except {@link KeyRecordsFunction}, which sets the run on the record the
     * source gave it and passes it on (the source keeps no reference to it).
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
        // keyed at the source's parallelism (chained to it): a run's records keep their order up
        // to the keyBy, as they arrive in one Kafka partition (key = run_id) or one file
        SingleOutputStreamOperator<RawRecord> keyed =
                source.process(new KeyRecordsFunction())
                        .setParallelism(source.getParallelism())
                        .uid("key-records")
                        .name("key-records");

        SingleOutputStreamOperator<Alert> alerts =
                keyed.keyBy(r -> r.runId)
                        .process(new MonitorRunsFunction(config))
                        .uid("monitor-runs")
                        .name("monitor-runs");
        // records with no run_id to key by, and records the monitor refused (they do not parse,
        // are not of the run they were keyed by, it failed on them, or their run is quarantined)
        DataStream<DeadLetter> deadLetters =
                keyed.getSideOutput(OutputTags.DEAD_LETTERS)
                        .union(alerts.getSideOutput(OutputTags.DEAD_LETTERS));
        DataStream<SeriesPoint> series = alerts.getSideOutput(OutputTags.SERIES);
        return new Outputs(alerts, series, deadLetters);
    }
}
