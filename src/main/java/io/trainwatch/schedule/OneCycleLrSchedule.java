package io.trainwatch.schedule;

/**
 * torch OneCycleLR. Phase ends are floats and never rounded ({@code pct_start*total - 1}, three-phase
 * adds {@code 2*pct_start*total - 2}, the last is {@code total - 1}); each phase starts at the previous
 * end, so fractional denominators occur exactly as in torch. torch raises past {@code total_steps};
 * trainwatch holds the last value torch can produce (at {@code total_steps}).
 */
record OneCycleLrSchedule(double[] initialLr, double[] maxLr, double[] minLr, double[] phaseEnds, boolean threePhase,
                          boolean cosine, long totalSteps) implements Schedule {
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
                return anneal(phaseStartLr(group, i), phaseEndLr(group, i), pct);
            }
            start = end;
        }
        throw new IllegalStateException("unreachable: the last phase always matches");
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
