package io.trainwatch.schedule;

/**
 * DeepSpeed WarmupLR, WarmupDecayLR and WarmupCosineLR ({@code deepspeed/runtime/lr_schedules.py},
 * deepspeedai/DeepSpeed 614e3f17). DeepSpeed steps its scheduler after each optimizer step, so
 * after {@code index} calls {@code last_batch_iteration = index - 1}; index 0 is the LR the
 * constructor writes into the optimizer: {@code warmup_min_lr} for WarmupLR/WarmupDecayLR, 0.0 for
 * WarmupCosineLR. Warmup lasts {@code max(2, warmup_num_steps)} steps: log ({@code log(it + 1) /
 * log(W)}) or linear ({@code it / W}). WarmupDecayLR decays linearly to warmup_min_lr and stays
 * there; WarmupCosineLR's progress is clamped at 1, so it stays at {@code cos_min_ratio * lr} past
 * total_num_steps.
 */
record DeepSpeedSchedule(
        Kind kind,
        double[] minLrs,
        double[] maxLrs,
        double[] orgLrs,
        long warmupSteps,
        boolean logWarmup,
        long totalSteps,
        double warmupMinRatio,
        double cosMinRatio)
        implements Schedule {
    enum Kind {
        WARMUP,
        WARMUP_DECAY,
        WARMUP_COSINE
    }

    public int groups() {
        return kind == Kind.WARMUP_COSINE ? orgLrs.length : minLrs.length;
    }

    public double lr(int group, long index) {
        if (kind == Kind.WARMUP_COSINE) {
            return index == 0 ? 0.0 : orgLrs[group] * cosineRatio(index - 1);
        }
        if (index == 0) {
            return minLrs[group]; // the constructor writes warmup_min_lr into the optimizer
        }
        double gamma = warmupGamma(index - 1);
        return minLrs[group] + (maxLrs[group] - minLrs[group]) * gamma;
    }

    private double warmupFraction(long it) {
        return logWarmup
                ? (1.0 / Math.log(warmupSteps)) * Math.log(it + 1)
                : (double) it / warmupSteps;
    }

    private double warmupGamma(long it) {
        if (it < warmupSteps) {
            return warmupFraction(it);
        }
        if (kind == Kind.WARMUP) {
            return 1.0;
        }
        return Math.max(0.0, (double) (totalSteps - it) / Math.max(1.0, totalSteps - warmupSteps));
    }

    private double cosineRatio(long it) {
        if (it < warmupSteps) {
            double ratio = warmupFraction(it);
            double ratioDelta = 1. - warmupMinRatio;
            return warmupMinRatio + ratio * ratioDelta;
        }
        long realLastStep = it - warmupSteps + 1;
        long realTotalSteps = Math.max(1, totalSteps - warmupSteps);
        double cosineProgress = Math.min(1.0, (double) realLastStep / realTotalSteps);
        double ratioDelta = 1. - cosMinRatio;
        double ratio = (1 + Math.cos(Math.PI * cosineProgress)) / 2;
        return Math.max(0.0, cosMinRatio + ratioDelta * ratio);
    }
}
