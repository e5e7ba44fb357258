package io.trainwatch.schedule;

/**
 * torch SequentialLR: child {@code k} runs from milestone {@code k-1}; at a milestone torch calls
 * {@code child.step(0)}, which restarts the child at its own index 0 (its closed form there), even
 * if the previous child had not finished. Milestone lookup is a binary search.
 */
record SequentialLrSchedule(Schedule[] children, long[] milestones) implements Schedule {
    public int groups() {
        return children[0].groups();
    }

    public double lr(int group, long index) {
        int k = MultiStepLrSchedule.countAtOrBelow(milestones, index);
        long local = k == 0 ? index : index - milestones[k - 1];
        return children[k].lr(group, local);
    }
}
