package io.trainwatch.job;

import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.InvalidEventException;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMinimum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;

/**
 * Sets the run each raw record is routed by ({@link RawRecord#runId}) and passes the record on as
 * it came, to be parsed once behind the keyBy ({@link MonitorRunsFunction}): the record's Kafka key
 * (the run_id, by the event format's convention), or, for a line of a file or a record without a
 * key, the run_id found in its payload ({@link EventCodec#runId}). A record whose run_id cannot be
 * found goes to the dead-letter side output with the full parser's error. Never throws on data.
 * Counts records read and dead-lettered (metrics, and accumulators for the replay summary); the
 * monitor counts the events it judged ({@link MonitorRunsFunction#ACCEPTED}) and the ones it
 * dead-letters in its turn, so read = accepted + dead-lettered.
 */
public class KeyRecordsFunction extends ProcessFunction<RawRecord, RawRecord> {
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

    /** Sets the record's run and emits it: the record is the source's, which keeps no reference. */
    @Override
    public void processElement(RawRecord record, Context ctx, Collector<RawRecord> out) {
        if (read.getLocalValuePrimitive() == 0) {
            firstRead.add(System.currentTimeMillis());
        }
        read.add(1);
        readMetric.inc();
        try {
            record.runId = runId(record);
            out.collect(record);
        } catch (InvalidEventException e) {
            deadLetter(ctx, record, e.field(), e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            // a codec bug must not take the job down either: the record is kept, with what went
            // wrong
            deadLetter(ctx, record, "(payload)", "unexpected error: " + e);
        }
    }

    /**
     * An empty key is no run_id (run ids are never empty) and is taken as no key: such a record is
     * routed by its payload, not dead-lettered as keyed by another run.
     */
    private String runId(RawRecord record) throws InvalidEventException {
        if (record.key != null && record.key.length > 0) {
            return new String(record.key, StandardCharsets.UTF_8);
        }
        return record.utf8 != null ? codec.runId(record.utf8) : codec.runId(record.payload);
    }

    private void deadLetter(Context ctx, RawRecord record, String field, String reason) {
        ctx.output(
                OutputTags.DEAD_LETTERS,
                DeadLetter.of(record.text(), field, reason, record.source()));
        dead.add(1);
        deadMetric.inc();
    }
}
