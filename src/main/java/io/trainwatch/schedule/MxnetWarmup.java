package io.trainwatch.schedule;

/**
 * MXNet LRScheduler warmup, shared by all four MXNet schedulers: for {@code num_update <
 * warmup_steps}, linear {@code begin + (final - begin) * float(n) / float(warmup_steps)} or
 * constant {@code begin}.
 */
record MxnetWarmup(long steps, double beginLr, boolean linear) {
    boolean covers(long numUpdate) {
        return numUpdate < steps;
    }

    double lr(long numUpdate, double finalLr) {
        if (!linear) {
            return beginLr;
        }
        double increase = (finalLr - beginLr) * (double) numUpdate / (double) steps;
        return beginLr + increase;
    }
}
