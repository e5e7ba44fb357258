package io.trainwatch.detect;

import io.trainwatch.schedule.DeclaredSchedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Explains an actual-vs-declared LR trace: tries each known wiring bug as a hypothesis, evaluates the
 * declared schedule under it (closed form, so any step is O(1)), and keeps the one that explains the most
 * points. Hypotheses: constant step offset; schedule restarted at a resume step; stretched by k (stepped
 * per epoch, or sized on micro-batches); squeezed by k; base LR scaled; decay never happens; LR frozen.
 */
final class LrTraceDiagnosis {
    /** A hypothesis must explain this share of the points to be named. */
    static final double MIN_FIT = 0.8;
    static final int MAX_OFFSET_STEPS = 64;
    static final int MAX_STRETCH_FACTOR = 64;
    /** Shortest staircase period read as an epoch without a declared steps_per_epoch. */
    static final long MIN_EPOCH_STEPS = 8;

    /** @param tied signatures of every reading that explains the trace as well as this one (itself included) */
    record Result(String kind, String summary, String diagnosis, String change, double fit, Object[] numbers, boolean declaredFactor,
                  List<String> tied) {
        Result(String kind, String summary, String diagnosis, String change, double fit, Object[] numbers) {
            this(kind, summary, diagnosis, change, fit, numbers, false, List.of());
        }

        Result(String kind, String summary, String diagnosis, String change, double fit, Object[] numbers, boolean declaredFactor) {
            this(kind, summary, diagnosis, change, fit, numbers, declaredFactor, List.of());
        }

        /** What the alert says, kind and numbers: an update is worth sending only when this changes. */
        String signature() {
            return kind + java.util.Arrays.toString(numbers);
        }
    }

    /** A stretch by a factor the run itself declared (steps per epoch, accumulation) is the most specific reading. */
    private static int preference(Result r) {
        return r.declaredFactor() ? -1 : preference(r.kind());
    }

    /** When several hypotheses explain the trace equally well, the most specific wins (lower = preferred). */
    private static int preference(String kind) {
        return switch (kind) {
            case "decay_never_happens", "lr_frozen" -> 0;
            case "restarted_on_resume" -> 1;
            case "offset_ahead", "offset_behind" -> 2;
            case "warmup_longer" -> 3;
            case "stepped_per_epoch", "stepped_per_step_declared_per_epoch" -> 4;
            case "stretched", "squeezed" -> 5;
            case "base_lr_scaled" -> 6;
            default -> 9;
        };
    }

    private LrTraceDiagnosis() {
    }

    /**
     * @param segmentFlat     the actual LR stayed flat over the whole mismatch so far (not only the points passed)
     * @param segmentDeclaredMoved the declared LR moved over the whole mismatch so far
     */
    static Result diagnose(DeclaredSchedule s, int group, long[] steps, double[] actual, double tol,
                           Long stepsPerEpoch, Integer gradAccum, long[] resumeSteps, int resumeCount, double peakLr, long warmupEndStep,
                           boolean segmentFlat, boolean segmentDeclaredMoved) {
        int n = steps.length;
        List<Result> candidates = new ArrayList<>();
        // restart on resume: actual(s) = declared(s - r)
        for (int i = 0; i < Math.min(resumeCount, resumeSteps.length); i++) {
            long firstAfter = resumeSteps[i];
            if (firstAfter <= 0) {
                continue;
            }
            // the first step logged after the resume is known; the step the scheduler restarted at is at most one
            // logging interval before it
            int hits = -1;
            int considered = 0;
            long r = firstAfter;
            for (long back = 0; back <= MAX_OFFSET_STEPS && back < firstAfter; back++) {
                long candidate = firstAfter - back;
                int h = 0;
                int cnt = 0;
                for (int j = 0; j < n; j++) {
                    if (steps[j] >= firstAfter) {
                        cnt++;
                        h += match(actual[j], s.lr(group, steps[j] - candidate), tol) ? 1 : 0;
                    }
                }
                if (h > hits) {
                    hits = h;
                    considered = cnt;
                    r = candidate;
                }
            }
            if (considered >= 2) {
                candidates.add(new Result("restarted_on_resume",
                        "the schedule restarted from its beginning at step " + r,
                        "the scheduler started again at step 0 when the run resumed at step " + r + " (its state, last_epoch, was not restored)",
                        "save scheduler.state_dict() with every checkpoint and load it on resume (PyTorch), or build the scheduler with last_epoch="
                                + (r - 1) + "; HF Trainer: resume_from_checkpoint=<checkpoint dir> restores it; Lightning: resume with ckpt_path, not by loading weights only",
                        (double) hits / considered, new Object[]{"resume_step", r}));
            }
        }
        // constant offset d: actual(s) = declared(s + d); among equally good offsets, the one with the least error
        int bestD = 0;
        int bestHits = -1;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int d = -MAX_OFFSET_STEPS; d <= MAX_OFFSET_STEPS; d++) {
            if (Math.abs(d) <= 1) {
                continue; // +-1 is the tolerated logging convention
            }
            int hits = 0;
            double err = 0;
            for (int j = 0; j < n; j++) {
                double e = s.lr(group, Math.max(0, steps[j] + d));
                hits += match(actual[j], e, tol) ? 1 : 0;
                err += relativeError(actual[j], e);
            }
            if (hits > bestHits || (hits == bestHits && (err < bestErr - 1e-12 || (Math.abs(err - bestErr) <= 1e-12 && Math.abs(d) < Math.abs(bestD))))) {
                bestHits = hits;
                bestD = d;
                bestErr = err;
            }
        }
        if (bestHits >= 0) {
            int d = bestD;
            candidates.add(d > 0
                    ? new Result("offset_ahead", "the LR runs " + d + " steps ahead of the declared schedule",
                    "constant offset of +" + d + " steps: scheduler.step() runs before optimizer.step(), or extra scheduler steps were taken at start",
                    "call optimizer.step() first and scheduler.step() after it, once per optimizer step (PyTorch warns about the reverse order); remove extra scheduler.step() calls",
                    (double) bestHits / n, new Object[]{"offset_steps", d})
                    : new Result("offset_behind", "the LR lags the declared schedule by " + (-d) + " steps (+-1 for the logging convention)",
                    "constant offset of " + d + " steps: optimizer steps without a scheduler step, typically fp16 GradScaler overflows that skip the step"
                            + " (the scheduler does not advance), or scheduler.step() skipped on some steps",
                    "with AMP a few early overflow skips are expected and the lag stays constant; if it keeps growing, lower the initial loss scale or train in bf16"
                            + " (HF: bf16=True); a hand-written loop should call scheduler.step() exactly once per optimizer step",
                    (double) bestHits / n, new Object[]{"offset_steps", d}));
        }
        // stretched by k (scheduler index = s / k) and squeezed by k (index = s * k)
        List<Long> factors = new ArrayList<>();
        for (long k = 2; k <= MAX_STRETCH_FACTOR; k++) {
            factors.add(k);
        }
        if (stepsPerEpoch != null && stepsPerEpoch > MAX_STRETCH_FACTOR) {
            factors.add(stepsPerEpoch);
        }
        if (gradAccum != null && gradAccum > MAX_STRETCH_FACTOR) {
            factors.add((long) gradAccum);
        }
        long bestStretch = 0;
        int bestStretchHits = -1;
        long bestSqueeze = 0;
        int bestSqueezeHits = -1;
        int[] floorHitsByFactor = new int[factors.size()];
        for (int f = 0; f < factors.size(); f++) {
            long k = factors.get(f);
            int st = 0;
            int sq = 0;
            for (int j = 0; j < n; j++) {
                boolean floored = match(actual[j], s.lr(group, steps[j] / k), tol);
                floorHitsByFactor[f] += floored ? 1 : 0;
                st += floored || match(actual[j], stretched(s, group, steps[j], k), tol) ? 1 : 0;
                sq += steps[j] <= Long.MAX_VALUE / k && match(actual[j], s.lr(group, steps[j] * k), tol) ? 1 : 0;
            }
            if (st > bestStretchHits) {
                bestStretchHits = st;
                bestStretch = k;
            }
            if (sq > bestSqueezeHits) {
                bestSqueezeHits = sq;
                bestSqueeze = k;
            }
        }
        for (Long known : new Long[]{stepsPerEpoch, gradAccum == null ? null : (long) gradAccum}) {
            // a factor the run itself declared (steps per epoch, gradient accumulation) wins a tie
            if (known != null && known >= 2 && stretchHits(s, group, steps, actual, known, tol) == bestStretchHits) {
                bestStretch = known;
            }
        }
        if (bestStretchHits >= 0) {
            long k = bestStretch;
            // a staircase (the floored index explains the points at least as well as a smooth stretch) is a scheduler
            // stepped every k steps; per-epoch periods are long, and a short staircase equal to the declared
            // accumulation factor is accumulation
            int floorHits = floorHitsByFactor[factors.indexOf(k)];
            boolean staircase = floorHits >= bestStretchHits && isStaircase(steps, actual, k, tol);
            boolean perEpoch = (stepsPerEpoch != null && k == stepsPerEpoch && floorHits >= bestStretchHits)
                    || (k >= MIN_EPOCH_STEPS && (gradAccum == null || k != gradAccum) && staircase);
            if (perEpoch && s.stepEvery() == 1) {
                candidates.add(new Result("stepped_per_epoch",
                        "the LR changes only every " + k + " steps (a staircase) while the schedule is declared per optimizer step",
                        "scheduler.step() is called once per epoch (every " + k + " optimizer steps) instead of after every optimizer step",
                        "call scheduler.step() after every optimizer.step() (Lightning: \"interval\": \"step\" in configure_optimizers); "
                                + "or, if the schedule is meant per epoch, size it in epochs (T_max/total_iters in epochs) and declare \"interval\": \"epoch\"",
                        (double) bestStretchHits / n, new Object[]{"period_steps", k, "stretch_factor", k}, stepsPerEpoch != null && k == stepsPerEpoch));
            } else {
                boolean accum = gradAccum != null && k == gradAccum;
                candidates.add(new Result("stretched",
                        "the schedule runs " + k + "x slower than declared",
                        accum ? "the schedule was sized on micro-batches: its total steps were not divided by gradient_accumulation_steps (" + k + ")"
                                : "the schedule was sized " + k + "x too long: total steps counted in micro-batches (gradient accumulation) or per-GPU batches (world size) instead of optimizer steps",
                        "size the schedule in optimizer steps: num_training_steps = len(train_dataloader) // gradient_accumulation_steps * num_epochs"
                                + " (HF get_*_schedule_with_warmup, T_max, total_steps likewise; HF Trainer does this itself); divide by the world size if the loader is not sharded",
                        (double) bestStretchHits / n, new Object[]{"stretch_factor", k}, accum));
            }
        }
        if (bestSqueezeHits >= 0) {
            long k = bestSqueeze;
            boolean epochDeclared = s.stepEvery() > 1 && k == s.stepEvery();
            candidates.add(new Result(epochDeclared ? "stepped_per_step_declared_per_epoch" : "squeezed",
                    "the schedule runs " + k + "x faster than declared",
                    epochDeclared ? "the schedule is declared per epoch but scheduler.step() is called after every optimizer step (" + k + " times per epoch)"
                            : "scheduler.step() runs " + k + " times per optimizer step (inside the gradient-accumulation loop, or once per micro-batch/GPU)",
                    epochDeclared ? "call scheduler.step() once per epoch (Lightning: \"interval\": \"epoch\"), or size the schedule in optimizer steps"
                            : "call scheduler.step() once per optimizer step, next to optimizer.step(), outside the micro-batch loop",
                    (double) bestSqueezeHits / n, new Object[]{"squeeze_factor", k}));
        }
        // warmup longer than declared: below the declared LR and closing in on it (ratio rising or flat), at
        // least partly inside the declared warmup or while the actual LR still rises after the declared one peaked
        boolean below = true;
        boolean closing = true;
        boolean inDeclaredWarmup = false;
        boolean stillRising = true;
        double prevRatio = 0;
        for (int j = 0; j < n; j++) {
            double e = s.lr(group, steps[j]);
            double ratio = e > 0 ? actual[j] / e : Double.NaN;
            below &= e > 0 && actual[j] < e * (1 - tol);
            closing &= !(ratio < prevRatio * (1 - tol));
            prevRatio = Double.isNaN(ratio) ? prevRatio : ratio;
            inDeclaredWarmup |= warmupEndStep > 0 && steps[j] < warmupEndStep;
            if (j > 0) {
                stillRising &= actual[j] >= actual[j - 1] * (1 - tol);
            }
        }
        // rising past the declared warmup end: at least two points after it, the last above the first of them
        int firstPast = -1;
        for (int j = 0; j < n && firstPast < 0; j++) {
            if (warmupEndStep >= 0 && steps[j] >= warmupEndStep) {
                firstPast = j;
            }
        }
        stillRising &= firstPast >= 0 && firstPast < n - 1 && actual[n - 1] > actual[firstPast] * (1 + tol);
        double firstRatio = s.lr(group, steps[0]) > 0 ? actual[0] / s.lr(group, steps[0]) : 0;
        boolean ratioRising = prevRatio > firstRatio * (1 + tol); // a constant ratio is a scaled LR, not a longer ramp
        boolean pastDeclaredWarmup = warmupEndStep >= 0 && steps[n - 1] >= warmupEndStep;
        if (below && closing && n >= 2 && ((inDeclaredWarmup && ratioRising) || (stillRising && pastDeclaredWarmup))) {
            candidates.add(new Result("warmup_longer", "the LR is still ramping up below the declared schedule: the warmup is longer than declared"
                    + (warmupEndStep > 0 ? " (" + warmupEndStep + " steps)" : ""),
                    "the warmup runs longer than declared: the trainer stretches it (e.g. YOLOv5 warms up for max(warmup_epochs x batches, 100 or 1000) iterations;"
                            + " a warmup counted in micro-batches or samples instead of optimizer steps)",
                    "declare the warmup the trainer really runs, or shorten it in the trainer (YOLOv5: with few batches per epoch the 100/1000-iteration minimum dominates;"
                            + " HF: warmup_steps counts optimizer steps, warmup_ratio a fraction of max_steps)",
                    1.0, new Object[]{"declared_warmup_steps", warmupEndStep, "actual_to_declared_ratio", prevRatio}));
        }
        // base LR scaled by c
        double[] ratios = new double[n];
        int m = 0;
        for (int j = 0; j < n; j++) {
            double e = s.lr(group, steps[j]);
            if (e > 0 && actual[j] > 0) {
                ratios[m++] = actual[j] / e;
            }
        }
        if (m >= 2) {
            double c = median(Arrays.copyOf(ratios, m));
            if (Math.abs(c - 1) > 3 * tol) {
                int hits = 0;
                for (int j = 0; j < n; j++) {
                    hits += match(actual[j], c * s.lr(group, steps[j]), tol) ? 1 : 0;
                }
                candidates.add(new Result("base_lr_scaled", "the LR is " + Numbers.fmt(c) + "x the declared value throughout",
                        "the base LR differs from the declared one by a factor " + Numbers.fmt(c)
                                + " (a resumed scheduler keeps the base LR stored in its checkpoint; an LR scaled by world size or batch size; a wrong learning_rate)",
                        "set the optimizer's lr to the intended base LR (HF: learning_rate); when resuming with a changed LR, also set scheduler.base_lrs, or declare base_lrs = "
                                + Numbers.fmt(c) + " x the current ones if the scaling is intended",
                        (double) hits / n, new Object[]{"lr_factor", Numbers.round3(1 / c), "observed_scale", c}));
            }
        }
        // actual LR constant: decay never happens (stuck at the peak) or frozen elsewhere
        double med = median(actual.clone());
        int flat = 0;
        for (int j = 0; j < n; j++) {
            flat += match(actual[j], med, tol) ? 1 : 0;
        }
        boolean declaredMoves = false;
        for (int j = 1; j < n && !declaredMoves; j++) {
            declaredMoves = !match(s.lr(group, steps[j]), s.lr(group, steps[0]), tol / 2);
        }
        declaredMoves |= segmentDeclaredMoved;
        boolean atPeak = Double.isFinite(peakLr) && match(med, peakLr, tol);
        if (!segmentFlat) {
            flat = 0; // it moved earlier in the mismatch: neither frozen nor stuck
        }
        // stuck at the peak is an override whatever the declared slope; "frozen" needs a declared LR that moves and a
        // non-zero LR (an LR of 0 while the declared warmup rises is a lag or a stretch, not a frozen scheduler)
        if (atPeak || (declaredMoves && med > 0)) {
            double declaredNow = s.lr(group, steps[n - 1]);
            candidates.add(atPeak
                    ? new Result("decay_never_happens", "the LR stays at its peak " + Numbers.fmt(med) + " while the declared schedule decays (to "
                    + Numbers.fmt(declaredNow) + " by step " + steps[n - 1] + ")",
                    "the declared decay never happens: another scheduler overrides the declared one (e.g. a \"scheduler\" block in the DeepSpeed config wins over HF lr_scheduler_type; or a constant-LR scheduler)",
                    "remove the \"scheduler\" section from the DeepSpeed config (or make it WarmupDecayLR/WarmupCosineLR with total_num_steps) so that lr_scheduler_type applies; "
                            + "or declare the schedule that is really used",
                    (double) flat / n, new Object[]{"observed_lr", med, "declared_lr_now", declaredNow})
                    : new Result("lr_frozen", "the LR is frozen at " + Numbers.fmt(med) + " while the declared schedule moves",
                    "the LR never changes: scheduler.step() is never called, or the optimizer was re-created after the scheduler was attached to the old one",
                    "call scheduler.step() after every optimizer.step(), and build the scheduler on the optimizer that is actually stepped",
                    (double) flat / n, new Object[]{"observed_lr", med}));
        }
        Result best = null;
        for (Result r : candidates) {
            if (r.fit() < MIN_FIT) {
                continue;
            }
            if (best == null || r.fit() > best.fit() + 1e-9
                    || (Math.abs(r.fit() - best.fit()) <= 1e-9 && preference(r) < preference(best))) {
                best = r;
            }
        }
        if (best != null) {
            List<String> alsoFit = new ArrayList<>();
            List<String> tied = new ArrayList<>();
            for (Result r : candidates) {
                if (Math.abs(r.fit() - best.fit()) <= 1e-9) {
                    tied.add(r.signature());
                    if (r != best && !r.kind().equals(best.kind()) && !alsoFit.contains(r.summary())) {
                        alsoFit.add(r.summary());
                    }
                }
            }
            String diagnosis = alsoFit.isEmpty() ? best.diagnosis() : best.diagnosis() + " (with " + n + " points this is the most specific reading; also consistent: "
                    + String.join("; ", alsoFit.subList(0, Math.min(2, alsoFit.size()))) + "; an update will follow if more steps tell them apart)";
            return new Result(best.kind(), best.summary(), diagnosis, best.change(), best.fit(), best.numbers(), best.declaredFactor(), tied);
        }
        double worst = 0;
        for (int j = 0; j < n; j++) {
            worst = Math.max(worst, relativeError(actual[j], s.lr(group, steps[j])));
        }
        return new Result("unexplained", "the LR deviates from the declared schedule (max relative error " + Numbers.fmt(worst) + ")",
                "the actual LR follows none of the known wiring bugs (offset, restart, stretch, per-epoch stepping, base LR, override, frozen)",
                "compare the scheduler the trainer builds with the declared spec (class, arguments, base LRs, how often scheduler.step() is called)",
                0, new Object[]{"max_relative_error", worst});
    }

    private static int stretchHits(DeclaredSchedule s, int group, long[] steps, double[] actual, long k, double tol) {
        int hits = 0;
        for (int j = 0; j < steps.length; j++) {
            hits += match(actual[j], s.lr(group, steps[j] / k), tol) || match(actual[j], stretched(s, group, steps[j], k), tol) ? 1 : 0;
        }
        return hits;
    }

    /** The declared schedule run k times slower, evaluated between integer indexes (a schedule sized k times too long is smooth). */
    private static double stretched(DeclaredSchedule s, int group, long step, long k) {
        long lo = step / k;
        double frac = (double) (step % k) / k;
        double a = s.lr(group, lo);
        return frac == 0 ? a : a + (s.lr(group, lo + 1) - a) * frac;
    }

    /** |a - e| relative to the larger of the two (so an expected 0 gives 1, not infinity). */
    static double relativeError(double actual, double expected) {
        double scale = Math.max(Math.abs(actual), Math.abs(expected));
        return scale == 0 ? 0 : Math.abs(actual - expected) / scale;
    }

    static boolean match(double actual, double expected, double tol) {
        return Math.abs(actual - expected) <= 1e-12 + tol * Math.max(Math.abs(actual), Math.abs(expected));
    }

    /** True when points in the same k-step bucket share one LR and the LR changes between buckets. */
    private static boolean isStaircase(long[] steps, double[] actual, long k, double tol) {
        boolean sharedBucket = false;
        boolean changes = false;
        for (int i = 1; i < steps.length; i++) {
            if (steps[i] / k == steps[i - 1] / k) {
                sharedBucket = true;
                if (!match(actual[i], actual[i - 1], tol)) {
                    return false;
                }
            } else {
                changes |= !match(actual[i], actual[i - 1], tol);
            }
        }
        return sharedBucket && changes;
    }

    private static double median(double[] v) {
        Arrays.sort(v);
        int n = v.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
