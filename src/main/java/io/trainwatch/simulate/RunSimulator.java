package io.trainwatch.simulate;

import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Generates realistic training runs from a seed: a declared schedule (HF cosine/linear with warmup,
 * SequentialLR warmup + cosine, OneCycleLR, StepLR, constant with warmup), a loss that decays
 * towards a floor with multiplicative per-batch noise (averaged when logged every k steps), a
 * log-normal grad norm, the reported LR, batch ids — and optionally one injected {@link Fault}.
 * Used by the scenario suite that measures each detector's precision, recall and delay, and by the
 * demo.
 */
public final class RunSimulator {
    /**
     * Relative LR tolerance used to find when an LR fault becomes observable (as LR_MISMATCH's
     * default).
     */
    static final double LR_TOLERANCE = 0.01;

    /** Logged steps over which injected growth continues before it levels off. */
    static final int GROWTH_POINTS = 12;

    /**
     * STALL's earliest possible call: the stall window (Threshold.STALL_WINDOW_STEPS), plus one
     * checkpoint spacing (the detector compares with levels kept every window/16 steps), plus the
     * 8-point lag of its 16-loss median.
     */
    static final long STALL_WINDOW_STEPS = 5000;

    static final long STALL_CHECKPOINT_SPACING = STALL_WINDOW_STEPS / 16;
    static final int STALL_SETTLE_POINTS = 8;

    /** When the simulated runs start (event time). */
    public static final long START_MILLIS = 1_790_000_000_000L;

    private RunSimulator() {}

    public static SimulatedRun generate(long seed, Fault fault) {
        return new Builder(seed, fault).build();
    }

    private static final class Builder {
        final SplittableRandom rnd;
        final Fault fault;
        final String runId;
        final long total;
        final int logEvery;
        final String spec;
        final int scheduleKind;
        final DeclaredSchedule declared;
        final long warmup;
        final double loss0;
        final double lossFloor;
        final double tau;
        final double noise;
        final double grad0;
        final double gradNoise;
        final Double gradClip;

        /**
         * Time: its own random stream, so the values the other faults draw stay as they were when
         * their thresholds were tuned.
         */
        final SplittableRandom timing;

        /** Seconds per optimizer step, and the relative noise of a logging interval's duration. */
        final double stepSeconds;

        final double timeNoise;
        long onset = -1;
        String description;

        Builder(long seed, Fault fault) {
            this.rnd = new SplittableRandom(seed);
            this.fault = fault;
            this.runId = "sim-" + fault.name().toLowerCase(Locale.ROOT) + "-" + seed;
            boolean longRun = fault == Fault.STALL;
            this.total = longRun ? 9000 + rnd.nextInt(3000) : 800 + rnd.nextInt(2400);
            this.logEvery = longRun ? 10 : new int[] {1, 1, 1, 2, 5, 10}[rnd.nextInt(6)];
            double baseLr = Math.pow(10, -5 + 3 * rnd.nextDouble());
            // at least 10 logged steps of warmup, so that warmup behaviour is observable at every
            // logging interval
            this.warmup =
                    Math.max(10L * logEvery, Math.round(total * (0.03 + 0.07 * rnd.nextDouble())));
            // a plateau is only a stall while the LR is still meaningful: long runs keep a constant
            // or stepped LR
            this.scheduleKind = longRun ? 4 + rnd.nextInt(2) : rnd.nextInt(6);
            this.spec = schedule(scheduleKind, baseLr, 1);
            this.declared = ScheduleSpec.parse(spec);
            this.loss0 = 2 + 8 * rnd.nextDouble();
            this.lossFloor = 0.2 + 1.8 * rnd.nextDouble();
            this.tau = total * (0.1 + 0.25 * rnd.nextDouble());
            this.noise = 0.01 + 0.05 * rnd.nextDouble();
            this.grad0 = Math.pow(10, -1 + 2 * rnd.nextDouble());
            this.gradNoise = 0.1 + 0.2 * rnd.nextDouble();
            this.gradClip = rnd.nextBoolean() ? 1.0 : null;
            this.timing = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
            this.stepSeconds =
                    fault == Fault.SPARSE_LOGGING
                            ? (20 + 40 * timing.nextDouble()) * 60 / logEvery
                            : 0.2 * Math.pow(15, timing.nextDouble());
            this.timeNoise = 0.02 + 0.06 * timing.nextDouble();
        }

        /**
         * A schedule of the given kind; {@code stretch} multiplies every length in it (warmup,
         * total, step size).
         */
        private String schedule(int kind, double lr, long stretch) {
            long warmup = this.warmup * stretch;
            long total = this.total * stretch;
            String base = "\"base_lrs\": [" + lr + "]";
            return switch (kind) {
                case 0 ->
                        "{\"scheduler\": \"cosine\", \"params\": {\"num_warmup_steps\": "
                                + warmup
                                + ", \"num_training_steps\": "
                                + total
                                + ", "
                                + base
                                + "}}";
                case 1 ->
                        "{\"scheduler\": \"linear\", \"params\": {\"num_warmup_steps\": "
                                + warmup
                                + ", \"num_training_steps\": "
                                + total
                                + ", "
                                + base
                                + "}}";
                case 2 ->
                        "{\"scheduler\": \"SequentialLR\", \"params\": {\"schedulers\": [{\"scheduler\": \"LinearLR\", \"params\": {\"start_factor\": 0.01, \"total_iters\": "
                                + warmup
                                + "}}, {\"scheduler\": \"CosineAnnealingLR\", \"params\": {\"T_max\": "
                                + (total - warmup)
                                + ", \"eta_min\": "
                                + lr / 100
                                + "}}], \"milestones\": ["
                                + warmup
                                + "], "
                                + base
                                + "}}";
                case 3 ->
                        "{\"scheduler\": \"OneCycleLR\", \"params\": {\"max_lr\": "
                                + lr
                                + ", \"total_steps\": "
                                + total
                                + ", \"pct_start\": "
                                + ((double) warmup / total)
                                + ", "
                                + base
                                + "}}";
                case 4 ->
                        "{\"scheduler\": \"SequentialLR\", \"params\": {\"schedulers\": [{\"scheduler\": \"LinearLR\", \"params\": {\"start_factor\": 0.01, \"total_iters\": "
                                + warmup
                                + "}}, {\"scheduler\": \"StepLR\", \"params\": {\"step_size\": "
                                + Math.max(1, total / 3)
                                + ", \"gamma\": 0.3}}], \"milestones\": ["
                                + warmup
                                + "], "
                                + base
                                + "}}";
                default ->
                        "{\"scheduler\": \"constant_with_warmup\", \"params\": {\"num_warmup_steps\": "
                                + warmup
                                + ", "
                                + base
                                + "}}";
            };
        }

        /** The loss without noise or fault at a step: decaying from loss0 towards the floor. */
        private double cleanLossAt(long step) {
            return lossFloor + (loss0 - lossFloor) * Math.exp(-step / tau);
        }

        SimulatedRun build() {
            List<String> events = new ArrayList<>();
            long postWarmup = warmup + (long) ((total - warmup) * (0.2 + 0.4 * rnd.nextDouble()));
            Plan plan = plan(postWarmup);
            long stepsPerEpoch =
                    fault == Fault.LR_STEPPED_PER_EPOCH ? plan.k : 20 + rnd.nextInt(180);
            events.add(
                    0,
                    JsonWriter.object(
                            "type",
                            "run_start",
                            "run_id",
                            runId,
                            "schedule",
                            JsonReader.parse(spec),
                            "grad_clip",
                            gradClip,
                            "optimizer",
                            "AdamW",
                            "steps_per_epoch",
                            stepsPerEpoch));
            double lossLevel = loss0;
            double gradLevel = grad0;
            long step = 0;
            boolean resumed = false;
            int stepEvents = 0;
            int onsetIndex = -1;
            int startIndex = -1;
            double clock = START_MILLIS;
            while (step < total) {
                long logStep = step + logEvery - 1;
                if (logStep >= total) {
                    break;
                }
                if (fault == Fault.RUN_SILENT && logStep > plan.start) {
                    break; // the run hangs, or is killed: no more steps, no run_end
                }
                clock += 1000 * plan.intervalSeconds(logStep);
                // clean signal over the logging interval
                double cleanLoss = cleanLossAt(logStep);
                double loss =
                        cleanLoss * Math.exp(noise / Math.sqrt(logEvery) * rnd.nextGaussian());
                double grad =
                        grad0
                                * (0.6 + 0.4 * Math.exp(-logStep / tau))
                                * Math.exp(gradNoise * rnd.nextGaussian());
                long scheduleStep = logStep;
                double[] lr = declared.lrs(scheduleStep);
                // inject
                double[] modified = plan.apply(logStep, loss, grad, lr, cleanLoss);
                loss = modified[0];
                grad = modified[1];
                lr = new double[] {modified[2]};
                events.add(
                        JsonWriter.object(
                                "type",
                                "step",
                                "run_id",
                                runId,
                                "step",
                                logStep,
                                "loss",
                                loss,
                                "grad_norm",
                                grad,
                                "lr",
                                lr,
                                "batch",
                                "batch-" + logStep,
                                "time",
                                (long) clock));
                stepEvents++;
                if (startIndex < 0 && plan.changed(logStep, lr[0])) {
                    startIndex = stepEvents - 1;
                }
                if (onset < 0 && plan.observableAt(logStep, lr[0])) {
                    onset = logStep;
                    onsetIndex = stepEvents - 1;
                }
                step += logEvery;
                if (fault == Fault.LR_RESTARTED_ON_RESUME && !resumed && step >= plan.resumeAt) {
                    resumed = true;
                    step = plan.checkpoint; // the trainer restarts from a checkpoint: steps go back
                    plan.seenResume = true;
                }
            }
            if (fault != Fault.RUN_SILENT) {
                events.add(
                        JsonWriter.object(
                                "type",
                                "run_end",
                                "run_id",
                                runId,
                                "step",
                                Math.max(0, step - 1),
                                "status",
                                "completed",
                                "time",
                                (long) clock));
            }
            return new SimulatedRun(
                    runId,
                    fault,
                    onset,
                    onsetIndex,
                    startIndex < 0
                            ? onsetIndex
                            : Math.min(startIndex, onsetIndex < 0 ? startIndex : onsetIndex),
                    events,
                    description);
        }

        /** How the fault changes the signals, and when it becomes observable. */
        /**
         * The declared schedule sized k times too long (every length in it multiplied), for
         * LR_STRETCHED.
         */
        DeclaredSchedule stretchedSchedule;

        private final class Plan {
            long start;
            long resumeAt = Long.MAX_VALUE;
            long checkpoint;
            double factor;
            long k;
            int spikesLeft;
            long[] spikeSteps = new long[0];
            int spikeLength;

            double[] apply(long s, double loss, double grad, double[] lr, double cleanLoss) {
                double l = loss;
                double g = grad;
                double rate = lr[0];
                switch (fault) {
                    case NAN_BAD_BATCH -> {
                        if (s == start) {
                            l = Double.NaN;
                            g = Double.NaN;
                        }
                    }
                    case NAN_AFTER_EXPLOSION -> {
                        long before = (start - s) / logEvery;
                        if (s >= start) {
                            l = Double.NaN;
                            g = Double.POSITIVE_INFINITY;
                        } else if (before < 5) {
                            g = grad * Math.pow(4, 5 - before);
                            l = loss * (1 + 0.3 * (5 - before));
                        }
                    }
                    case WARMUP_BLOWUP -> {
                        if (s >= start) {
                            double t = (double) (s - start) / Math.max(1, warmup);
                            l = cleanLoss * (1 + factor * Math.exp(-t)) * (loss / cleanLoss);
                            g = grad * (1 + factor);
                        }
                    }
                    case LOSS_SPIKES -> {
                        for (long sp : spikeSteps) {
                            if (s >= sp && s < sp + (long) spikeLength * logEvery) {
                                l = loss * factor;
                            }
                        }
                    }
                    case GRAD_SPIKE -> {
                        if (s == start) {
                            g = grad * factor;
                        }
                    }
                    case REPEATED_SPIKES -> {
                        for (long sp : spikeSteps) {
                            if (s == sp) {
                                g = grad * factor;
                            }
                        }
                    }
                    case FP16_OVERFLOW -> {
                        for (long sp : spikeSteps) {
                            if (s == sp) {
                                g = Double.POSITIVE_INFINITY; // the loss stays finite
                            }
                        }
                    }
                    case GRAD_GROWTH -> {
                        if (s >= start) {
                            // grows for GROWTH_POINTS logged steps, then stays there (no overflow
                            // to Infinity)
                            g =
                                    grad
                                            * Math.pow(
                                                    factor,
                                                    Math.min(
                                                            (double) (s - start) / logEvery + 1,
                                                            GROWTH_POINTS));
                        }
                    }
                    case DIVERGENCE -> {
                        if (s >= start) {
                            double t = Math.min((double) (s - start) / logEvery, 3 * GROWTH_POINTS);
                            l = loss * Math.pow(factor, t + 1);
                            g = grad * Math.pow(1.1, t);
                        }
                    }
                    case LR_STEPPED_PER_EPOCH ->
                            rate = declared.lr(0, s / k); // scheduler index = epochs done
                    case LR_STRETCHED -> rate = stretchedSchedule.lr(0, s);
                    case LR_OFFSET -> rate = declared.lr(0, Math.max(0, s + k));
                    case LR_RESTARTED_ON_RESUME ->
                            rate =
                                    s >= checkpoint && resumedPhase(s)
                                            ? declared.lr(0, s - checkpoint)
                                            : lr[0];
                    case LR_BASE_SCALED -> rate = lr[0] * factor;
                    case LR_DECAY_OVERRIDDEN -> rate = s < warmup ? lr[0] : declared.lr(0, warmup);
                    case STALL -> {
                        if (s >= start) {
                            l = cleanLossAt(start) * (loss / cleanLoss);
                        }
                    }
                    case VANISHING_GRADIENTS -> {
                        if (s >= start) {
                            l = cleanLossAt(start) * (loss / cleanLoss);
                            g = grad * Math.pow(0.05, (double) (s - start) / logEvery + 1);
                        }
                    }
                    default -> {}
                }
                return new double[] {l, g, rate};
            }

            boolean seenResume;

            /** Slowdown factor and the last logged step it lasts to; the extra seconds of a gap. */
            double slowFactor;

            long slowEnd = Long.MAX_VALUE;
            double extraSeconds;

            /** Seconds from the previous logged step to logged step {@code s}. */
            double intervalSeconds(long s) {
                double base = logEvery * stepSeconds * Math.exp(timeNoise * timing.nextGaussian());
                return switch (fault) {
                    case SLOWDOWN -> s >= start && s <= slowEnd ? base * slowFactor : base;
                    case DATA_LOADER_STALL -> s == start ? base + extraSeconds : base;
                    // silent after step start: the next logged step comes late
                    case RUN_SILENT_RESUMED -> s == start + logEvery ? base + extraSeconds : base;
                    default -> base;
                };
            }

            private boolean resumedPhase(long s) {
                return seenResume;
            }

            /**
             * True from the first logged step the injection changes anything: where it becomes
             * observable, but earlier for the faults a detector needs to watch for a while (a
             * plateau, vanishing gradients) and for the climb before a NaN.
             */
            boolean changed(long s, double reportedLr) {
                return switch (fault) {
                    case RUN_SILENT, RUN_SILENT_RESUMED -> s >= start;
                    case NAN_AFTER_EXPLOSION -> s >= start - 5L * logEvery;
                    case STALL, VANISHING_GRADIENTS -> s >= start;
                    default -> observableAt(s, reportedLr);
                };
            }

            boolean observableAt(long s, double reportedLr) {
                return switch (fault) {
                    case NONE, DATA_LOADER_STALL, SPARSE_LOGGING -> false;
                    // the silence begins after the last step before it: observable from there
                    case RUN_SILENT, RUN_SILENT_RESUMED -> s >= start;
                    case LR_STEPPED_PER_EPOCH,
                            LR_STRETCHED,
                            LR_OFFSET,
                            LR_BASE_SCALED,
                            LR_DECAY_OVERRIDDEN,
                            LR_RESTARTED_ON_RESUME ->
                            lrOff(s, reportedLr);
                    case STALL ->
                            s
                                    >= start
                                            + STALL_WINDOW_STEPS
                                            + STALL_CHECKPOINT_SPACING
                                            + (long) STALL_SETTLE_POINTS * logEvery;
                    case VANISHING_GRADIENTS ->
                            s >= start + 2L * logEvery; // ratio 0.05^3 < 1e-3 from the third point
                    case NAN_AFTER_EXPLOSION ->
                            s >= start; // the NaN itself; the climb before it is GRAD_EXPLOSION's
                    case LOSS_SPIKES -> spikeSteps.length > 0 && s >= spikeSteps[0];
                    default -> s >= start;
                };
            }

            private boolean lrOff(long s, double reported) {
                for (long t = Math.max(0, s - 1); t <= s + 1; t++) {
                    double e = declared.lr(0, t);
                    if (Math.abs(reported - e)
                            <= 1e-12 + LR_TOLERANCE * Math.max(Math.abs(reported), Math.abs(e))) {
                        return false;
                    }
                }
                return true;
            }
        }

        private Plan plan(long postWarmup) {
            Plan p = new Plan();
            long aligned = (postWarmup / logEvery) * logEvery + logEvery - 1;
            switch (fault) {
                case NONE -> description = "healthy run";
                case NAN_BAD_BATCH -> {
                    p.start = aligned;
                    description =
                            "one corrupted batch: NaN loss and grad at step "
                                    + aligned
                                    + ", healthy gradients before";
                }
                case NAN_AFTER_EXPLOSION -> {
                    p.start = aligned;
                    description =
                            "grad norm x4 per logged step for 5 steps, then NaN at " + aligned;
                }
                case WARMUP_BLOWUP -> {
                    long s =
                            Math.max(
                                    logEvery * 5L,
                                    (long) (warmup * (0.3 + 0.4 * rnd.nextDouble())));
                    p.start = (s / logEvery) * logEvery + logEvery - 1;
                    p.factor = 1.5 + 2.5 * rnd.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "loss blows up x%.2f during warmup at %d",
                                    1 + p.factor,
                                    p.start);
                }
                case LOSS_SPIKES -> {
                    p.factor = 2 + 3 * rnd.nextDouble();
                    p.spikeLength = 3 + rnd.nextInt(4);
                    p.spikeSteps =
                            new long[] {
                                aligned, aligned + 20L * logEvery, aligned + 45L * logEvery
                            };
                    p.start = aligned;
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "3 sustained loss spikes x%.2f from step %d",
                                    p.factor,
                                    aligned);
                }
                case REPEATED_SPIKES -> {
                    // every 25-50 logged steps (at most 500 optimizer steps apart), 10-30 times
                    int n = 10 + rnd.nextInt(21);
                    long gap = (25 + rnd.nextInt(26)) * (long) logEvery;
                    p.spikeSteps = new long[n];
                    for (int i = 0; i < n; i++) {
                        p.spikeSteps[i] = aligned + i * gap;
                    }
                    p.start = aligned;
                    p.factor = 20 + 80 * rnd.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "%d grad-norm spikes x%.1f every %d steps from %d",
                                    n,
                                    p.factor,
                                    gap,
                                    aligned);
                }
                case FP16_OVERFLOW -> {
                    long gap = (20 + rnd.nextInt(20)) * (long) logEvery;
                    p.spikeSteps = new long[] {aligned, aligned + gap};
                    p.start = aligned;
                    description =
                            "GradScaler overflows (grad norm Infinity, loss finite) at "
                                    + aligned
                                    + " and "
                                    + (aligned + gap);
                }
                case GRAD_SPIKE -> {
                    p.start = aligned;
                    p.factor = 20 + 80 * rnd.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT, "one grad norm x%.1f at %d", p.factor, aligned);
                }
                case GRAD_GROWTH -> {
                    p.start = aligned;
                    p.factor = 1.8 + rnd.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "grad norm grows x%.2f per logged step from %d",
                                    p.factor,
                                    aligned);
                }
                case DIVERGENCE -> {
                    p.start = aligned;
                    p.factor = 1.15 + 0.3 * rnd.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "loss grows x%.2f per logged step from %d",
                                    p.factor,
                                    aligned);
                }
                case LR_STEPPED_PER_EPOCH -> {
                    p.k = 20 + rnd.nextInt(180);
                    description = "scheduler stepped once per epoch of " + p.k + " steps";
                }
                case LR_STRETCHED -> {
                    p.k = new long[] {2, 4, 8}[rnd.nextInt(3)];
                    stretchedSchedule =
                            ScheduleSpec.parse(schedule(scheduleKind, declared.lr(0, warmup), p.k));
                    description = "schedule sized on micro-batches: " + p.k + "x too long";
                }
                case LR_OFFSET -> {
                    p.k = (rnd.nextBoolean() ? 1 : -1) * (3 + rnd.nextInt(8));
                    description = "LR offset by " + p.k + " steps";
                }
                case LR_RESTARTED_ON_RESUME -> {
                    p.resumeAt = aligned + 1;
                    p.checkpoint =
                            Math.max(
                                    warmup + logEvery,
                                    ((aligned - (aligned - warmup) / 3) / logEvery) * logEvery);
                    description =
                            "resumed at "
                                    + p.checkpoint
                                    + " after step "
                                    + aligned
                                    + " with the scheduler restarted";
                }
                case LR_BASE_SCALED -> {
                    p.factor = new double[] {0.1, 0.4, 2.5, 10}[rnd.nextInt(4)];
                    description = "base LR x" + p.factor;
                }
                case LR_DECAY_OVERRIDDEN -> description = "LR stays at the peak after warmup";
                case STALL -> {
                    p.start = aligned;
                    description = "loss flat from step " + aligned;
                }
                case VANISHING_GRADIENTS -> {
                    p.start = aligned;
                    description = "grad norm x0.05 per logged step and loss flat from " + aligned;
                }
                case RUN_SILENT -> {
                    p.start = aligned;
                    description = "steps stop after step " + aligned + ", no run_end";
                }
                case RUN_SILENT_RESUMED -> {
                    p.start = aligned;
                    p.extraSeconds = 60 * (20 + 100 * timing.nextDouble());
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "no step for %.0f min after step %d, then the run goes on",
                                    p.extraSeconds / 60,
                                    aligned);
                }
                case SLOWDOWN -> {
                    p.start = aligned;
                    p.slowFactor = 2 + 2 * timing.nextDouble();
                    p.slowEnd =
                            timing.nextBoolean()
                                    ? Long.MAX_VALUE
                                    : aligned + (30L + timing.nextInt(120)) * logEvery;
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "time per step x%.2f from step %d %s",
                                    p.slowFactor,
                                    aligned,
                                    p.slowEnd == Long.MAX_VALUE
                                            ? "to the end"
                                            : "to step " + p.slowEnd);
                }
                case DATA_LOADER_STALL -> {
                    p.start = aligned;
                    p.extraSeconds = 30 + 270 * timing.nextDouble();
                    description =
                            String.format(
                                    Locale.ROOT,
                                    "one step waits %.0f s for its batch at step %d",
                                    p.extraSeconds,
                                    aligned);
                }
                case SPARSE_LOGGING ->
                        description =
                                String.format(
                                        Locale.ROOT,
                                        "healthy, one logged step every %.0f min",
                                        stepSeconds * logEvery / 60);
            }
            return p;
        }
    }
}
