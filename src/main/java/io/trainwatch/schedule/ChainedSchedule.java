package io.trainwatch.schedule;

/**
 * torch ChainedScheduler over chainable multiplicative children (StepLR, MultiStepLR,
 * ExponentialLR, ConstantLR, LinearLR, PolynomialLR, CosineAnnealingLR with eta_min 0): every child
 * multiplies the group LR by its own step ratio, so the LR is {@code base * product of each child's
 * factor}. The children are built with unit base LRs, so {@code child.lr} is that factor.
 *
 * <p>A CosineAnnealingLR child is the one exception: past {@code T_max}, at {@code index = T_max +
 * 1 + 2k*T_max}, torch's special branch adds {@code base*(1-cos(pi/T_max))/2} to an LR that the
 * cosine had driven to 0, so the product restarts there from the cosine alone; children before it
 * in the chain count from that step, children after it from the step before.
 */
record ChainedSchedule(double[] baseLrs, Schedule[] unitChildren, int cosineChild, long cosineTMax)
        implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        double lr = baseLrs[group];
        if (cosineChild < 0 || index <= cosineTMax) {
            for (Schedule child : unitChildren) {
                lr = Saturating.times(lr, child.lr(group, index));
            }
            return lr;
        }
        long period = 2 * cosineTMax;
        long reset = cosineTMax + 1 + period * ((index - cosineTMax - 1) / period);
        for (int j = 0; j < unitChildren.length; j++) {
            Schedule child = unitChildren[j];
            if (j == cosineChild) {
                lr = Saturating.times(lr, child.lr(group, index));
            } else {
                lr =
                        Saturating.times(
                                lr,
                                ratio(
                                        child.lr(group, index),
                                        child.lr(group, j < cosineChild ? reset : reset - 1)));
            }
        }
        return lr;
    }

    /**
     * A child that had reached 0 before the reset only multiplies by 1 afterwards (its later ratios
     * are 1). Children saturate at the largest double, so this is never inf/inf.
     */
    private static double ratio(double now, double atReset) {
        return atReset == 0 ? 1.0 : now / atReset;
    }
}
