package io.trainwatch.detect.lr;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;

import java.util.Arrays;
import java.util.function.LongToDoubleFunction;

/**
 * A named LR trace for the hypothesis tests: a declared schedule, the points the trainer reported,
 * and the run facts (as {@code LrMismatchDetector} passes them: the warmup and peak of the declared
 * schedule, the trace flat or not).
 */
final class TraceFixture {
    /** HF cosine with 100 warmup steps over 3000 steps, peak 1e-3. */
    static final String COSINE =
            "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":100,\"num_training_steps\":3000,\"base_lrs\":[1e-3]}}";

    /** HF linear warmup over 200 steps to 1e-3, then linear decay to 0 at 2000. */
    static final String LINEAR =
            "{\"scheduler\":\"linear\",\"params\":{\"num_warmup_steps\":200,\"num_training_steps\":2000,\"base_lrs\":[1e-3]}}";

    static final double TOLERANCE = 0.01; // lr_relative_tolerance default

    final DeclaredSchedule schedule;
    private long[] steps = new long[0];
    private double[] lrs = new double[0];
    private Long stepsPerEpoch;
    private Integer gradAccumSteps;
    private long[] resumeSteps = new long[0];

    private TraceFixture(String spec) {
        schedule = ScheduleSpec.parse(spec);
    }

    static TraceFixture declared(String spec) {
        return new TraceFixture(spec);
    }

    double declared(long step) {
        return schedule.lr(0, step);
    }

    /** Points at steps from..to (inclusive) every {@code every}, with the LR {@code lr} gives. */
    TraceFixture points(long from, long to, long every, LongToDoubleFunction lr) {
        for (long s = from; s <= to; s += every) {
            steps = Arrays.copyOf(steps, steps.length + 1);
            lrs = Arrays.copyOf(lrs, lrs.length + 1);
            steps[steps.length - 1] = s;
            lrs[lrs.length - 1] = lr.applyAsDouble(s);
        }
        return this;
    }

    TraceFixture stepsPerEpoch(long n) {
        stepsPerEpoch = n;
        return this;
    }

    TraceFixture gradAccumSteps(int n) {
        gradAccumSteps = n;
        return this;
    }

    TraceFixture resumedAt(long... firstStepsAfter) {
        resumeSteps = firstStepsAfter;
        return this;
    }

    Trace trace() {
        DeclaredSchedule.Warmup w = schedule.warmup();
        double min = Arrays.stream(lrs).min().orElse(Double.NaN);
        double max = Arrays.stream(lrs).max().orElse(Double.NaN);
        double dMin = Double.POSITIVE_INFINITY;
        double dMax = Double.NEGATIVE_INFINITY;
        for (long s : steps) {
            dMin = Math.min(dMin, declared(s));
            dMax = Math.max(dMax, declared(s));
        }
        return new Trace(
                schedule,
                0,
                steps,
                lrs,
                TOLERANCE,
                stepsPerEpoch,
                gradAccumSteps,
                resumeSteps,
                w.peakLr(),
                w.endStep(),
                RelativeMatch.matches(min, max, TOLERANCE),
                !RelativeMatch.matches(dMin, dMax, TOLERANCE / 2),
                0);
    }

    /** The one reading {@code h} gives, or null if it cannot apply. */
    Reading readBy(Hypothesis h) {
        var readings = h.readings(trace());
        return readings.isEmpty() ? null : readings.get(0);
    }

    Reading diagnosis() {
        return LrDiagnosis.diagnose(trace());
    }

    /** The value named {@code name} in the reading's numbers (an integer is a Long). */
    static Object number(Reading r, String name) {
        for (int i = 0; i < r.numbers().size(); i++) {
            if (name.equals(r.numbers().name(i))) {
                return r.numbers().value(i);
            }
        }
        throw new AssertionError("no " + name + " in " + r.numbers());
    }
}
