package io.trainwatch.job;

import io.trainwatch.detect.Thresholds;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.TrainingEvent;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMinimum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Parses raw records into v1 events; anything that cannot be accepted goes to the dead-letter side output
 * with its raw payload, the field at fault and the reason. Never throws on data. Counts read, accepted and
 * dead-lettered records (metrics, and accumulators for the replay summary).
 */
public class ParseEventsFunction extends ProcessFunction<RawRecord, TrainingEvent> {
    public static final String READ = "events-read";
    public static final String ACCEPTED = "events-accepted";
    public static final String DEAD_LETTERED = "events-dead-lettered";
    /** Wall-clock time of the first record read (the earliest over subtasks): where processing began. */
    public static final String FIRST_READ_MILLIS = "first-read-millis";

    private transient EventCodec codec;
    private transient Counter readMetric;
    private transient Counter acceptedMetric;
    private transient Counter deadMetric;
    private transient LongCounter read;
    private transient LongCounter accepted;
    private transient LongCounter dead;
    private transient LongMinimum firstRead;

    @Override
    public void open(OpenContext openContext) {
        codec = new EventCodec(Thresholds.NAMES);
        readMetric = getRuntimeContext().getMetricGroup().counter(READ);
        acceptedMetric = getRuntimeContext().getMetricGroup().counter(ACCEPTED);
        deadMetric = getRuntimeContext().getMetricGroup().counter(DEAD_LETTERED);
        read = getRuntimeContext().getLongCounter(READ);
        accepted = getRuntimeContext().getLongCounter(ACCEPTED);
        dead = getRuntimeContext().getLongCounter(DEAD_LETTERED);
        firstRead = new LongMinimum();
        getRuntimeContext().addAccumulator(FIRST_READ_MILLIS, firstRead);
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<TrainingEvent> out) {
        if (read.getLocalValuePrimitive() == 0) {
            firstRead.add(System.currentTimeMillis());
        }
        read.add(1);
        readMetric.inc();
        try {
            out.collect(record.utf8 != null ? codec.parse(record.utf8) : codec.parse(record.payload));
            accepted.add(1);
            acceptedMetric.inc();
        } catch (InvalidEventException e) {
            ctx.output(OutputTags.DEAD_LETTERS, DeadLetter.of(record.text(), e.field(), e.getMessage(), record.source()));
            dead.add(1);
            deadMetric.inc();
        } catch (RuntimeException e) {
            // a codec bug must not take the job down either: the record is kept, with what went wrong
            ctx.output(OutputTags.DEAD_LETTERS, DeadLetter.of(record.text(), "(payload)", "unexpected error: " + e, record.source()));
            dead.add(1);
            deadMetric.inc();
        }
    }
}
