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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * ns per LR evaluation of the most expensive specs the limits accept ({@link WorstCaseSpecs}), at
 * random steps in [0, 2^53) and groups. Run: {@code mvn -q -Pbench test-compile exec:exec
 * -Dbench.args=ScheduleBoundsBenchmark}. ScheduleBoundsTest keeps {@link #spec}'s list equal to
 * WorstCaseSpecs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScheduleBoundsBenchmark {
    private static final int POINTS = 4096;

    @Param({
        "chained-16-children",
        "sequential-16-children",
        "multistep-4096-milestones",
        "warm-restarts-tmult-2",
        "lambda-1024-groups",
        "one-cycle-three-phase"
    })
    public String spec;

    DeclaredSchedule schedule;
    long[] steps = new long[POINTS];
    int[] groups = new int[POINTS];
    int next;

    @Setup
    public void load() {
        schedule = ScheduleSpec.parse(WorstCaseSpecs.all().get(spec));
        Random r = new Random(42);
        for (int i = 0; i < POINTS; i++) {
            steps[i] = Math.floorMod(r.nextLong(), SpecLimits.MAX_STEP);
            groups[i] = r.nextInt(schedule.groups());
        }
    }

    @Benchmark
    public double lrAtRandomStep() {
        int i = next++ & (POINTS - 1);
        return schedule.lr(groups[i], steps[i]);
    }
}
