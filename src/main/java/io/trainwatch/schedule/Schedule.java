package io.trainwatch.schedule;

/**
 * A learning-rate schedule in closed form: the LR of each param group after {@code index} calls of
 * the framework's {@code scheduler.step()} (torch's {@code last_epoch}), computed in O(1) or O(log
 * n) without replaying earlier steps.
 *
 * <p>Adaptive schedules (ReduceLROnPlateau) cannot say the value, only the range it must lie in:
 * they answer {@link #adaptive()} true, and callers use {@link #lowestLr}/{@link #highestLr}.
 */
public interface Schedule {
    /** Number of optimizer param groups. */
    int groups();

    /**
     * The LR of {@code group} after {@code index} scheduler steps; index 0 is the value right after
     * construction.
     */
    double lr(int group, long index);

    /** True when the LR depends on run-time metrics and only a range can be predicted. */
    default boolean adaptive() {
        return false;
    }

    /**
     * The lowest LR the schedule allows at this index (= {@link #lr} for predictable schedules).
     */
    default double lowestLr(int group, long index) {
        return lr(group, index);
    }

    /**
     * The highest LR the schedule allows at this index (= {@link #lr} for predictable schedules).
     */
    default double highestLr(int group, long index) {
        return lr(group, index);
    }
}
