package io.trainwatch.detect.lr;

import io.trainwatch.schedule.DeclaredSchedule;

/**
 * The LR points of a mismatch and the run facts a wiring-bug hypothesis may read: what every {@link
 * Hypothesis} is judged on.
 *
 * @param group the parameter group traced (an index into the declared schedule)
 * @param steps the scheduler steps of the points, in arrival order (they repeat after a resume)
 * @param lrs the reported LR at each of {@code steps}
 * @param tolerance the relative tolerance under which an LR matches ({@code lr_relative_tolerance})
 * @param stepsPerEpoch declared optimizer steps per epoch, or null
 * @param gradAccumSteps declared gradient accumulation steps, or null
 * @param resumeSteps the first step logged after each resume the run made
 * @param peakLr the highest LR the declared schedule reaches, or NaN
 * @param warmupEndStep the step the declared warmup ends, or -1 if unknown
 * @param segmentFlat the actual LR stayed flat over the whole mismatch so far (not only the points
 *     here)
 * @param segmentDeclaredMoved the declared LR moved over the whole mismatch so far
 * @param stepBase the run's {@code step_base}: texts name a step as {@link #display} of it
 */
public record Trace(
        DeclaredSchedule schedule,
        int group,
        long[] steps,
        double[] lrs,
        double tolerance,
        Long stepsPerEpoch,
        Integer gradAccumSteps,
        long[] resumeSteps,
        double peakLr,
        long warmupEndStep,
        boolean segmentFlat,
        boolean segmentDeclaredMoved,
        int stepBase) {

    /** {@code step} as the run's own logs number it, for the texts a person reads. */
    long display(long step) {
        return step + stepBase;
    }

    /** Number of points. */
    int size() {
        return steps.length;
    }

    /** The declared LR at scheduler index {@code index}. */
    double declaredAt(long index) {
        return schedule.lr(group, index);
    }

    /** The declared LR at the step of point j. */
    double declared(int j) {
        return schedule.lr(group, steps[j]);
    }

    boolean matches(double actual, double expected) {
        return RelativeMatch.matches(actual, expected, tolerance);
    }
}
