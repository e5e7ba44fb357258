package io.trainwatch.job;

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
 * Parses raw records into v1 events; anything that cannot be accepted goes to the dead-letter side
 * output with its raw payload, the field at fault and the reason. Never throws on data. Counts
 * records read and dead-lettered (metrics, and accumulators for the replay summary); the monitor
 * counts the events it judged ({@link MonitorRunsFunction#ACCEPTED}) and the ones it dead-letters
 * in its turn, so read = accepted + dead-lettered.
 */
public class ParseEventsFunction extends ProcessFunction<RawRecord, TrainingEvent> {
    public static final String READ = "events-read";
    public static final String DEAD_LETTERED = "events-dead-lettered";

    /**
     * Wall-clock time of the first record read (the earliest over subtasks): where processing
     * began.
     */
    public static final String FIRST_READ_MILLIS = "first-read-millis";

    private transient EventCodec codec;
    private transient Counter readMetric;
    private transient Counter deadMetric;
    private transient LongCounter read;
    private transient LongCounter dead;
    private transient LongMinimum firstRead;

    @Override
    public void open(OpenContext openContext) {
        codec = new EventCodec();
        readMetric = getRuntimeContext().getMetricGroup().counter(READ);
        deadMetric = getRuntimeContext().getMetricGroup().counter(DEAD_LETTERED);
        read = getRuntimeContext().getLongCounter(READ);
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
            TrainingEvent e =
                    record.utf8 != null ? codec.parse(record.utf8) : codec.parse(record.payload);
            e.origin = record.origin;
            e.partition = record.partition;
            e.position = record.position;
            out.collect(e);
        } catch (InvalidEventException e) {
            ctx.output(
                    OutputTags.DEAD_LETTERS,
                    DeadLetter.of(record.text(), e.field(), e.getMessage(), record.source()));
            dead.add(1);
            deadMetric.inc();
        } catch (RuntimeException | StackOverflowError e) {
            // a codec bug must not take the job down either: the record is kept, with what went
            // wrong
            ctx.output(
                    OutputTags.DEAD_LETTERS,
                    DeadLetter.of(
                            record.text(), "(payload)", "unexpected error: " + e, record.source()));
            dead.add(1);
            deadMetric.inc();
        }
    }
}
