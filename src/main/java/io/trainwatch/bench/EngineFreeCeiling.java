package io.trainwatch.bench;

import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.job.MonitorConfig;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The engine-free ceiling of {@code bench}: the job's own work with no engine around it. One thread
 * drains the topic with a plain KafkaConsumer (as the raw drain does), parses each record with the
 * job's {@link EventCodec} and has the job's {@link RunMonitor} judge it against its run's {@link
 * RunState}, kept in a HashMap by run_id; alerts are counted. No Flink: no serialization between
 * operators, no state backend, no checkpoints, no second thread.
 *
 * <p>Each event is judged at its arrival time, as the job's monitor does. The job's idle and
 * silence timers are left out: a drain of a few seconds meets neither.
 */
final class EngineFreeCeiling {
    /**
     * One drain: records read, events judged, records rejected (unparsable, or refused by the
     * monitor: the job's dead letters), distinct runs, alerts; from creating the consumer, and from
     * its first record, to the last record judged.
     */
    record Result(
            long records,
            long judged,
            long rejected,
            int runs,
            long alerts,
            double seconds,
            double steadySeconds) {
        double rate() {
            return records / seconds;
        }

        double steadyRate() {
            return records / steadySeconds;
        }
    }

    private final EventCodec codec = new EventCodec();
    private final RunMonitor monitor;
    private final Map<String, RunState> runs = new HashMap<>();
    private long records;
    private long judged;
    private long rejected;
    private long alerts;

    /**
     * Judges as a job with {@code config} does (its thresholds; series points if it builds them).
     */
    EngineFreeCeiling(MonitorConfig config) {
        monitor = new RunMonitor(config.thresholds(), config.seriesEvery(), config.series());
    }

    /** Parses one record's value and judges the event, received at {@code receivedMillis}. */
    void accept(byte[] value, long receivedMillis) {
        records++;
        TrainingEvent e;
        try {
            e = codec.parse(value);
        } catch (InvalidEventException | RuntimeException ex) {
            // the job dead-letters these, and so does not judge them
            rejected++;
            return;
        }
        RunState run = runs.computeIfAbsent(e.runId, k -> new RunState());
        RunMonitor.Output out = monitor.onEvent(run, e, receivedMillis);
        alerts += out.alerts().size();
        if (out.rejection() == null) {
            judged++;
        } else {
            rejected++;
        }
    }

    /** What was accepted so far, with the drain's times. */
    Result result(double seconds, double steadySeconds) {
        return new Result(records, judged, rejected, runs.size(), alerts, seconds, steadySeconds);
    }

    /**
     * The bytes of every run's state as {@code serializer} writes them: with the job's state
     * serializer, what the job's keyed state holds for these runs, serialized.
     */
    long serializedStateBytes(TypeSerializer<RunState> serializer) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(8192);
        long bytes = 0;
        for (RunState run : runs.values()) {
            out.clear();
            serializer.serialize(run, out);
            bytes += out.length();
        }
        return bytes;
    }

    /**
     * Drains {@code topic} from its beginning to its end offsets, judging every record with this
     * ceiling (which keeps the run states).
     */
    Result drainTopic(String bootstrapServers, String topic) {
        TopicDrain.Timing t =
                TopicDrain.drain(
                        bootstrapServers,
                        topic,
                        polled -> {
                            for (ConsumerRecord<byte[], byte[]> r : polled) {
                                accept(r.value(), System.currentTimeMillis());
                            }
                        });
        return result(t.seconds(), t.steadySeconds());
    }

    /** Drains {@code topic} from its beginning to its end offsets, judging every record. */
    static Result drain(String bootstrapServers, String topic, MonitorConfig config) {
        return new EngineFreeCeiling(config).drainTopic(bootstrapServers, topic);
    }
}
