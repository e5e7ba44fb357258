package io.trainwatch.schedule;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The lambdas a LambdaLR spec may name, each with the exact operation order of its original code:
 * the Hugging Face transformers {@code get_*_schedule_with_warmup} lambdas and the YOLO warmup and
 * cosine/linear lambdas. The same builders serve Hugging Face {@code lr_scheduler_type} names,
 * whose arguments are the lambdas' own.
 */
final class NamedLambdas {
    private NamedLambdas() {}

    /** name -> builder(params, optimizer default lr). */
    static final Map<String, BiFunction<SpecParams, Double, LrLambda>> BY_NAME =
            Map.ofEntries(
                    Map.entry("hf_constant", (p, lrInit) -> x -> 1.0),
                    Map.entry("hf_constant_with_warmup", NamedLambdas::constantWithWarmup),
                    Map.entry("hf_linear_with_warmup", NamedLambdas::linearWithWarmup),
                    Map.entry("hf_cosine_with_warmup", NamedLambdas::cosineWithWarmup),
                    Map.entry(
                            "hf_cosine_with_hard_restarts_with_warmup",
                            NamedLambdas::cosineWithHardRestarts),
                    Map.entry("hf_polynomial_decay_with_warmup", NamedLambdas::polynomialDecay),
                    Map.entry("hf_inverse_sqrt", NamedLambdas::inverseSqrt),
                    Map.entry("hf_cosine_with_min_lr", NamedLambdas::cosineWithMinLr),
                    Map.entry("hf_cosine_warmup_with_min_lr", NamedLambdas::cosineWarmupWithMinLr),
                    Map.entry("hf_warmup_stable_decay", NamedLambdas::warmupStableDecay),
                    Map.entry("yolov3_spp_warmup", NamedLambdas::yoloWarmup),
                    Map.entry("yolov3_spp_cosine", NamedLambdas::yoloCosine),
                    Map.entry("yolov5_linear", NamedLambdas::yolov5Linear),
                    Map.entry("yolov5_one_cycle", NamedLambdas::yolov5OneCycle));

    /**
     * Hugging Face {@code lr_scheduler_type} -> lambda name, in transformers' SchedulerType order.
     */
    static final Map<String, String> HF_TYPES = orderedHfTypes();

    private static Map<String, String> orderedHfTypes() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("linear", "hf_linear_with_warmup");
        m.put("cosine", "hf_cosine_with_warmup");
        m.put("cosine_with_restarts", "hf_cosine_with_hard_restarts_with_warmup");
        m.put("polynomial", "hf_polynomial_decay_with_warmup");
        m.put("constant", "hf_constant");
        m.put("constant_with_warmup", "hf_constant_with_warmup");
        m.put("inverse_sqrt", "hf_inverse_sqrt");
        m.put("cosine_with_min_lr", "hf_cosine_with_min_lr");
        m.put("warmup_stable_decay", "hf_warmup_stable_decay");
        m.put("cosine_warmup_with_min_lr", "hf_cosine_warmup_with_min_lr");
        return Collections.unmodifiableMap(m);
    }

    static List<String> names() {
        return BY_NAME.keySet().stream().sorted().toList();
    }

    /** HF: {@code float(s) / float(max(1, W))} during warmup, shared by every HF lambda. */
    private static double warmupFraction(long s, long w) {
        return (double) s / (double) Math.max(1, w);
    }

    private static long warmupSteps(SpecParams p) {
        long w = p.requiredLong("num_warmup_steps");
        if (w < 0) {
            throw p.invalid("num_warmup_steps", "must be >= 0, got " + w);
        }
        return w;
    }

    private static long trainingSteps(SpecParams p, long warmup) {
        long t = p.requiredLong("num_training_steps");
        if (t < 1) {
            throw p.invalid("num_training_steps", "must be >= 1, got " + t);
        }
        if (t < warmup) {
            throw p.invalid(
                    "num_training_steps", "must be >= num_warmup_steps (" + warmup + "), got " + t);
        }
        return t;
    }

    private static LrLambda constantWithWarmup(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        return s -> s < w ? (double) s / Math.max(1.0, w) : 1.0;
    }

    private static LrLambda linearWithWarmup(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        return s ->
                s < w
                        ? warmupFraction(s, w)
                        : Math.max(0.0, (double) (t - s) / (double) Math.max(1, t - w));
    }

    private static LrLambda cosineWithWarmup(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        double cycles = cycles(p, 0.5);
        // no clamp past num_training_steps: with 0.5 cycles the LR rises again, as in transformers
        return s -> {
            if (s < w) {
                return warmupFraction(s, w);
            }
            double progress = (double) (s - w) / (double) Math.max(1, t - w);
            return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress)));
        };
    }

    private static LrLambda cosineWithHardRestarts(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        double cycles = cycles(p, 1.0);
        return s -> {
            if (s < w) {
                return warmupFraction(s, w);
            }
            double progress = (double) (s - w) / (double) Math.max(1, t - w);
            if (progress >= 1.0) {
                return 0.0;
            }
            return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * ((cycles * progress) % 1.0))));
        };
    }

    private static LrLambda polynomialDecay(SpecParams p, Double defaultLrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        if (t == w) {
            throw p.invalid(
                    "num_training_steps",
                    "must be > num_warmup_steps ("
                            + w
                            + ") for polynomial decay (transformers divides by their difference)");
        }
        double lrEnd = p.optionalLr("lr_end", 1e-7);
        double power =
                p.optionalAtLeast(
                        "power", 1.0, 0, "0 to a negative power is infinite at num_training_steps");
        // transformers divides by optimizer.defaults['lr'], not by the group's LR
        double lrInit = p.optionalLr("lr_init", defaultLrInit);
        if (!(lrInit > lrEnd)) {
            throw p.invalid(
                    "lr_end", "must be smaller than the initial lr (" + lrInit + "), got " + lrEnd);
        }
        return s -> {
            if (s < w) {
                return warmupFraction(s, w);
            } else if (s > t) {
                return lrEnd / lrInit;
            }
            double lrRange = lrInit - lrEnd;
            long decaySteps = t - w;
            double pctRemaining = 1 - (double) (s - w) / decaySteps;
            double decay = lrRange * Math.pow(pctRemaining, power) + lrEnd;
            return decay / lrInit;
        };
    }

    private static LrLambda inverseSqrt(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        // transformers: timescale = num_warmup_steps or 10_000
        long timescale = p.optionalLong("timescale", w == 0 ? 10_000 : w);
        if (timescale < 1) {
            throw p.invalid("timescale", "must be >= 1, got " + timescale);
        }
        long shift = timescale - w;
        return s ->
                s < w ? warmupFraction(s, w) : 1.0 / Math.sqrt((double) (s + shift) / timescale);
    }

    private static LrLambda cosineWithMinLr(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        double cycles = cycles(p, 0.5);
        double rate = minLrRate(p, lrInit);
        return s -> {
            if (s < w) {
                return warmupFraction(s, w);
            }
            double progress = (double) (s - w) / (double) Math.max(1, t - w);
            double factor = 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress));
            factor = factor * (1 - rate) + rate;
            return Math.max(0, factor);
        };
    }

    /**
     * transformers' {@code cosine_warmup_with_min_lr} ({@code
     * get_cosine_with_min_lr_schedule_with_warmup_lr_rate}, 4.50+): unlike {@code
     * cosine_with_min_lr}, the warmup starts at {@code 1 / W} (or at {@code warmup_lr_rate}) and
     * the cosine is one step ahead; all in floats, in its order of operations.
     */
    private static LrLambda cosineWarmupWithMinLr(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long t = trainingSteps(p, w);
        double cycles = cycles(p, 0.5);
        double rate = minLrRate(p, lrInit);
        Double warmupRate =
                p.has("warmup_lr_rate")
                        ? p.requiredIn(
                                "warmup_lr_rate",
                                0,
                                1,
                                "the first warmup LR as a fraction of the initial LR")
                        : null;
        double wf = w;
        double tf = t;
        return s -> {
            double x = s;
            if (x < wf) {
                return warmupRate == null
                        ? (x + 1.0) / Math.max(1.0, wf)
                        : warmupRate + (1.0 - warmupRate) * x / Math.max(1.0, wf - 1);
            }
            double progress = (x - wf + 1.0) / Math.max(1.0, tf - wf);
            double factor = 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress));
            factor = factor * (1 - rate) + rate;
            return Math.max(0, factor);
        };
    }

    /**
     * min_lr_rate, or min_lr / the optimizer's initial lr, as transformers computes it; exactly one
     * of the two.
     */
    private static double minLrRate(SpecParams p, Double lrInit) {
        boolean hasMinLr = p.has("min_lr");
        boolean hasRate = p.has("min_lr_rate");
        if (hasMinLr == hasRate) {
            throw p.invalid(
                    hasMinLr ? "min_lr_rate" : "min_lr",
                    "give exactly one of min_lr or min_lr_rate (as transformers requires)");
        }
        // transformers: min_lr_rate = min_lr / optimizer.defaults['lr']; a rate outside [0, 1]
        // takes the LR below 0
        // (where the max(0, ...) clamps it) or above its peak, and a zero initial LR divides by 0
        double rate;
        if (hasRate) {
            rate =
                    p.requiredIn(
                            "min_lr_rate", 0, 1, "the final LR as a fraction of the initial LR");
        } else {
            double minLr = p.requiredLr("min_lr");
            double init = p.optionalLr("lr_init", lrInit);
            rate = minLr / init;
            if (!(rate >= 0 && rate <= 1)) {
                throw p.invalid(
                        "min_lr",
                        "must be at most the initial lr ("
                                + init
                                + "; transformers divides by it), got "
                                + minLr);
            }
        }
        return rate;
    }

    private static LrLambda warmupStableDecay(SpecParams p, Double lrInit) {
        long w = warmupSteps(p);
        long decay = p.requiredLong("num_decay_steps");
        if (decay < 0) {
            throw p.invalid("num_decay_steps", "must be >= 0, got " + decay);
        }
        long stable;
        if (p.has("num_stable_steps")) {
            p.raw("num_training_steps"); // transformers lets num_stable_steps win when both are
            // given
            stable = p.requiredLong("num_stable_steps");
            if (stable < 0) {
                throw p.invalid("num_stable_steps", "must be >= 0, got " + stable);
            }
        } else if (p.has("num_training_steps")) {
            stable = p.requiredLong("num_training_steps") - w - decay;
        } else {
            throw p.invalid(
                    "num_stable_steps",
                    "give num_stable_steps or num_training_steps (as transformers requires)");
        }
        if (stable < 0) {
            throw p.invalid(
                    "num_training_steps",
                    "must be >= num_warmup_steps + num_decay_steps (" + (w + decay) + ")");
        }
        String warmupType = p.optionalChoice("warmup_type", "linear", "linear", "cosine", "1-sqrt");
        String decayType = p.optionalChoice("decay_type", "cosine", "linear", "cosine", "1-sqrt");
        double minRatio =
                p.optionalIn("min_lr_ratio", 0, 0, 1, "the final LR as a fraction of the peak");
        double cycles = cycles(p, 0.5);
        return s -> {
            if (s < w) {
                double progress = (double) s / (double) Math.max(1, w);
                double factor =
                        switch (warmupType) {
                            case "linear" -> progress;
                            case "cosine" -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                            default -> 1.0 - Math.sqrt(1.0 - progress);
                        };
                factor = factor * (1.0 - minRatio) + minRatio;
                return Math.max(0.0, factor);
            }
            if (s < w + stable) {
                return 1.0;
            }
            if (s < w + stable + decay) {
                double progress = (double) (s - w - stable) / (double) Math.max(1, decay);
                double factor =
                        switch (decayType) {
                            case "linear" -> 1.0 - progress;
                            case "cosine" ->
                                    0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress));
                            default -> 1.0 - Math.sqrt(progress);
                        };
                factor = factor * (1.0 - minRatio) + minRatio;
                return Math.max(0.0, factor);
            }
            return minRatio;
        };
    }

    /** YOLOv3-SPP warmup: from warmup_factor to 1 over warmup_iters, then 1. */
    private static LrLambda yoloWarmup(SpecParams p, Double lrInit) {
        long iters = p.requiredLong("warmup_iters");
        if (iters < 1) {
            throw p.invalid("warmup_iters", "must be >= 1, got " + iters);
        }
        double warmupFactor =
                p.requiredIn("warmup_factor", 0, 1, "the first LR as a fraction of the LR");
        return x -> {
            if (x >= iters) {
                return 1;
            }
            double alpha = (double) x / iters;
            return warmupFactor * (1 - alpha) + alpha;
        };
    }

    /** YOLO cosine: ((1 + cos(x*pi/epochs)) / 2) * (1 - lrf) + lrf; periodic past epochs. */
    private static LrLambda yoloCosine(SpecParams p, Double lrInit) {
        double epochs = epochs(p);
        double lrf = lrf(p);
        return x -> ((1 + Math.cos(x * Math.PI / epochs)) / 2) * (1 - lrf) + lrf;
    }

    /**
     * YOLOv5 linear: (1 - x/epochs) * (1 - lrf) + lrf. Past the last epoch it goes on falling and
     * crosses 0 at {@code epochs / (1 - lrf)}; training has ended by then, and trainwatch floors it
     * at 0 (an LR is never negative).
     */
    private static LrLambda yolov5Linear(SpecParams p, Double lrInit) {
        double epochs = epochs(p);
        double lrf = lrf(p);
        return x -> Math.max(0.0, (1 - x / epochs) * (1.0 - lrf) + lrf);
    }

    /** YOLOv5 one_cycle(1, lrf, epochs): ((1 - cos(x*pi/epochs)) / 2) * (lrf - 1) + 1. */
    private static LrLambda yolov5OneCycle(SpecParams p, Double lrInit) {
        double epochs = epochs(p);
        double lrf = lrf(p);
        return x -> ((1 - Math.cos(x * Math.PI / epochs)) / 2) * (lrf - 1) + 1;
    }

    /**
     * YOLO's epochs: whole epochs, at least one (x / epochs with a tiny epochs is inf, and the
     * cosine of that NaN).
     */
    private static double epochs(SpecParams p) {
        double v = p.requiredDouble("epochs");
        if (!(v > 0)) {
            throw p.invalid("epochs", "must be > 0, got " + v);
        }
        return p.checkIn("epochs", v, 1, SpecLimits.MAX_STEP, "YOLO trains whole epochs");
    }

    /**
     * YOLO's lrf: the final LR as a fraction of the initial one (hyp lrf, 0.01 to 0.2 in YOLO's
     * hyperparameter files).
     */
    private static double lrf(SpecParams p) {
        return p.requiredIn("lrf", 0, 1, "the final LR as a fraction of the initial LR");
    }

    /**
     * A number of cosine cycles: at most 2^53, so that pi * cycles * 2 * progress stays finite
     * (cos(inf) is NaN).
     */
    private static double cycles(SpecParams p, double defaultValue) {
        return p.optionalIn(
                "num_cycles", defaultValue, 0, SpecLimits.MAX_STEP, "a number of cosine cycles");
    }
}
