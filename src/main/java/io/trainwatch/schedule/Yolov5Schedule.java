package io.trainwatch.schedule;

/**
 * YOLOv5's LR (train.py): three param groups (0: BatchNorm weights, 1: weights with decay, 2:
 * biases), a LambdaLR stepped once per epoch — linear {@code (1 - e/epochs)(1 - lrf) + lrf} or
 * {@code one_cycle(1, lrf, epochs)} — and, for the first {@code nw = max(round(warmup_epochs * nb),
 * min_warmup_iters)} iterations, {@code np.interp(ni, [0, nw], [start, lr0 * lf(epoch)])} with
 * start {@code warmup_bias_lr} for the biases and 0 for the others (applied while {@code ni <=
 * nw}). After warmup the epoch-e LR is {@code lr0 * lf(e - 1)} (train.py resets last_epoch after
 * building the scheduler). The step is the iteration ni.
 */
record Yolov5Schedule(
        double lr0,
        double lrf,
        double epochs,
        boolean oneCycle,
        long batchesPerEpoch,
        long warmupIters,
        double warmupBiasLr)
        implements Schedule {
    static final int BIAS_GROUP = 2;

    public int groups() {
        return 3;
    }

    public double lr(int group, long iteration) {
        long epoch = iteration / batchesPerEpoch;
        if (iteration <= warmupIters && warmupIters > 0) {
            double target = lr0 * lf(epoch);
            double start = group == BIAS_GROUP ? warmupBiasLr : 0.0;
            // np.interp; towards a target of 0 the last point can land a rounding error below 0
            return Math.max(0.0, start + (target - start) * iteration / warmupIters);
        }
        // train.py sets scheduler.last_epoch = start_epoch - 1 after building the LambdaLR, so
        // during epoch e the
        // optimizer runs on lf(e - 1); in the epoch where warmup ends, the last warmup value lr0 *
        // lf(e) stays.
        long warmupEpoch = warmupIters / batchesPerEpoch;
        return lr0 * lf(epoch == warmupEpoch && warmupIters > 0 ? epoch : Math.max(0, epoch - 1));
    }

    private double lf(long x) {
        if (oneCycle) {
            return ((1 - Math.cos(x * Math.PI / epochs)) / 2) * (lrf - 1) + 1;
        }
        return Math.max(
                0.0,
                (1 - x / epochs) * (1.0 - lrf)
                        + lrf); // past the last epoch it would cross 0: floored
    }
}
