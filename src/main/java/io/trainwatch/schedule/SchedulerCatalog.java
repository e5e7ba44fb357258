package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every scheduler name a spec may use, in the words of its framework, and how its arguments become
 * a {@link Schedule}. Validation mirrors the framework's own checks (and refuses the values that
 * make it divide by zero or produce NaN), naming the argument and what is allowed.
 */
final class SchedulerCatalog {
    private SchedulerCatalog() {}

    /** What a builder knows besides the scheduler's own params. */
    record Context(double[] inheritedBaseLrs, boolean restartedByClosedForm, boolean child) {
        static final Context TOP = new Context(null, false, false);
    }

    @FunctionalInterface
    interface Builder {
        Schedule build(SpecParams p, Context ctx);
    }

    /** Arguments torch/DeepSpeed accept that never change the LR. */
    private static final String[] MOMENTUM_ARGS = {
        "cycle_momentum", "base_momentum", "max_momentum", "optimizer_momentum"
    };

    /** Record-keeping the golden files carry next to the real arguments. */
    private static final String[] RECORD_ARGS = {
        "effective", "scheduler_base_lrs", "formula", "warmup_formula", "verbose"
    };

    private static final Set<String> CHAINABLE_MULTIPLICATIVE =
            Set.of(
                    "StepLR",
                    "MultiStepLR",
                    "ExponentialLR",
                    "ConstantLR",
                    "LinearLR",
                    "PolynomialLR",
                    "CosineAnnealingLR");

    static final Map<String, Builder> BUILDERS = buildAll();

    private static Map<String, Builder> buildAll() {
        Map<String, Builder> m = new LinkedHashMap<>();
        // PyTorch torch.optim.lr_scheduler
        m.put(
                "StepLR",
                (p, c) -> {
                    long stepSize = p.requiredLong("step_size");
                    if (stepSize < 1) {
                        throw p.invalid("step_size", "must be >= 1, got " + stepSize);
                    }
                    return new StepLrSchedule(baseLrs(p, c), stepSize, gamma(p, 0.1));
                });
        m.put(
                "MultiStepLR",
                (p, c) -> {
                    long[] milestones = p.requiredLongList("milestones");
                    for (int i = 0; i < milestones.length; i++) {
                        if (milestones[i] < 0) {
                            throw new InvalidScheduleException(
                                    p.path("milestones") + "[" + i + "]",
                                    "must be >= 0, got " + milestones[i]);
                        }
                    }
                    return MultiStepLrSchedule.of(baseLrs(p, c), milestones, gamma(p, 0.1));
                });
        m.put("ExponentialLR", (p, c) -> new ExponentialLrSchedule(baseLrs(p, c), gamma(p, null)));
        m.put(
                "ConstantLR",
                (p, c) -> {
                    double factor = p.optionalDouble("factor", 1.0 / 3);
                    if (!(factor > 0 && factor <= 1)) {
                        throw p.invalid(
                                "factor",
                                "must be in (0, 1], got "
                                        + factor
                                        + (factor == 0
                                                ? " (torch restores with lr * (1/factor): NaN)"
                                                : ""));
                    }
                    if (Double.isInfinite(1.0 / factor)) {
                        throw p.invalid(
                                "factor",
                                "must have a finite 1/factor (torch restores with lr * (1/factor)), got "
                                        + factor);
                    }
                    return new ConstantLrSchedule(
                            baseLrs(p, c),
                            factor,
                            nonNegative(p, "total_iters", 5),
                            c.restartedByClosedForm());
                });
        m.put(
                "LinearLR",
                (p, c) -> {
                    double start = p.optionalDouble("start_factor", 1.0 / 3);
                    if (!(start > 0 && start <= 1)) {
                        throw p.invalid(
                                "start_factor", "must be in (0, 1] (torch's check), got " + start);
                    }
                    double end = p.optionalDouble("end_factor", 1.0);
                    if (!(end >= 0 && end <= 1)) {
                        throw p.invalid(
                                "end_factor", "must be in [0, 1] (torch's check), got " + end);
                    }
                    return new LinearLrSchedule(
                            baseLrs(p, c), start, end, nonNegative(p, "total_iters", 5));
                });
        m.put(
                "PolynomialLR",
                (p, c) ->
                        new PolynomialLrSchedule(
                                baseLrs(p, c),
                                nonNegative(p, "total_iters", 5),
                                p.optionalAtLeast(
                                        "power",
                                        1.0,
                                        0,
                                        "0 to a negative power is infinite at total_iters")));
        m.put(
                "CosineAnnealingLR",
                (p, c) -> {
                    double tMax = p.requiredDouble("T_max");
                    if (!(tMax > 0)) {
                        throw p.invalid("T_max", "must be > 0, got " + tMax);
                    }
                    p.checkIn(
                            "T_max",
                            tMax,
                            1,
                            SpecLimits.MAX_STEP,
                            "scheduler steps in half a cosine period");
                    return new CosineAnnealingLrSchedule(
                            baseLrs(p, c), tMax, p.optionalLr("eta_min", 0.0));
                });
        m.put(
                "CosineAnnealingWarmRestarts",
                (p, c) -> {
                    long t0 = p.requiredLong("T_0");
                    if (t0 < 1) {
                        throw p.invalid("T_0", "must be a positive integer, got " + t0);
                    }
                    long tMult = p.optionalLong("T_mult", 1);
                    if (tMult < 1) {
                        throw p.invalid("T_mult", "must be an integer >= 1, got " + tMult);
                    }
                    return new CosineAnnealingWarmRestartsSchedule(
                            baseLrs(p, c), t0, tMult, p.optionalLr("eta_min", 0.0));
                });
        m.put("CyclicLR", SchedulerCatalog::cyclic);
        m.put("OneCycleLR", SchedulerCatalog::oneCycle);
        m.put("LambdaLR", SchedulerCatalog::lambda);
        m.put("SequentialLR", SchedulerCatalog::sequential);
        m.put("ChainedScheduler", SchedulerCatalog::chained);
        m.put("ReduceLROnPlateau", SchedulerCatalog::plateau);
        // Hugging Face lr_scheduler_type names: LambdaLR with the transformers lambda
        for (Map.Entry<String, String> hf : NamedLambdas.HF_TYPES.entrySet()) {
            m.put(
                    hf.getKey(),
                    (p, c) -> {
                        double[] base = baseLrs(p, c);
                        LrLambda l = NamedLambdas.BY_NAME.get(hf.getValue()).apply(p, base[0]);
                        LrLambda[] all = new LrLambda[base.length];
                        Arrays.fill(all, l);
                        return new LambdaLrSchedule(base, all);
                    });
        }
        // MXNet mx.lr_scheduler
        m.put("FactorScheduler", (p, c) -> mxnet(MxnetSchedule.Kind.FACTOR, p, c));
        m.put("MultiFactorScheduler", (p, c) -> mxnet(MxnetSchedule.Kind.MULTI_FACTOR, p, c));
        m.put("PolyScheduler", (p, c) -> mxnet(MxnetSchedule.Kind.POLY, p, c));
        m.put("CosineScheduler", (p, c) -> mxnet(MxnetSchedule.Kind.COSINE, p, c));
        // detectron2 SOLVER.LR_SCHEDULER_NAME
        m.put("WarmupMultiStepLR", SchedulerCatalog::detectron2);
        // YOLOv5 train.py (per-iteration warmup + per-epoch lambda)
        m.put("YOLOv5LR", SchedulerCatalog::yolov5);
        // DeepSpeed deepspeed.runtime.lr_schedules
        m.put("WarmupLR", (p, c) -> deepSpeed(DeepSpeedSchedule.Kind.WARMUP, p, c));
        m.put("WarmupDecayLR", (p, c) -> deepSpeed(DeepSpeedSchedule.Kind.WARMUP_DECAY, p, c));
        m.put("WarmupCosineLR", (p, c) -> deepSpeed(DeepSpeedSchedule.Kind.WARMUP_COSINE, p, c));
        return m;
    }

    static Schedule build(
            String name, String namePath, JsonNode params, String paramsPath, Context ctx) {
        Builder b = BUILDERS.get(name);
        if (b == null) {
            String hint = SpecParams.closest(name, BUILDERS.keySet());
            throw new InvalidScheduleException(
                    namePath,
                    "unknown scheduler \""
                            + SpecParams.echo(name)
                            + "\""
                            + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")
                            + "; known: "
                            + String.join(", ", BUILDERS.keySet()));
        }
        SpecParams p = new SpecParams(params, paramsPath, name);
        p.ignore(RECORD_ARGS);
        if (ctx.child()) {
            long lastEpoch = p.optionalLong("last_epoch", -1);
            if (lastEpoch != -1) {
                throw p.invalid(
                        "last_epoch",
                        "must be -1 for a child scheduler (set last_epoch on the outer scheduler), got "
                                + lastEpoch);
            }
            if (p.has(ScheduleSpec.KEPT_LR_AT_LAST_EPOCH)) {
                throw p.invalid(
                        ScheduleSpec.KEPT_LR_AT_LAST_EPOCH,
                        "belongs to the outer scheduler, not to a child (children are built with last_epoch -1)");
            }
        } else {
            // read by ScheduleSpec: the resume offset, and how a torch 2.x constructor resumed
            p.ignore("last_epoch", "last_batch_iteration", ScheduleSpec.KEPT_LR_AT_LAST_EPOCH);
        }
        Schedule s = b.build(p, ctx);
        p.rejectUnknown();
        return s;
    }

    /**
     * The group LRs when the optimizer was built: {@code params.base_lrs}, or the parent's for a
     * child.
     */
    private static double[] baseLrs(SpecParams p, Context c) {
        if (c.inheritedBaseLrs() != null) {
            if (p.has("base_lrs")) {
                throw p.invalid("base_lrs", "belongs to the outer scheduler, not to a child");
            }
            return c.inheritedBaseLrs();
        }
        double[] base = p.doubleList("base_lrs", true);
        checkLrs(p, "base_lrs", base);
        return base;
    }

    /**
     * Every value a learning rate: in [0, {@link SpecLimits#MAX_LR}] (a -0.0 becomes 0.0). The path
     * names the element of a list, or the number itself when one number was given for every group.
     */
    private static void checkLrs(SpecParams p, String name, double[] lrs) {
        boolean list = p.listLength(name) >= 0;
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = SpecParams.checkLr(list ? p.path(name) + "[" + i + "]" : p.path(name), lrs[i]);
        }
    }

    /**
     * An LR computed from arguments (OneCycleLR's initial and final LR), refused at the argument
     * that made it.
     */
    private static double derivedLr(SpecParams p, String name, String what, double lr) {
        if (!(lr >= 0 && lr <= SpecLimits.MAX_LR)) {
            throw p.invalid(
                    name,
                    "makes "
                            + what
                            + " "
                            + lr
                            + "; a learning rate must be in [0, "
                            + SpecLimits.MAX_LR
                            + "]");
        }
        return lr;
    }

    /**
     * A decay factor applied per step or per milestone (StepLR, MultiStepLR, ExponentialLR,
     * detectron2): >= 0, since a negative one flips the LR's sign at every decay. One above 1 grows
     * the LR (an LR range test); it saturates at the largest double instead of reaching inf (see
     * {@link Saturating}).
     */
    private static double gamma(SpecParams p, Double defaultValue) {
        double gamma =
                defaultValue == null
                        ? p.requiredDouble("gamma")
                        : p.optionalDouble("gamma", defaultValue);
        if (gamma < 0) {
            throw p.invalid(
                    "gamma",
                    "must be >= 0 (a negative gamma flips the LR's sign at every decay), got "
                            + gamma);
        }
        return gamma;
    }

    private static long nonNegative(SpecParams p, String name, long defaultValue) {
        long v = p.optionalLong(name, defaultValue);
        if (v < 0) {
            throw p.invalid(name, "must be >= 0, got " + v);
        }
        return v;
    }

    /**
     * Group count for schedulers that take their LRs from their own arguments: base_lrs if given,
     * else list lengths, else 1.
     */
    private static int groupCount(SpecParams p, Context c, String... listArgs) {
        if (c.inheritedBaseLrs() != null) {
            return c.inheritedBaseLrs().length;
        }
        double[] base = p.doubleList("base_lrs", false);
        if (base != null) {
            checkLrs(p, "base_lrs", base);
            return base.length;
        }
        for (String a : listArgs) {
            int n = p.listLength(a);
            if (n > 0) {
                return n;
            }
        }
        return 1;
    }

    private static Schedule cyclic(SpecParams p, Context c) {
        int groups = groupCount(p, c, "base_lr", "max_lr");
        double[] base = p.perGroup("base_lr", groups, null);
        double[] max = p.perGroup("max_lr", groups, null);
        checkLrs(p, "base_lr", base);
        checkLrs(p, "max_lr", max);
        double up = p.optionalDouble("step_size_up", 2000);
        if (!(up > 0)) {
            throw p.invalid("step_size_up", "must be > 0, got " + up);
        }
        // a half cycle shorter than one iteration makes index / cycle length overflow to inf (and
        // the LR NaN)
        p.checkIn(
                "step_size_up",
                up,
                1,
                SpecLimits.MAX_STEP,
                "iterations in the rising half of a cycle");
        double down = p.has("step_size_down") ? p.requiredDouble("step_size_down") : up;
        if (down < 0) {
            throw p.invalid("step_size_down", "must be >= 0, got " + down);
        }
        p.checkIn(
                "step_size_down",
                down,
                0,
                SpecLimits.MAX_STEP,
                "iterations in the falling half of a cycle");
        String mode =
                p.optionalChoice("mode", "triangular", "triangular", "triangular2", "exp_range");
        if (p.has("scale_fn")) {
            throw p.invalid(
                    "scale_fn",
                    "a custom scale_fn cannot be declared; use mode triangular, triangular2 or exp_range");
        }
        p.optionalChoice(
                "scale_mode", "cycle", "cycle", "iterations"); // torch ignores it without scale_fn
        p.ignore(MOMENTUM_ARGS);
        double total = up + down;
        // gamma only scales exp_range, by gamma^iteration: above 1 the amplitude grows without
        // bound (inf, then NaN
        // where it meets a zero height), below 0 it flips sign
        double gamma =
                mode.equals("exp_range")
                        ? p.optionalIn(
                                "gamma",
                                1.0,
                                0,
                                1,
                                "exp_range scales the amplitude by gamma^iteration")
                        : p.optionalDouble("gamma", 1.0);
        return new CyclicLrSchedule(base, max, total, up / total, mode, gamma);
    }

    private static Schedule oneCycle(SpecParams p, Context c) {
        long total;
        if (p.has("total_steps")) {
            total = p.requiredLong("total_steps");
            if (total < 1) {
                throw p.invalid("total_steps", "must be a positive integer, got " + total);
            }
            p.ignore("epochs", "steps_per_epoch");
        } else if (p.has("epochs") || p.has("steps_per_epoch")) {
            long epochs = p.requiredLong("epochs");
            long spe = p.requiredLong("steps_per_epoch");
            if (epochs < 1) {
                throw p.invalid("epochs", "must be a positive integer, got " + epochs);
            }
            if (spe < 1) {
                throw p.invalid("steps_per_epoch", "must be a positive integer, got " + spe);
            }
            if (epochs > SpecLimits.MAX_STEP / spe) {
                throw p.invalid(
                        "epochs",
                        "times steps_per_epoch ("
                                + spe
                                + ") must be at most 2^53 ("
                                + SpecLimits.MAX_STEP
                                + " steps; no run is that long), got "
                                + epochs);
            }
            total = epochs * spe;
        } else {
            throw p.invalid(
                    "total_steps",
                    "is required for OneCycleLR (or both epochs and steps_per_epoch)");
        }
        double pct = p.optionalDouble("pct_start", 0.3);
        if (!(pct >= 0 && pct <= 1)) {
            throw p.invalid("pct_start", "must be between 0 and 1, got " + pct);
        }
        String strategy = p.optionalChoice("anneal_strategy", "cos", "cos", "linear");
        double div = p.optionalDouble("div_factor", 25.0);
        double finalDiv = p.optionalDouble("final_div_factor", 1e4);
        if (!(div > 0)) {
            throw p.invalid("div_factor", "must be > 0, got " + div);
        }
        if (!(finalDiv > 0)) {
            throw p.invalid("final_div_factor", "must be > 0, got " + finalDiv);
        }
        boolean threePhase = p.optionalBoolean("three_phase", false);
        int groups = groupCount(p, c, "max_lr");
        double[] max = p.perGroup("max_lr", groups, null);
        checkLrs(p, "max_lr", max);
        p.ignore(MOMENTUM_ARGS);
        double[] initial = new double[groups];
        double[] min = new double[groups];
        for (int g = 0; g < groups; g++) {
            initial[g] =
                    derivedLr(
                            p, "div_factor", "max_lr / div_factor (the initial LR)", max[g] / div);
            min[g] =
                    derivedLr(
                            p,
                            "final_div_factor",
                            "initial LR / final_div_factor (the final LR)",
                            initial[g] / finalDiv);
        }
        double[] ends =
                threePhase
                        ? new double[] {pct * total - 1, 2 * pct * total - 2, total - 1}
                        : new double[] {pct * total - 1, total - 1};
        int zero = OneCycleLrSchedule.zeroLengthPhase(ends, total);
        if (zero >= 0) {
            throw p.invalid(
                    "pct_start",
                    "gives phase "
                            + (zero + 1)
                            + " of "
                            + ends.length
                            + " zero length with total_steps "
                            + total
                            + " (torch divides by it: ZeroDivisionError), got "
                            + pct);
        }
        return new OneCycleLrSchedule(
                initial, max, min, ends, threePhase, strategy.equals("cos"), total);
    }

    private static Schedule lambda(SpecParams p, Context c) {
        double[] base = baseLrs(p, c);
        JsonNode spec = p.raw("lr_lambda");
        if (spec == null) {
            throw p.invalid(
                    "lr_lambda",
                    "is required: a named lambda {\"name\": ...} or a list with one per param group; names: "
                            + String.join(", ", NamedLambdas.names()));
        }
        // transformers' polynomial lambda divides by optimizer.defaults['lr'], i.e. the first
        // group's LR
        double defaultLr = base[0];
        LrLambda[] lambdas = new LrLambda[base.length];
        if (spec.isArray()) {
            if (spec.size() != base.length) {
                throw p.invalid(
                        "lr_lambda",
                        "expected "
                                + base.length
                                + " lambdas (one per param group), got "
                                + spec.size());
            }
            for (int g = 0; g < base.length; g++) {
                lambdas[g] =
                        namedLambda(spec.get(g), p.path("lr_lambda") + "[" + g + "]", defaultLr);
            }
        } else {
            Arrays.fill(lambdas, namedLambda(spec, p.path("lr_lambda"), defaultLr));
        }
        return new LambdaLrSchedule(base, lambdas);
    }

    private static LrLambda namedLambda(JsonNode spec, String path, double defaultLr) {
        if (!spec.isObject() || spec.get("name") == null || !spec.get("name").isTextual()) {
            throw new InvalidScheduleException(
                    path,
                    "must be an object with a \"name\" (one of "
                            + String.join(", ", NamedLambdas.names())
                            + ") and its arguments; arbitrary Python lambdas cannot be declared");
        }
        String name = spec.get("name").textValue();
        var builder = NamedLambdas.BY_NAME.get(name);
        if (builder == null) {
            String hint = SpecParams.closest(name, NamedLambdas.BY_NAME.keySet());
            throw new InvalidScheduleException(
                    path + ".name",
                    "unknown lambda \""
                            + SpecParams.echo(name)
                            + "\""
                            + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")
                            + "; known: "
                            + String.join(", ", NamedLambdas.names()));
        }
        SpecParams lp = new SpecParams(spec, path, name);
        lp.ignore("name", "transformers_function", "formula");
        LrLambda l = builder.apply(lp, defaultLr);
        lp.rejectUnknown();
        return l;
    }

    private static List<Schedule> children(
            SpecParams p, double[] base, boolean restartLaterChildren) {
        JsonNode list = p.raw("schedulers");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw p.invalid(
                    "schedulers",
                    "must be a non-empty list of {\"scheduler\": ..., \"params\": {...}}, got "
                            + SpecParams.describe(list));
        }
        if (list.size() > SpecLimits.MAX_CHILDREN) {
            throw p.invalid(
                    "schedulers",
                    "must have at most "
                            + SpecLimits.MAX_CHILDREN
                            + " schedulers ("
                            + p.scheduler()
                            + " evaluates each of them), got "
                            + list.size());
        }
        List<Schedule> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode child = list.get(i);
            String path = p.path("schedulers") + "[" + i + "]";
            JsonNode name = child.get("scheduler");
            if (name == null || !name.isTextual()) {
                throw new InvalidScheduleException(
                        path + ".scheduler", "is required (the child's class name)");
            }
            JsonNode params = child.get("params");
            if (params == null || params.isNull()) {
                params = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            }
            if (name.textValue().equals("SequentialLR")
                    || name.textValue().equals("ChainedScheduler")) {
                // so a spec is never deeper than one level of children
                throw new InvalidScheduleException(
                        path + ".scheduler",
                        "nesting "
                                + name.textValue()
                                + " inside "
                                + p.scheduler()
                                + " is not supported");
            }
            if (name.textValue().equals("YOLOv5LR")) {
                throw new InvalidScheduleException(
                        path + ".scheduler",
                        "YOLOv5LR cannot be a child scheduler (it is train.py's whole LR logic)");
            }
            out.add(
                    build(
                            name.textValue(),
                            path + ".scheduler",
                            params,
                            path + ".params",
                            new Context(base, restartLaterChildren && i > 0, true)));
        }
        return out;
    }

    private static Schedule sequential(SpecParams p, Context c) {
        double[] base = baseLrs(p, c);
        List<Schedule> kids = children(p, base, true);
        long[] milestones = p.requiredLongList("milestones");
        if (milestones.length != kids.size() - 1) {
            throw p.invalid(
                    "milestones",
                    "expected "
                            + (kids.size() - 1)
                            + " milestones (one fewer than schedulers, as torch requires), got "
                            + milestones.length);
        }
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] < 1 || (i > 0 && milestones[i] < milestones[i - 1])) {
                throw new InvalidScheduleException(
                        p.path("milestones") + "[" + i + "]",
                        "milestones must be >= 1 and in increasing order, got "
                                + SpecParams.echo(Arrays.toString(milestones)));
            }
        }
        for (int i = 0; i < kids.size(); i++) {
            if (kids.get(i).adaptive()) {
                throw new InvalidScheduleException(
                        p.path("schedulers") + "[" + i + "]",
                        "ReduceLROnPlateau cannot be a child of SequentialLR");
            }
        }
        return new SequentialLrSchedule(kids.toArray(Schedule[]::new), milestones);
    }

    private static Schedule chained(SpecParams p, Context c) {
        double[] base = baseLrs(p, c);
        double[] unit = new double[base.length];
        Arrays.fill(unit, 1.0);
        JsonNode list = p.raw("schedulers");
        List<Schedule> kids = children(p, unit, false);
        int cosine = -1;
        long tMax = 0;
        for (int i = 0; i < kids.size(); i++) {
            String name = list.get(i).get("scheduler").textValue();
            String path = p.path("schedulers") + "[" + i + "]";
            if (!CHAINABLE_MULTIPLICATIVE.contains(name)) {
                throw new InvalidScheduleException(
                        path + ".scheduler",
                        "ChainedScheduler supports the chainable schedulers "
                                + String.join(", ", new TreeSet<>(CHAINABLE_MULTIPLICATIVE))
                                + "; got "
                                + name);
            }
            if (kids.get(i) instanceof CosineAnnealingLrSchedule cos) {
                if (cosine >= 0) {
                    throw new InvalidScheduleException(
                            path, "at most one CosineAnnealingLR in a ChainedScheduler");
                }
                if (cos.etaMin() != 0 || cos.tMax() != Math.rint(cos.tMax())) {
                    throw new InvalidScheduleException(
                            path + ".params",
                            "CosineAnnealingLR in a ChainedScheduler needs eta_min 0 and an integer T_max");
                }
                cosine = i;
                tMax = (long) cos.tMax();
            }
        }
        if ((long) kids.size() * base.length > SpecLimits.MAX_CHAINED_EVALUATIONS) {
            throw p.invalid(
                    "schedulers",
                    "a ChainedScheduler of "
                            + kids.size()
                            + " schedulers over "
                            + base.length
                            + " param groups evaluates "
                            + (long) kids.size() * base.length
                            + " schedules per step, over the limit of "
                            + SpecLimits.MAX_CHAINED_EVALUATIONS
                            + "; declare fewer groups (groups that share a schedule can be one) or fewer chained schedulers");
        }
        return new ChainedSchedule(base, kids.toArray(Schedule[]::new), cosine, tMax);
    }

    private static Schedule plateau(SpecParams p, Context c) {
        double[] base = baseLrs(p, c);
        p.optionalChoice("mode", "min", "min", "max");
        p.optionalChoice("threshold_mode", "rel", "rel", "abs");
        p.optionalDouble("threshold", 1e-4);
        p.optionalDouble("eps", 1e-8);
        double factor = p.optionalDouble("factor", 0.1);
        if (!(factor > 0 && factor < 1)) {
            throw p.invalid(
                    "factor", "must be in (0, 1) (torch: factor should be < 1.0), got " + factor);
        }
        long patience = nonNegative(p, "patience", 10);
        long cooldown = nonNegative(p, "cooldown", 0);
        double[] minLrs = p.perGroup("min_lr", base.length, 0.0);
        checkLrs(p, "min_lr", minLrs);
        return new ReduceLrOnPlateauSchedule(base, minLrs, factor, patience, cooldown);
    }

    private static Schedule mxnet(MxnetSchedule.Kind kind, SpecParams p, Context c) {
        int groups;
        double baseLr;
        double[] base =
                c.inheritedBaseLrs() != null
                        ? c.inheritedBaseLrs()
                        : p.doubleList("base_lrs", false);
        if (p.has("base_lr")) {
            baseLr = p.requiredLr("base_lr");
        } else if (base != null) {
            checkLrs(p, "base_lrs", base);
            baseLr = base[0];
        } else {
            throw p.invalid("base_lr", "is required for " + p.scheduler() + " (or give base_lrs)");
        }
        if (base != null) {
            for (int i = 0; i < base.length; i++) {
                if (base[i] != baseLr && c.inheritedBaseLrs() != null) {
                    // the groups are the outer scheduler's: the child's own base_lr (or its
                    // absence) is at fault
                    throw p.invalid(
                            "base_lr",
                            "MXNet schedulers drive one LR for every group: the outer scheduler's base_lrs["
                                    + i
                                    + "] is "
                                    + base[i]
                                    + ", not "
                                    + baseLr);
                }
                if (base[i] != baseLr) {
                    throw new InvalidScheduleException(
                            p.path("base_lrs") + "[" + i + "]",
                            "MXNet schedulers drive one LR for every group (base_lr "
                                    + baseLr
                                    + "), got "
                                    + base[i]);
                }
            }
            groups = base.length;
        } else {
            groups = 1;
        }
        long warmupSteps = p.optionalLong("warmup_steps", 0);
        if (warmupSteps < 0) {
            throw p.invalid("warmup_steps", "must be >= 0, got " + warmupSteps);
        }
        double warmupBegin = p.optionalLr("warmup_begin_lr", 0);
        if (warmupBegin > baseLr) {
            throw p.invalid(
                    "warmup_begin_lr",
                    "must be <= base_lr (" + baseLr + "), as MXNet requires; got " + warmupBegin);
        }
        String mode = p.optionalChoice("warmup_mode", "linear", "linear", "constant");
        MxnetWarmup warmup = new MxnetWarmup(warmupSteps, warmupBegin, mode.equals("linear"));
        double factor = 1;
        long step = 0;
        long[] steps = null;
        double stop = 0;
        long maxUpdate = 0;
        double power = 2;
        double finalLr = 0;
        switch (kind) {
            case FACTOR -> {
                step = p.requiredLong("step");
                if (step < 1) {
                    throw p.invalid(
                            "step",
                            "must be >= 1 (MXNet: schedule step must be greater or equal than 1 round), got "
                                    + step);
                }
                factor = mxnetFactor(p);
                stop = p.optionalLr("stop_factor_lr", 1e-8);
            }
            case MULTI_FACTOR -> {
                steps = p.requiredLongList("step");
                for (int i = 0; i < steps.length; i++) {
                    if (steps[i] < 1 || (i > 0 && steps[i] <= steps[i - 1])) {
                        throw new InvalidScheduleException(
                                p.path("step") + "[" + i + "]",
                                "must be an increasing list of integers >= 1 (as MXNet requires), got "
                                        + SpecParams.echo(Arrays.toString(steps)));
                    }
                }
                factor = mxnetFactor(p);
            }
            case POLY, COSINE -> {
                maxUpdate = p.requiredLong("max_update");
                if (maxUpdate < 1) {
                    throw p.invalid("max_update", "must be >= 1, got " + maxUpdate);
                }
                if (warmupSteps >= maxUpdate) {
                    throw p.invalid(
                            "warmup_steps",
                            "must be < max_update (" + maxUpdate + "), got " + warmupSteps);
                }
                if (kind == MxnetSchedule.Kind.POLY) {
                    power =
                            p.optionalAtLeast(
                                    "pwr", 2, 0, "0 to a negative power is infinite at max_update");
                }
                finalLr = p.optionalLr("final_lr", 0);
            }
        }
        return new MxnetSchedule(
                kind, groups, baseLr, warmup, factor, step, steps, stop, maxUpdate, power, finalLr);
    }

    private static double mxnetFactor(SpecParams p) {
        double factor = p.optionalDouble("factor", 1);
        if (factor > 1) {
            throw p.invalid(
                    "factor",
                    "must be <= 1 (MXNet: factor must be no more than 1 to make lr reduce), got "
                            + factor);
        }
        if (factor < 0) {
            throw p.invalid(
                    "factor",
                    "must be >= 0 (a negative factor flips the LR's sign at every decay), got "
                            + factor);
        }
        return factor;
    }

    private static Schedule detectron2(SpecParams p, Context c) {
        double[] base = baseLrs(p, c);
        long[] milestones = p.has("milestones") ? p.requiredLongList("milestones") : new long[0];
        // only compared with milestones, never computed with, so any long is safe; the importer
        // writes Long.MAX_VALUE
        // for a config without MAX_ITER
        long maxIter = p.optionalComparedLong("max_iter", Long.MAX_VALUE);
        if (maxIter < 1) {
            throw p.invalid("max_iter", "must be >= 1 (SOLVER.MAX_ITER), got " + maxIter);
        }
        long[] kept =
                Arrays.stream(milestones)
                        .filter(m -> m <= maxIter)
                        .sorted()
                        .toArray(); // detectron2 drops steps past MAX_ITER
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] < 0) {
                throw new InvalidScheduleException(
                        p.path("milestones") + "[" + i + "]", "must be >= 0, got " + milestones[i]);
            }
        }
        double factor = p.optionalDouble("warmup_factor", 0.001);
        if (!(factor >= 0 && factor <= 1)) {
            throw p.invalid("warmup_factor", "must be in [0, 1], got " + factor);
        }
        long warmup = nonNegative(p, "warmup_iters", 1000);
        String method = p.optionalChoice("warmup_method", "linear", "linear", "constant");
        return new Detectron2WarmupMultiStepSchedule(
                base, kept, gamma(p, 0.1), factor, warmup, method.equals("linear"));
    }

    private static Schedule yolov5(SpecParams p, Context c) {
        double lr0 = p.requiredLr("lr0");
        double lrf = p.requiredIn("lrf", 0, 1, "the final LR as a fraction of lr0");
        double epochs = p.requiredDouble("epochs");
        if (!(epochs > 0)) {
            throw p.invalid("epochs", "must be > 0, got " + epochs);
        }
        p.checkIn("epochs", epochs, 1, SpecLimits.MAX_STEP, "YOLOv5 trains whole epochs");
        String lambda = p.optionalChoice("lr_lambda", "linear", "linear", "one_cycle");
        long nb = p.requiredLong("batches_per_epoch");
        if (nb < 1) {
            throw p.invalid("batches_per_epoch", "must be >= 1, got " + nb);
        }
        double warmupEpochs = p.optionalDouble("warmup_epochs", 3.0);
        if (warmupEpochs < 0) {
            throw p.invalid("warmup_epochs", "must be >= 0, got " + warmupEpochs);
        }
        if (warmupEpochs * nb > SpecLimits.MAX_STEP) {
            throw p.invalid(
                    "warmup_epochs",
                    "times batches_per_epoch ("
                            + nb
                            + ") must be at most 2^53 iterations, got "
                            + warmupEpochs);
        }
        long minWarmup =
                p.requiredLong(
                        "min_warmup_iters"); // 100 in YOLOv5 >= 6.1, 1000 before: no default on
        // purpose
        if (minWarmup < 0) {
            throw p.invalid("min_warmup_iters", "must be >= 0, got " + minWarmup);
        }
        double bias = p.optionalLr("warmup_bias_lr", 0.1);
        double[] base = p.doubleList("base_lrs", false);
        if (base != null && base.length != 3) {
            throw p.invalid(
                    "base_lrs",
                    "YOLOv5 has 3 param groups (BatchNorm weights, weights, biases), got "
                            + base.length);
        }
        if (base != null) {
            checkLrs(p, "base_lrs", base);
        }
        long nw =
                Math.max(
                        (long) Math.rint(warmupEpochs * nb),
                        minWarmup); // Python round() is half-to-even, as Math.rint
        return new Yolov5Schedule(lr0, lrf, epochs, lambda.equals("one_cycle"), nb, nw, bias);
    }

    private static Schedule deepSpeed(DeepSpeedSchedule.Kind kind, SpecParams p, Context c) {
        long warmupNum = p.optionalLong("warmup_num_steps", 1000);
        if (warmupNum <= 0) {
            throw p.invalid(
                    "warmup_num_steps",
                    "must be a positive integer (DeepSpeed's check), got " + warmupNum);
        }
        long warmup = Math.max(2, warmupNum); // DeepSpeed: max(2, warmup_num_steps)
        // DeepSpeed falls back to log for an unknown warmup_type with a warning; we refuse it
        // instead
        boolean log = p.optionalChoice("warmup_type", "log", "log", "linear").equals("log");
        long total = 0;
        if (kind != DeepSpeedSchedule.Kind.WARMUP) {
            total = p.requiredLong("total_num_steps");
            if (total < warmup) {
                throw p.invalid(
                        "total_num_steps",
                        "must be >= warmup_num_steps (" + warmup + "), got " + total);
            }
        }
        if (kind == DeepSpeedSchedule.Kind.WARMUP_COSINE) {
            double[] org = baseLrs(p, c);
            double warmupMinRatio =
                    p.optionalIn(
                            "warmup_min_ratio",
                            0.0,
                            0,
                            1,
                            "the warmup's first LR as a fraction of the LR");
            double cosMinRatio =
                    p.optionalIn(
                            "cos_min_ratio", 0.0001, 0, 1, "the final LR as a fraction of the LR");
            return new DeepSpeedSchedule(
                    kind, null, null, org, warmup, log, total, warmupMinRatio, cosMinRatio);
        }
        int groups = groupCount(p, c, "warmup_min_lr", "warmup_max_lr");
        double[] min = p.perGroup("warmup_min_lr", groups, 0.0);
        double[] max = p.perGroup("warmup_max_lr", groups, 0.001);
        checkLrs(p, "warmup_min_lr", min);
        checkLrs(p, "warmup_max_lr", max);
        return new DeepSpeedSchedule(kind, min, max, null, warmup, log, total, 0, 0);
    }
}
