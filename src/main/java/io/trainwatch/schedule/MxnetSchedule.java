package io.trainwatch.schedule;

/**
 * MXNet's FactorScheduler, MultiFactorScheduler, PolyScheduler and CosineScheduler, in closed form
 * equal to calling the stateful originals with {@code num_update = 0, 1, 2, ...}. MXNet drives one
 * LR for every param group (per-parameter lr_mult is outside the scheduler).
 *
 * <ul>
 *   <li>Factor: strict {@code >}, so decay k fires at {@code num_update = k*step + 1}; the counter
 *       starts at 0 even with warmup, so decays that fell inside a long warmup all fire at its end;
 *       the running product is clamped at {@code stop_factor_lr}.
 *   <li>MultiFactor: one decay per milestone with {@code num_update > step[k]}.
 *   <li>Poly / Cosine: computed while {@code num_update <= max_update}, then the last value (=
 *       final_lr).
 * </ul>
 */
record MxnetSchedule(
        Kind kind,
        int groups,
        double baseLr,
        MxnetWarmup warmup,
        double factor,
        long step,
        long[] steps,
        double stopFactorLr,
        long maxUpdate,
        double power,
        double finalLr)
        implements Schedule {
    enum Kind {
        FACTOR,
        MULTI_FACTOR,
        POLY,
        COSINE
    }

    public int groups() {
        return groups;
    }

    public double lr(int group, long numUpdate) {
        if (warmup.covers(numUpdate)) {
            return warmup.lr(numUpdate, baseLr);
        }
        return switch (kind) {
            case FACTOR -> {
                long decays = numUpdate == 0 ? 0 : (numUpdate - 1) / step;
                yield decays == 0
                        ? baseLr
                        : Math.max(stopFactorLr, baseLr * Math.pow(factor, (double) decays));
            }
            case MULTI_FACTOR -> baseLr * Math.pow(factor, countBelow(steps, numUpdate));
            case POLY, COSINE -> {
                long n = Math.min(numUpdate, maxUpdate);
                double maxSteps = maxUpdate - warmup.steps();
                if (kind == Kind.POLY) {
                    yield finalLr
                            + (baseLr - finalLr)
                                    * Math.pow(1 - (double) (n - warmup.steps()) / maxSteps, power);
                }
                yield finalLr
                        + (baseLr - finalLr)
                                * (1 + Math.cos(Math.PI * (n - warmup.steps()) / maxSteps))
                                / 2;
            }
        };
    }

    /** How many sorted milestones are strictly below {@code x}. */
    private static int countBelow(long[] sorted, long x) {
        return MultiStepLrSchedule.countAtOrBelow(sorted, x - 1);
    }
}
