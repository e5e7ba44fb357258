package io.trainwatch.schedule;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * ns per LR evaluation at optimizer step 10^9, for every example spec in examples/schedules (one
 * per scheduler family). Run: {@code mvn -q -Pbench test-compile exec:exec} (see README
 * "Benchmarks"). ScheduleBenchmarkParamsTest keeps {@link #example}'s list equal to
 * examples/schedules/index.txt.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ScheduleBenchmark {
    static final long STEP = 1_000_000_000L;

    @Param({
        "deepspeed-warmup-cosine-lr",
        "deepspeed-warmup-decay-lr",
        "deepspeed-warmup-lr",
        "hf-constant-with-warmup",
        "hf-constant",
        "hf-cosine-with-min-lr",
        "hf-cosine-with-restarts",
        "hf-cosine",
        "hf-inverse-sqrt",
        "hf-linear",
        "hf-polynomial",
        "hf-warmup-stable-decay",
        "mxnet-cosine",
        "mxnet-factor",
        "mxnet-multi-factor",
        "mxnet-poly",
        "torch-chained-scheduler",
        "torch-constant-lr",
        "torch-cosine-annealing-lr",
        "torch-cosine-warm-restarts",
        "torch-cyclic-lr",
        "torch-exponential-lr",
        "torch-lambda-lr-yolo-cosine",
        "torch-linear-lr",
        "torch-multi-step-lr",
        "torch-one-cycle-lr",
        "torch-polynomial-lr",
        "torch-reduce-lr-on-plateau",
        "torch-sequential-lr",
        "torch-step-lr"
    })
    public String example;

    DeclaredSchedule schedule;
    long step = STEP; // a field, so the JIT cannot fold the call into a constant

    @Setup
    public void load() throws IOException {
        schedule =
                ScheduleSpec.parse(
                        Files.readString(Path.of("examples/schedules", example + ".json")));
    }

    @Benchmark
    public double lrAtStepOneBillion() {
        return schedule.adaptive() ? schedule.lowestLr(0, step) : schedule.lr(0, step);
    }
}
