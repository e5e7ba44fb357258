package io.trainwatch.schedule;

import java.util.Arrays;

/**
 * torch MultiStepLR: milestones form a Counter, so a repeated milestone applies gamma twice and
 * order does not matter; the LR is {@code base * gamma^bisect_right(sorted milestones, index)}.
 */
record MultiStepLrSchedule(double[] baseLrs, long[] sortedMilestones, double gamma)
        implements Schedule {
    static MultiStepLrSchedule of(double[] baseLrs, long[] milestones, double gamma) {
        long[] sorted = milestones.clone();
        Arrays.sort(sorted);
        return new MultiStepLrSchedule(baseLrs, sorted, gamma);
    }

    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        return Saturating.times(
                baseLrs[group], Math.pow(gamma, countAtOrBelow(sortedMilestones, index)));
    }

    /** bisect_right: how many sorted values are {@code <= x}. */
    static int countAtOrBelow(long[] sorted, long x) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= x) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
