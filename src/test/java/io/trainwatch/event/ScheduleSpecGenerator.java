package io.trainwatch.event;

import io.trainwatch.schedule.ScheduleSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.BiConsumer;

import static io.trainwatch.event.JsonText.bare;
import static io.trainwatch.event.JsonText.number;
import static io.trainwatch.event.JsonText.obj;
import static io.trainwatch.event.JsonText.str;

/**
 * Schedule specs for every scheduler family the engine knows ({@link
 * ScheduleSpec#schedulerNames()}), each with every argument its builder reads, drawn at random from
 * the values the engine accepts — ordinary ones mostly, values at the edges of their ranges (2^63 -
 * 1 steps, subnormal LRs, factors a hair below 1) sometimes. {@link #FAMILIES} must cover every
 * name: a new family without a template fails {@code HostileEventsTest}.
 */
public final class ScheduleSpecGenerator {
    /**
     * Scheduler arguments a child of a SequentialLR may be; ChainedScheduler takes only the
     * multiplicative ones.
     */
    static final List<String> CHAINABLE =
            List.of(
                    "StepLR",
                    "MultiStepLR",
                    "ExponentialLR",
                    "ConstantLR",
                    "LinearLR",
                    "PolynomialLR",
                    "CosineAnnealingLR");

    /** The named lambdas of LambdaLR and the Hugging Face type each maps to. */
    static final Map<String, String> HF_TYPES =
            ordered(
                    "linear",
                    "hf_linear_with_warmup",
                    "cosine",
                    "hf_cosine_with_warmup",
                    "cosine_with_restarts",
                    "hf_cosine_with_hard_restarts_with_warmup",
                    "polynomial",
                    "hf_polynomial_decay_with_warmup",
                    "constant",
                    "hf_constant",
                    "constant_with_warmup",
                    "hf_constant_with_warmup",
                    "inverse_sqrt",
                    "hf_inverse_sqrt",
                    "cosine_with_min_lr",
                    "hf_cosine_with_min_lr",
                    "warmup_stable_decay",
                    "hf_warmup_stable_decay",
                    "cosine_warmup_with_min_lr",
                    "hf_cosine_warmup_with_min_lr");

    static final List<String> LAMBDAS =
            List.of(
                    "hf_constant",
                    "hf_constant_with_warmup",
                    "hf_linear_with_warmup",
                    "hf_cosine_with_warmup",
                    "hf_cosine_with_hard_restarts_with_warmup",
                    "hf_polynomial_decay_with_warmup",
                    "hf_inverse_sqrt",
                    "hf_cosine_with_min_lr",
                    "hf_cosine_warmup_with_min_lr",
                    "hf_warmup_stable_decay",
                    "yolov3_spp_warmup",
                    "yolov3_spp_cosine",
                    "yolov5_linear",
                    "yolov5_one_cycle");

    /**
     * A family's params: {@code groups} param groups; {@code child}: inherits its base LRs (no
     * base_lrs of its own).
     */
    private interface Template {
        void params(Gen g, Params p, int groups, boolean child);
    }

    static final Map<String, Template> FAMILIES = templates();

    private ScheduleSpecGenerator() {}

    /**
     * A map in the order given: the generator picks families by index, so their order must not vary
     * between JVMs (Map.of's does).
     */
    private static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Scheduler names that have no template here (empty when every family is covered). */
    public static Set<String> uncoveredFamilies() {
        Set<String> missing = new TreeSet<>(ScheduleSpec.schedulerNames());
        missing.removeAll(FAMILIES.keySet());
        return missing;
    }

    /**
     * A spec of a random family: the whole spec object, with a stepping field or a resume offset
     * now and then.
     */
    static JsonText.Obj spec(SplittableRandom r) {
        List<String> names = new ArrayList<>(FAMILIES.keySet());
        return spec(r, names.get(r.nextInt(names.size())));
    }

    static JsonText.Obj spec(SplittableRandom r, String family) {
        Gen g = new Gen(r);
        int groups = r.nextInt(10) == 0 ? 2 + r.nextInt(r.nextInt(20) == 0 ? 1_100 : 3) : 1;
        Params p = new Params();
        FAMILIES.get(family).params(g, p, groups, false);
        if (r.nextInt(6) == 0) {
            p.put(
                    r.nextBoolean() ? "last_epoch" : "last_batch_iteration",
                    number(r.nextInt(4) == 0 ? g.edgeLong() : r.nextInt(50) - 1));
        }
        JsonText.Obj spec = obj("scheduler", str(family), "params", p.obj());
        switch (r.nextInt(12)) {
            case 0 -> spec = spec.plus("scheduler_step_every", number(g.count()));
            case 1 ->
                    spec =
                            spec.plus("interval", str("epoch"))
                                    .plus("steps_per_epoch", number(g.count()));
            case 2 ->
                    spec = spec.plus("interval", str("step")).plus("frequency", number(g.count()));
            case 3 ->
                    spec =
                            spec.plus("interval", str("epoch"))
                                    .plus("steps_per_epoch", number(g.count()))
                                    .plus("frequency", number(g.count()));
            case 4 ->
                    spec =
                            spec.plus("name", str("fuzz"))
                                    .plus("note", str("metadata is ignored"))
                                    .plus("steps", number(100));
            default -> {}
        }
        return spec;
    }

    /** Random values the engine accepts, at the edges of their ranges now and then. */
    static final class Gen {
        final SplittableRandom r;

        Gen(SplittableRandom r) {
            this.r = r;
        }

        boolean edge() {
            return r.nextInt(8) == 0;
        }

        long edgeLong() {
            return HostileValues.EDGE_LONGS[r.nextInt(HostileValues.EDGE_LONGS.length)];
        }

        /** A step count >= 1. */
        long count() {
            if (edge()) {
                return Math.max(1, edgeLong());
            }
            return 1 + r.nextInt(r.nextBoolean() ? 50 : 5_000);
        }

        /** A step count >= 0. */
        long count0() {
            return r.nextInt(10) == 0 ? 0 : count();
        }

        double lr() {
            if (edge()) {
                return new double[] {
                            0, Double.MIN_VALUE, 1e-320, 1e-300, 1, 10, 1e300, Double.MAX_VALUE
                        }
                        [r.nextInt(8)];
            }
            return Math.pow(10, -6 + 5 * r.nextDouble());
        }

        JsonText lrs(int groups) {
            double first = lr();
            double[] v = new double[groups];
            for (int i = 0; i < groups; i++) {
                v[i] = i == 0 || r.nextBoolean() ? first : lr();
            }
            return JsonText.numbers(v);
        }

        /** In (0, 1]. */
        double fraction() {
            if (edge()) {
                return new double[] {Double.MIN_VALUE, 1e-300, 0.9999999999999999, 1}[r.nextInt(4)];
            }
            return 0.001 + 0.999 * r.nextDouble();
        }

        /** In [0, 1]. */
        double fraction0() {
            return r.nextInt(10) == 0 ? 0 : fraction();
        }

        /** Any finite number: the engine takes a gamma or a power of any size. */
        double real() {
            if (edge()) {
                return HostileValues.EDGE_DOUBLES[r.nextInt(HostileValues.EDGE_DOUBLES.length)]
                        * (r.nextBoolean() ? 1 : -1);
            }
            return r.nextDouble() * 3;
        }

        double positive() {
            if (edge()) {
                return new double[] {Double.MIN_VALUE, 1e-300, 1e-10, 1e10, 1e300, Double.MAX_VALUE}
                        [r.nextInt(6)];
            }
            return 0.01 + r.nextDouble() * 100;
        }

        /** Sorted integers >= 0 (some repeated), occasionally many. */
        JsonText milestones(boolean increasing, long min) {
            int n = 1 + r.nextInt(edge() ? (r.nextBoolean() ? 2_000 : 10_000) : 4);
            List<JsonText> items = new ArrayList<>(n);
            long at = min;
            for (int i = 0; i < n; i++) {
                at =
                        edge() && i == n - 1
                                ? Math.max(at + 1, edgeLong())
                                : at + (increasing ? 1 : 0) + r.nextInt(500);
                items.add(number(at));
            }
            return new JsonText.Arr(items);
        }

        /** One LR, or (now and then, when there are several groups) one per group. */
        JsonText lrOrOnePerGroup(int groups) {
            return groups > 1 && r.nextBoolean() ? lrs(groups) : number(lr());
        }

        JsonText bool() {
            return bare(r.nextBoolean() ? "true" : "false");
        }

        /**
         * How many children a SequentialLR or ChainedScheduler gets: {@code min} plus fewer than
         * {@code usualExtra}, or at the edge up to thousands more.
         */
        int childCount(int min, int usualExtra) {
            return min + (edge() ? r.nextInt(r.nextBoolean() ? 50 : 3_000) : r.nextInt(usualExtra));
        }

        String pick(String... values) {
            return values[r.nextInt(values.length)];
        }
    }

    /** An ordered params object under construction. */
    static final class Params {
        private final LinkedHashMap<String, JsonText> members = new LinkedHashMap<>();

        Params put(String key, JsonText value) {
            members.put(key, value);
            return this;
        }

        Params putNumber(String key, double value) {
            return put(key, number(value));
        }

        Params putLong(String key, long value) {
            return put(key, number(value));
        }

        Params putString(String key, String value) {
            return put(key, str(value));
        }

        JsonText.Obj obj() {
            List<JsonText.Member> m = new ArrayList<>();
            members.forEach((k, v) -> m.add(new JsonText.Member(k, v)));
            return new JsonText.Obj(m);
        }
    }

    private static void base(Gen g, Params p, int groups, boolean child) {
        if (!child) {
            p.put("base_lrs", g.lrs(groups));
        }
    }

    /**
     * A family whose own arguments are drawn first, then its base LRs (the order fixes what a seed
     * generates).
     */
    private static Template ownThenBase(BiConsumer<Gen, Params> own) {
        return (g, p, n, child) -> {
            own.accept(g, p);
            base(g, p, n, child);
        };
    }

    private static Map<String, Template> templates() {
        Map<String, Template> m = new LinkedHashMap<>();
        m.put(
                "StepLR",
                ownThenBase(
                        (g, p) -> p.putLong("step_size", g.count()).putNumber("gamma", g.real())));
        m.put(
                "MultiStepLR",
                ownThenBase(
                        (g, p) ->
                                p.put("milestones", g.milestones(false, 0))
                                        .putNumber("gamma", g.real())));
        m.put(
                "ExponentialLR",
                ownThenBase(
                        (g, p) ->
                                p.putNumber(
                                        "gamma",
                                        g.edge() ? g.real() : 0.9 + 0.1 * g.r.nextDouble())));
        m.put(
                "ConstantLR",
                ownThenBase(
                        (g, p) ->
                                p.putNumber("factor", g.fraction())
                                        .putLong("total_iters", g.count0())));
        m.put(
                "LinearLR",
                ownThenBase(
                        (g, p) ->
                                p.putNumber("start_factor", g.fraction())
                                        .putNumber("end_factor", g.fraction0())
                                        .putLong("total_iters", g.count0())));
        m.put(
                "PolynomialLR",
                ownThenBase(
                        (g, p) ->
                                p.putLong("total_iters", g.count0()).putNumber("power", g.real())));
        m.put(
                "CosineAnnealingLR",
                ownThenBase(
                        (g, p) ->
                                p.putNumber("T_max", g.r.nextBoolean() ? g.count() : g.positive())
                                        .putNumber("eta_min", g.edge() ? g.real() : 0)));
        m.put(
                "CosineAnnealingWarmRestarts",
                ownThenBase(
                        (g, p) ->
                                p.putLong("T_0", g.count())
                                        .putLong(
                                                "T_mult", g.edge() ? g.count() : 1 + g.r.nextInt(3))
                                        .putNumber("eta_min", g.edge() ? g.real() : 0)));
        m.put(
                "CyclicLR",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    p.put("base_lr", g.lrOrOnePerGroup(n))
                            .put("max_lr", g.lrOrOnePerGroup(n))
                            .putNumber("step_size_up", g.positive())
                            .putNumber("step_size_down", g.r.nextBoolean() ? g.positive() : 0)
                            .putString("mode", g.pick("triangular", "triangular2", "exp_range"))
                            .putNumber("gamma", g.real())
                            .putString("scale_mode", g.pick("cycle", "iterations"))
                            .put("cycle_momentum", g.bool())
                            .putNumber("base_momentum", 0.8)
                            .putNumber("max_momentum", 0.9);
                });
        m.put(
                "OneCycleLR",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    if (g.r.nextBoolean()) {
                        p.putLong("total_steps", g.count());
                    } else {
                        p.putLong("epochs", g.count()).putLong("steps_per_epoch", g.count());
                    }
                    p.put("max_lr", g.lrOrOnePerGroup(n))
                            .putNumber("pct_start", g.fraction0())
                            .putString("anneal_strategy", g.pick("cos", "linear"))
                            .putNumber("div_factor", g.positive())
                            .putNumber("final_div_factor", g.positive())
                            .put("three_phase", g.bool());
                });
        m.put(
                "LambdaLR",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    if (n > 1 && g.r.nextBoolean() && !child) {
                        List<JsonText> ls = new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            ls.add(lambda(g, LAMBDAS.get(g.r.nextInt(LAMBDAS.size()))));
                        }
                        p.put("lr_lambda", new JsonText.Arr(ls));
                    } else {
                        p.put("lr_lambda", lambda(g, LAMBDAS.get(g.r.nextInt(LAMBDAS.size()))));
                    }
                });
        m.put(
                "SequentialLR",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    int kids = g.childCount(2, 2);
                    List<JsonText> children = new ArrayList<>();
                    List<String> names = sequentialChildren();
                    for (int i = 0; i < kids; i++) {
                        children.add(child(g, names.get(g.r.nextInt(names.size())), n));
                    }
                    List<JsonText> ms = new ArrayList<>();
                    long at = 0;
                    for (int i = 0; i < kids - 1; i++) {
                        at +=
                                g.edge() && i == kids - 2
                                        ? Math.max(1, g.edgeLong() - at)
                                        : 1 + g.r.nextInt(200);
                        ms.add(number(at));
                    }
                    p.put("schedulers", new JsonText.Arr(children))
                            .put("milestones", new JsonText.Arr(ms));
                });
        m.put(
                "ChainedScheduler",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    int kids = g.childCount(1, 3);
                    List<JsonText> children = new ArrayList<>();
                    boolean cosine = false;
                    for (int i = 0; i < kids; i++) {
                        String name = CHAINABLE.get(g.r.nextInt(CHAINABLE.size()));
                        if (name.equals("CosineAnnealingLR")) {
                            if (cosine) {
                                name = "ExponentialLR";
                            } else {
                                cosine = true;
                                children.add(
                                        obj(
                                                "scheduler",
                                                str(name),
                                                "params",
                                                obj(
                                                        "T_max",
                                                        number(g.count()),
                                                        "eta_min",
                                                        number(0))));
                                continue;
                            }
                        }
                        children.add(child(g, name, n));
                    }
                    p.put("schedulers", new JsonText.Arr(children));
                });
        m.put(
                "ReduceLROnPlateau",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    double factor = g.fraction();
                    p.putString("mode", g.pick("min", "max"))
                            .putString("threshold_mode", g.pick("rel", "abs"))
                            .putNumber("threshold", g.real())
                            .putNumber("eps", g.real())
                            .putNumber("factor", factor >= 1 ? 0.5 : factor)
                            .putLong("patience", g.count0())
                            .putLong("cooldown", g.count0())
                            .put(
                                    "min_lr",
                                    n > 1 && g.r.nextBoolean()
                                            ? g.lrs(n)
                                            : number(g.edge() ? g.lr() : 0));
                });
        for (Map.Entry<String, String> hf : HF_TYPES.entrySet()) {
            m.put(
                    hf.getKey(),
                    (g, p, n, child) -> {
                        base(g, p, n, child);
                        lambdaParams(g, p, hf.getValue());
                    });
        }
        for (String mx :
                List.of(
                        "FactorScheduler",
                        "MultiFactorScheduler",
                        "PolyScheduler",
                        "CosineScheduler")) {
            m.put(mx, (g, p, n, child) -> mxnet(g, p, n, child, mx));
        }
        m.put(
                "WarmupMultiStepLR",
                (g, p, n, child) -> {
                    base(g, p, n, child);
                    p.put("milestones", g.milestones(false, 0))
                            .putLong("max_iter", g.count())
                            .putNumber("warmup_factor", g.fraction0())
                            .putLong("warmup_iters", g.count0())
                            .putString("warmup_method", g.pick("linear", "constant"))
                            .putNumber("gamma", g.real());
                });
        m.put(
                "YOLOv5LR",
                (g, p, n, child) -> {
                    p.putNumber("lr0", g.lr())
                            .putNumber("lrf", g.edge() ? g.real() : 0.01 + 0.2 * g.r.nextDouble())
                            .putNumber("epochs", g.positive())
                            .putString("lr_lambda", g.pick("linear", "one_cycle"))
                            .putLong("batches_per_epoch", g.count())
                            .putNumber("warmup_epochs", g.edge() ? g.positive() : 3.0)
                            .putLong("min_warmup_iters", g.count0())
                            .putNumber("warmup_bias_lr", g.edge() ? g.real() : 0.1);
                    if (g.r.nextBoolean()) {
                        p.put("base_lrs", g.lrs(3));
                    }
                });
        for (String ds : List.of("WarmupLR", "WarmupDecayLR", "WarmupCosineLR")) {
            m.put(ds, (g, p, n, child) -> deepSpeed(g, p, n, child, ds));
        }
        return m;
    }

    /** The chainable schedulers, then the others a SequentialLR may hold. */
    private static List<String> sequentialChildren() {
        List<String> names = new ArrayList<>(CHAINABLE);
        names.addAll(
                List.of(
                        "CosineAnnealingWarmRestarts",
                        "CyclicLR",
                        "OneCycleLR",
                        "LambdaLR",
                        "linear",
                        "cosine",
                        "constant_with_warmup",
                        "FactorScheduler",
                        "PolyScheduler",
                        "WarmupMultiStepLR",
                        "WarmupLR",
                        "WarmupCosineLR"));
        return names;
    }

    private static JsonText child(Gen g, String name, int groups) {
        Params p = new Params();
        FAMILIES.get(name).params(g, p, groups, true);
        return obj("scheduler", str(name), "params", p.obj());
    }

    private static JsonText lambda(Gen g, String name) {
        Params p = new Params();
        p.putString("name", name);
        lambdaParams(g, p, name);
        return p.obj();
    }

    /**
     * The arguments of a named lambda, valid together (training steps >= warmup, exactly one of
     * min_lr and min_lr_rate).
     */
    private static void lambdaParams(Gen g, Params p, String name) {
        long w = g.count0();
        long t = g.r.nextInt(8) == 0 ? w + (g.r.nextBoolean() ? 0 : 1) : w + g.count();
        if (t < w) {
            t = Long.MAX_VALUE; // w + count overflowed
        }
        switch (name) {
            case "hf_constant" -> {}
            case "hf_constant_with_warmup" -> p.putLong("num_warmup_steps", w);
            case "hf_linear_with_warmup" ->
                    p.putLong("num_warmup_steps", w).putLong("num_training_steps", Math.max(1, t));
            case "hf_cosine_with_warmup", "hf_cosine_with_hard_restarts_with_warmup" ->
                    p.putLong("num_warmup_steps", w)
                            .putLong("num_training_steps", Math.max(1, t))
                            .putNumber("num_cycles", g.real());
            case "hf_polynomial_decay_with_warmup" -> {
                double lrInit = g.lr();
                p.putLong("num_warmup_steps", w)
                        .putLong("num_training_steps", t == w ? t + 1 : Math.max(1, t))
                        .putNumber(
                                "lr_end",
                                lrInit > 0 && g.r.nextBoolean()
                                        ? lrInit * g.fraction() * 0.5
                                        : -g.positive())
                        .putNumber("power", g.real())
                        .putNumber("lr_init", lrInit);
            }
            case "hf_inverse_sqrt" -> {
                p.putLong("num_warmup_steps", w);
                if (g.r.nextBoolean()) {
                    p.putLong("timescale", g.count());
                }
            }
            case "hf_cosine_with_min_lr", "hf_cosine_warmup_with_min_lr" -> {
                p.putLong("num_warmup_steps", w)
                        .putLong("num_training_steps", Math.max(1, t))
                        .putNumber("num_cycles", g.real());
                if (g.r.nextBoolean()) {
                    p.putNumber("min_lr_rate", g.fraction0());
                } else {
                    p.putNumber("min_lr", g.lr()).putNumber("lr_init", g.positive());
                }
                if (name.equals("hf_cosine_warmup_with_min_lr") && g.r.nextBoolean()) {
                    p.putNumber("warmup_lr_rate", g.fraction0());
                }
            }
            case "hf_warmup_stable_decay" -> {
                long decay = g.count0();
                p.putLong("num_warmup_steps", w).putLong("num_decay_steps", decay);
                if (g.r.nextBoolean()) {
                    p.putLong("num_stable_steps", g.count0());
                } else {
                    long total = w + decay + g.count0();
                    p.putLong("num_training_steps", total < 0 ? Long.MAX_VALUE : total);
                }
                p.putString("warmup_type", g.pick("linear", "cosine", "1-sqrt"))
                        .putString("decay_type", g.pick("linear", "cosine", "1-sqrt"))
                        .putNumber("min_lr_ratio", g.edge() ? g.real() : g.fraction0())
                        .putNumber("num_cycles", g.real());
            }
            case "yolov3_spp_warmup" ->
                    p.putLong("warmup_iters", g.count())
                            .putNumber("warmup_factor", g.edge() ? g.real() : g.fraction());
            case "yolov3_spp_cosine", "yolov5_linear", "yolov5_one_cycle" ->
                    p.putNumber("epochs", g.r.nextBoolean() ? g.count() : g.positive())
                            .putNumber("lrf", g.edge() ? g.real() : 0.01 + 0.2 * g.r.nextDouble());
            default -> throw new IllegalArgumentException("no template for lambda " + name);
        }
    }

    private static void mxnet(Gen g, Params p, int groups, boolean child, String kind) {
        double baseLr = g.lr();
        if (!child && (groups > 1 || g.r.nextBoolean())) {
            double[] same = new double[groups];
            java.util.Arrays.fill(same, baseLr);
            p.put("base_lrs", JsonText.numbers(same));
        }
        if (child || g.r.nextBoolean() || groups == 1) {
            p.putNumber("base_lr", baseLr);
        }
        long maxUpdate = g.count() + 1;
        long warmup = Math.min(g.count0(), maxUpdate - 1);
        p.putLong(
                        "warmup_steps",
                        kind.equals("PolyScheduler") || kind.equals("CosineScheduler")
                                ? warmup
                                : g.count0())
                .putNumber("warmup_begin_lr", g.r.nextBoolean() ? 0 : baseLr * g.fraction0())
                .putString("warmup_mode", g.pick("linear", "constant"));
        switch (kind) {
            case "FactorScheduler" ->
                    p.putLong("step", g.count())
                            .putNumber("factor", g.edge() ? -g.positive() : g.fraction0())
                            .putNumber("stop_factor_lr", g.edge() ? g.real() : 1e-8);
            case "MultiFactorScheduler" ->
                    p.put("step", g.milestones(true, 1)).putNumber("factor", g.fraction0());
            case "PolyScheduler" ->
                    p.putLong("max_update", maxUpdate)
                            .putNumber("pwr", g.real())
                            .putNumber("final_lr", g.edge() ? g.real() : 0);
            default ->
                    p.putLong("max_update", maxUpdate)
                            .putNumber("final_lr", g.edge() ? g.real() : 0);
        }
    }

    private static void deepSpeed(Gen g, Params p, int groups, boolean child, String kind) {
        long warmup = g.count();
        p.putLong("warmup_num_steps", warmup).putString("warmup_type", g.pick("log", "linear"));
        if (!kind.equals("WarmupLR")) {
            long total = Math.max(warmup, 2) + g.count0();
            p.putLong("total_num_steps", total < 0 ? Long.MAX_VALUE : total);
        }
        if (kind.equals("WarmupCosineLR")) {
            base(g, p, groups, child);
            p.putNumber("warmup_min_ratio", g.edge() ? g.real() : g.fraction0())
                    .putNumber("cos_min_ratio", g.edge() ? g.real() : 0.0001);
            return;
        }
        if (!child && g.r.nextBoolean()) {
            p.put("base_lrs", g.lrs(groups));
        }
        p.put(
                        "warmup_min_lr",
                        groups > 1 && g.r.nextBoolean()
                                ? g.lrs(groups)
                                : number(g.r.nextBoolean() ? 0 : g.lr()))
                .put("warmup_max_lr", g.lrOrOnePerGroup(groups));
    }
}
