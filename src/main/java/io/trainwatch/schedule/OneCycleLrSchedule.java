package io.trainwatch.schedule;

/**
 * torch OneCycleLR. Phase ends are floats and never rounded ({@code pct_start*total - 1},
 * three-phase adds {@code 2*pct_start*total - 2}, the last is {@code total - 1}); each phase starts
 * at the previous end, so fractional denominators occur exactly as in torch. torch raises past
 * {@code total_steps}; trainwatch holds the last value torch can produce (at {@code total_steps}),
 * floored at 0: there the linear anneal overshoots {@code min_lr} by {@code (max_lr - min_lr) /
 * phase length}, below 0 for short phases.
 */
record OneCycleLrSchedule(
        double[] initialLr,
        double[] maxLr,
        double[] minLr,
        double[] phaseEnds,
        boolean threePhase,
        boolean cosine,
        long totalSteps)
        implements Schedule {
    public int groups() {
        return maxLr.length;
    }

    public double lr(int group, long index) {
        long step = Math.min(index, totalSteps);
        double start = 0;
        for (int i = 0; i < phaseEnds.length; i++) {
            double end = phaseEnds[i];
            if (step <= end || i == phaseEnds.length - 1) {
                double pct = (step - start) / (end - start);
                return Math.max(0.0, anneal(phaseStartLr(group, i), phaseEndLr(group, i), pct));
            }
            start = end;
        }
        throw new IllegalStateException("unreachable: the last phase always matches");
    }

    /**
     * The first phase that some step in [0, total] falls in and that has zero length (torch divides
     * by it: ZeroDivisionError), or -1. Phase i takes the steps above every earlier end, up to its
     * own end (the last: up to total); its length is its end minus the previous end.
     */
    static int zeroLengthPhase(double[] phaseEnds, long total) {
        double earlierMax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < phaseEnds.length; i++) {
            long first =
                    Math.max(
                            0,
                            earlierMax == Double.NEGATIVE_INFINITY
                                    ? 0
                                    : (long) Math.floor(earlierMax) + 1);
            long last =
                    i == phaseEnds.length - 1
                            ? total
                            : Math.min(total, (long) Math.floor(phaseEnds[i]));
            double start = i == 0 ? 0 : phaseEnds[i - 1];
            if (first <= last && phaseEnds[i] - start == 0) {
                return i;
            }
            earlierMax = Math.max(earlierMax, phaseEnds[i]);
        }
        return -1;
    }

    private double phaseStartLr(int g, int phase) {
        if (threePhase) {
            return phase == 1 ? maxLr[g] : initialLr[g];
        }
        return phase == 0 ? initialLr[g] : maxLr[g];
    }

    private double phaseEndLr(int g, int phase) {
        if (threePhase) {
            return phase == 0 ? maxLr[g] : phase == 1 ? initialLr[g] : minLr[g];
        }
        return phase == 0 ? maxLr[g] : minLr[g];
    }

    private double anneal(double start, double end, double pct) {
        if (cosine) {
            double cosOut = Math.cos(Math.PI * pct) + 1;
            return end + (start - end) / 2.0 * cosOut;
        }
        return (end - start) * pct + start;
    }
}
