package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.SeriesPoint;

import org.apache.flink.streaming.api.datastream.DataStream;

import java.nio.file.Path;

/**
 * The pipeline's outputs written as local JSONL files ({@link JsonLinesFileSink}), each by a single
 * writer (parallelism 1) so that each is one file. {@code series} may be null: not written.
 */
public final class FileOutputs {
    private FileOutputs() {}

    public static void attach(
            TrainwatchJob.Outputs outputs, Path alerts, Path series, Path deadLetters) {
        outputs.alerts()
                .sinkTo(new JsonLinesFileSink<Alert>(alerts, JsonWriter::alert))
                .uid("alerts-sink")
                .name("alerts-sink")
                .setParallelism(1);
        outputs.deadLetters()
                .sinkTo(new JsonLinesFileSink<DeadLetter>(deadLetters, JsonWriter::deadLetter))
                .uid("dead-letter-sink")
                .name("dead-letter-sink")
                .setParallelism(1);
        if (series != null) {
            outputs.series()
                    .sinkTo(new JsonLinesFileSink<SeriesPoint>(series, JsonWriter::series))
                    .uid("series-sink")
                    .name("series-sink")
                    .setParallelism(1);
        }
    }

    /** Notifications given up, one JSON per line ({@link JsonWriter#failedNotification}). */
    public static void attachFailedNotifications(DataStream<FailedNotification> failed, Path file) {
        failed.sinkTo(
                        new JsonLinesFileSink<FailedNotification>(
                                file, JsonWriter::failedNotification))
                .uid("notify-failed-sink")
                .name("notify-failed-sink")
                .setParallelism(1);
    }
}
