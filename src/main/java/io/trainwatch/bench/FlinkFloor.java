package io.trainwatch.bench;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.KafkaPipeline;
import io.trainwatch.job.RawRecord;
import io.trainwatch.job.TrainwatchJob;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.accumulators.LongMinimum;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;

/**
 * The Flink floor of {@code bench}: the job's shape with no trainwatch work in it. The job's own
 * Kafka source ({@link KafkaPipeline#source}: same deserializer, properties, bounded at the end
 * offsets) → keyBy run (the Kafka record's key: no JSON is parsed) → a count per run in keyed state
 * → a discarding sink, in the job's environment ({@link KafkaPipeline#environment}: parallelism,
 * exactly-once checkpointing, state backend) with the job's type settings ({@link
 * TrainwatchJob#configure}: object reuse, no Kryo). Measured as the job is: over the whole bounded
 * job, and from the first record read to the last record counted (accumulators).
 */
final class FlinkFloor {
    static final String FIRST_READ_MILLIS = "floor-first-read-millis";
    static final String LAST_COUNTED_MILLIS = "floor-last-counted-millis";
    static final String COUNTED = "floor-events-counted";
    static final String RUNS = "floor-runs";

    /**
     * One pass: records counted, distinct runs (keys) seen, the whole job's seconds, and its
     * processing seconds (first record read to last counted, at least 1 ms).
     */
    record Result(long counted, long runs, double seconds, double processingSeconds) {
        double rate() {
            return counted / seconds;
        }

        double processingRate() {
            return counted / processingSeconds;
        }
    }

    private FlinkFloor() {}

    /** Runs the floor, bounded, over {@code cfg}'s events topic. */
    static Result run(JobConfig cfg) throws Exception {
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        TrainwatchJob.configure(env);
        KafkaPipeline.source(env, cfg)
                .process(new MarkFirstRead())
                .uid("mark-first-read")
                .name("mark-first-read")
                .keyBy(new RunKey())
                .process(new CountPerRun())
                .uid("count-per-run")
                .name("count-per-run")
                .sinkTo(new DiscardingSink<>())
                .name("discard");
        long t = System.nanoTime();
        JobExecutionResult result = env.execute("trainwatch-bench-floor");
        double seconds = Bench.secs(t);
        long first = result.getAccumulatorResult(FIRST_READ_MILLIS);
        long last = result.getAccumulatorResult(LAST_COUNTED_MILLIS);
        return new Result(
                result.getAccumulatorResult(COUNTED),
                result.getAccumulatorResult(RUNS),
                seconds,
                Math.max(1, last - first) / 1000.0);
    }

    /**
     * The run of a record: its Kafka key decoded (a record without a key counts under the empty
     * run).
     */
    static final class RunKey implements KeySelector<RawRecord, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(RawRecord r) {
            return r.key == null ? "" : new String(r.key, StandardCharsets.UTF_8);
        }
    }

    /**
     * Passes records on, noting when the first was read: the job's parser does the same, chained to
     * the source (the earliest over subtasks).
     */
    static final class MarkFirstRead extends ProcessFunction<RawRecord, RawRecord> {
        private transient LongMinimum firstRead;
        private transient boolean read;

        @Override
        public void open(OpenContext openContext) {
            firstRead = new LongMinimum();
            getRuntimeContext().addAccumulator(FIRST_READ_MILLIS, firstRead);
        }

        @Override
        public void processElement(RawRecord r, Context ctx, Collector<RawRecord> out) {
            if (!read) {
                firstRead.add(System.currentTimeMillis());
                read = true;
            }
            out.collect(r);
        }
    }

    /**
     * Keyed by run: the run's record count in a {@code ValueState<Long>}, read and written back per
     * record as the monitor does with a run's state, and emitted; the processing time of the last
     * record counted (the latest over subtasks), as the monitor notes it.
     */
    static final class CountPerRun extends KeyedProcessFunction<String, RawRecord, Long> {
        private transient ValueState<Long> count;
        private transient LongCounter counted;
        private transient LongCounter runs;
        private transient LongMaximum lastCounted;

        @Override
        public void open(OpenContext openContext) {
            count =
                    getRuntimeContext()
                            .getState(new ValueStateDescriptor<>("run-count", Types.LONG));
            counted = getRuntimeContext().getLongCounter(COUNTED);
            runs = getRuntimeContext().getLongCounter(RUNS);
            lastCounted = new LongMaximum();
            getRuntimeContext().addAccumulator(LAST_COUNTED_MILLIS, lastCounted);
        }

        @Override
        public void processElement(RawRecord r, Context ctx, Collector<Long> out) throws Exception {
            Long n = count.value();
            if (n == null) {
                n = 0L;
                runs.add(1);
            }
            n++;
            count.update(n);
            counted.add(1);
            lastCounted.add(ctx.timerService().currentProcessingTime());
            out.collect(n);
        }
    }
}
