package io.trainwatch.schedule;

import io.trainwatch.event.EventCodec;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A run_start from any user must never hang, exhaust memory or crash the job: every spec either
 * parses or is refused with an {@link InvalidScheduleException} naming a real, short field path,
 * and every accepted spec gives a finite LR &gt;= 0 at every step, at a bounded cost. The generator
 * is seeded (printed; {@code -Dtrainwatch.fuzz.seed=N} replays a run, {@code
 * -Dtrainwatch.fuzz.specs=N} sets how many specs).
 */
class ScheduleBoundsTest {
    /** Writes NaN and Infinity bare, as Python's json.dumps does and ScheduleSpec reads them. */
    private static final JsonMapper JSON =
            JsonMapper.builder()
                    .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                    .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
                    .build();

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long MAX_STEP = SpecLimits.MAX_STEP;
    private static final int SPECS = Integer.getInteger("trainwatch.fuzz.specs", 5000);
    private static final int MAX_FIELD_PATH_CHARS = 200;
    private static final int MAX_MESSAGE_CHARS = 2000;

    // ---------------------------------------------------------------------------------------------------------------
    // (a) seeded generator of hostile specs for every scheduler family

    @Test
    void shouldParseOrRefuseEveryHostileSpecAndGiveFiniteNonNegativeLrs() {
        long seed = Long.getLong("trainwatch.fuzz.seed", System.nanoTime());
        System.out.println(
                "ScheduleBoundsTest seed "
                        + seed
                        + " (replay: -Dtrainwatch.fuzz.seed="
                        + seed
                        + "), "
                        + SPECS
                        + " specs");
        Gen gen = new Gen(seed);
        for (String family : SchedulerCatalog.BUILDERS.keySet()) {
            assertThat(failure(gen.valid(family)))
                    .as("the generator's valid " + family + " spec")
                    .isNull();
            assertThat(ScheduleSpec.parse(gen.valid(family))).as(family).isNotNull();
        }
        Map<String, int[]> outcomes = new TreeMap<>(); // family -> {accepted, refused}
        String[] current = new String[1];
        // a hang is a failure too: one spec that loops for ever stops the whole run, and the
        // message names it
        assertTimeoutPreemptively(
                Duration.ofSeconds(120),
                () -> {
                    for (int i = 0; i < SPECS; i++) {
                        ObjectNode spec = gen.spec();
                        current[0] = spec.toString();
                        String problem = failure(spec);
                        if (problem != null) {
                            JsonNode small = shrink(spec);
                            fail(
                                    "seed "
                                            + seed
                                            + ", spec "
                                            + i
                                            + ": "
                                            + problem
                                            + "\nsmallest failing spec: "
                                            + text(small)
                                            + "\n  its failure: "
                                            + failure(small));
                        }
                        boolean accepted = accepts(spec);
                        outcomes.computeIfAbsent(family(spec), f -> new int[2])[accepted ? 0 : 1]++;
                    }
                },
                () ->
                        "seed "
                                + seed
                                + ": no answer within 120 s; the spec being checked: "
                                + abbreviate(current[0]));
        System.out.println(
                "ScheduleBoundsTest outcomes (family=accepted/refused): " + describe(outcomes));
        for (String family : SchedulerCatalog.BUILDERS.keySet()) {
            int[] o = outcomes.getOrDefault(family, new int[2]);
            assertThat(o[0]).as("accepted " + family + " specs").isPositive();
            assertThat(o[1]).as("refused " + family + " specs").isPositive();
        }
    }

    /**
     * The spec's failure (what contract it breaks), or null when it parses or is refused as it
     * should be.
     */
    static String failure(JsonNode spec) {
        String text = text(spec);
        DeclaredSchedule s;
        try {
            // both entry points: the tree (as the event codec passes it) and the text (as
            // RunMonitor parses it back)
            s = (text.hashCode() & 1) == 0 ? ScheduleSpec.parse(text) : ScheduleSpec.parse(spec);
        } catch (InvalidScheduleException e) {
            return refusalProblem(e, spec);
        } catch (Throwable t) {
            return "parse threw " + t + " (only InvalidScheduleException may be thrown)";
        }
        try {
            // the event codec keeps schedule.toString() and RunMonitor parses that: it must be
            // accepted alike
            ScheduleSpec.parse(spec.toString());
        } catch (Throwable t) {
            return "accepted as a tree but its toString() is not: " + t;
        }
        for (long step : steps(spec, s)) {
            for (int g = 0; g < s.groups(); g++) {
                double v;
                try {
                    v = s.adaptive() ? s.lowestLr(g, step) : s.lr(g, step);
                    if (s.adaptive()) {
                        double hi = s.highestLr(g, step);
                        if (!(Double.isFinite(hi) && hi >= 0)) {
                            return "highestLr(" + g + ", " + step + ") = " + hi;
                        }
                    }
                } catch (Throwable t) {
                    return "lr(" + g + ", " + step + ") threw " + t;
                }
                if (!(Double.isFinite(v) && v >= 0)) {
                    return "lr(" + g + ", " + step + ") = " + v + " (must be finite and >= 0)";
                }
            }
        }
        return null;
    }

    private static boolean accepts(JsonNode spec) {
        try {
            ScheduleSpec.parse(spec);
            return true;
        } catch (InvalidScheduleException e) {
            return false;
        }
    }

    private static String refusalProblem(InvalidScheduleException e, JsonNode spec) {
        String field = e.field();
        if (field == null || field.isEmpty() || field.length() > MAX_FIELD_PATH_CHARS) {
            return "refused with a field path of "
                    + (field == null ? "null" : field.length() + " chars")
                    + ": "
                    + abbreviate(e.getMessage());
        }
        if (e.getMessage().length() > MAX_MESSAGE_CHARS) {
            return "refused with a message of "
                    + e.getMessage().length()
                    + " chars: "
                    + abbreviate(e.getMessage());
        }
        if (!e.getMessage().contains(field + ":")) {
            return "refused with a message that does not name its field "
                    + field
                    + ": "
                    + e.getMessage();
        }
        String pathProblem = pathProblem(field, spec);
        return pathProblem == null
                ? null
                : "refused naming " + field + ", " + pathProblem + ": " + e.getMessage();
    }

    /**
     * Null when {@code field} names a real place in {@code spec}: "(document)", or a path of names
     * and [indexes] that exists down to some node, the rest being names not given there (a required
     * argument that is missing, in a child whose params were left out). An index must exist; a name
     * cut with "…" must begin a real name.
     */
    static String pathProblem(String field, JsonNode spec) {
        if (field.equals("(document)")) {
            return null;
        }
        List<Object> segments = new ArrayList<>();
        int i = 0;
        while (i < field.length()) {
            char c = field.charAt(i);
            if (c == '[') {
                int close = field.indexOf(']', i);
                if (close < 0) {
                    return "an unclosed [ in the path";
                }
                segments.add(Integer.parseInt(field.substring(i + 1, close)));
                i = close + 1;
            } else if (c == '.') {
                i++;
            } else {
                int end = i;
                while (end < field.length()
                        && field.charAt(end) != '.'
                        && field.charAt(end) != '[') {
                    end++;
                }
                segments.add(field.substring(i, end));
                i = end;
            }
        }
        JsonNode node = spec;
        boolean missing = false;
        for (Object seg : segments) {
            if (seg instanceof Integer index) {
                if (missing || !node.isArray() || index >= node.size()) {
                    return "its index [" + index + "] is not in the spec";
                }
                node = node.get(index);
            } else if (!missing) {
                String name = (String) seg;
                JsonNode next = null;
                if (node.isObject()) {
                    if (name.endsWith("\u2026")) {
                        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                            String k = it.next();
                            if (k.length() > SpecLimits.MAX_ECHOED_CHARS
                                    && SpecParams.echo(k).equals(name)) {
                                next = node.get(k);
                            }
                        }
                        if (next == null) {
                            return "its cut name " + name + " begins no name in the spec";
                        }
                    } else {
                        next = node.get(name);
                    }
                }
                if (next == null) {
                    missing = true;
                } else {
                    node = next;
                }
            }
        }
        return null;
    }

    /**
     * Where to evaluate an accepted spec: 0, 1, 2^31, 2^53 - 1, one pseudo-random step, and around
     * every integer it declares.
     */
    private static List<Long> steps(JsonNode spec, DeclaredSchedule s) {
        Set<Long> steps = new LinkedHashSet<>(List.of(0L, 1L, 2L, 1L << 31, MAX_STEP - 1));
        steps.add(Math.floorMod(new Random(text(spec).hashCode()).nextLong(), MAX_STEP));
        List<Long> declared = new ArrayList<>();
        integers(spec.get("params"), declared);
        for (long v : declared) {
            for (long d = -1; d <= 1 && steps.size() < 48; d++) {
                long index = v + d;
                if (index >= 0 && index <= MAX_STEP) {
                    // the optimizer step whose scheduler index is (about) the declared one: warmup
                    // ends, milestones
                    long step =
                            index > (MAX_STEP - 1) / s.stepEvery()
                                    ? MAX_STEP - 1
                                    : index * s.stepEvery();
                    steps.add(step);
                }
            }
        }
        return new ArrayList<>(steps);
    }

    private static void integers(JsonNode n, List<Long> out) {
        if (n == null || out.size() > 32) {
            return;
        }
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            out.add(n.longValue());
        } else if (n.isNumber()
                && Double.isFinite(n.doubleValue())
                && n.doubleValue() >= 0
                && n.doubleValue() < MAX_STEP) {
            out.add((long) n.doubleValue());
        } else if (n.isContainerNode()) {
            for (JsonNode e : n) {
                integers(e, out);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // shrinking: drop fields and elements, cut strings, while the spec still fails

    static JsonNode shrink(JsonNode failing) {
        JsonNode best = failing;
        int budget = 4000;
        boolean progress = true;
        while (progress && budget > 0) {
            progress = false;
            for (Edit edit : edits(best)) {
                if (--budget < 0) {
                    break;
                }
                JsonNode candidate = edit.apply(best);
                if (candidate != null && failure(candidate) != null) {
                    best = candidate;
                    progress = true;
                    break;
                }
            }
        }
        return best;
    }

    /**
     * One way to make a spec smaller: at {@code path}, remove a field or a range of elements, or
     * cut a string.
     */
    private record Edit(List<Object> path, Object key, int from, int to) {
        JsonNode apply(JsonNode tree) {
            JsonNode copy = tree.deepCopy();
            JsonNode parent = copy;
            for (Object p : path) {
                parent = p instanceof Integer i ? parent.get(i) : parent.get((String) p);
            }
            if (parent instanceof ObjectNode o && key instanceof String name) {
                if (from < 0) {
                    o.remove(name);
                } else {
                    String s = o.get(name).textValue();
                    o.put(name, s.substring(0, s.length() / 2));
                }
            } else if (parent instanceof ArrayNode a) {
                if (key instanceof Integer index) {
                    String s = a.get(index).textValue();
                    a.set(index, TextNode.valueOf(s.substring(0, s.length() / 2)));
                } else {
                    for (int i = to - 1; i >= from; i--) {
                        a.remove(i);
                    }
                }
            } else {
                return null;
            }
            return copy;
        }
    }

    /** Big cuts first (half an array), then single fields and elements. */
    private static List<Edit> edits(JsonNode tree) {
        List<Edit> big = new ArrayList<>();
        List<Edit> small = new ArrayList<>();
        collectEdits(tree, new ArrayList<>(), big, small);
        big.addAll(small);
        return big;
    }

    private static void collectEdits(
            JsonNode n, List<Object> path, List<Edit> big, List<Edit> small) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                small.add(new Edit(List.copyOf(path), f.getKey(), -1, -1));
                if (f.getValue().isTextual() && f.getValue().textValue().length() > 8) {
                    big.add(new Edit(List.copyOf(path), f.getKey(), 0, 0));
                }
                path.add(f.getKey());
                collectEdits(f.getValue(), path, big, small);
                path.remove(path.size() - 1);
            }
        } else if (n.isArray()) {
            int size = n.size();
            if (size > 1) {
                big.add(new Edit(List.copyOf(path), null, size / 2, size));
                big.add(new Edit(List.copyOf(path), null, 0, size / 2));
            }
            for (int i = 0; i < Math.min(size, 64); i++) {
                small.add(new Edit(List.copyOf(path), null, i, i + 1));
                if (n.get(i).isTextual() && n.get(i).textValue().length() > 8) {
                    big.add(new Edit(List.copyOf(path), i, 0, 0));
                }
                path.add(i);
                collectEdits(n.get(i), path, big, small);
                path.remove(path.size() - 1);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the generator

    /** Every family's arguments with valid values; the generator breaks them. */
    private static final Map<String, String> VALID_PARAMS =
            Map.ofEntries(
                    Map.entry("StepLR", "{\"step_size\":30,\"gamma\":0.1}"),
                    Map.entry("MultiStepLR", "{\"milestones\":[30,80,80],\"gamma\":0.1}"),
                    Map.entry("ExponentialLR", "{\"gamma\":0.95}"),
                    Map.entry("ConstantLR", "{\"factor\":0.5,\"total_iters\":5}"),
                    Map.entry(
                            "LinearLR",
                            "{\"start_factor\":0.1,\"end_factor\":1.0,\"total_iters\":10}"),
                    Map.entry("PolynomialLR", "{\"total_iters\":100,\"power\":2.0}"),
                    Map.entry("CosineAnnealingLR", "{\"T_max\":100,\"eta_min\":0.0}"),
                    Map.entry(
                            "CosineAnnealingWarmRestarts",
                            "{\"T_0\":10,\"T_mult\":2,\"eta_min\":0.0001}"),
                    Map.entry(
                            "CyclicLR",
                            "{\"base_lr\":0.001,\"max_lr\":0.01,\"step_size_up\":20,\"step_size_down\":30,\"mode\":\"exp_range\","
                                    + "\"gamma\":0.99,\"scale_mode\":\"cycle\",\"cycle_momentum\":false}"),
                    Map.entry(
                            "OneCycleLR",
                            "{\"max_lr\":0.1,\"total_steps\":100,\"pct_start\":0.3,\"anneal_strategy\":\"linear\",\"div_factor\":25.0,"
                                    + "\"final_div_factor\":10000.0,\"three_phase\":true}"),
                    Map.entry("LambdaLR", "{}"),
                    Map.entry("SequentialLR", "{}"),
                    Map.entry("ChainedScheduler", "{}"),
                    Map.entry(
                            "ReduceLROnPlateau",
                            "{\"mode\":\"min\",\"factor\":0.5,\"patience\":5,\"cooldown\":1,\"min_lr\":0.00001,"
                                    + "\"threshold\":0.0001,\"threshold_mode\":\"rel\",\"eps\":1e-8}"),
                    Map.entry("linear", "{\"num_warmup_steps\":10,\"num_training_steps\":100}"),
                    Map.entry(
                            "cosine",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"num_cycles\":0.5}"),
                    Map.entry(
                            "cosine_with_restarts",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"num_cycles\":3}"),
                    Map.entry(
                            "polynomial",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"lr_end\":1e-7,\"power\":2.0,\"lr_init\":0.1}"),
                    Map.entry("constant", "{}"),
                    Map.entry("constant_with_warmup", "{\"num_warmup_steps\":10}"),
                    Map.entry("inverse_sqrt", "{\"num_warmup_steps\":10,\"timescale\":100}"),
                    Map.entry(
                            "cosine_with_min_lr",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"min_lr_rate\":0.1,\"num_cycles\":0.5}"),
                    Map.entry(
                            "cosine_warmup_with_min_lr",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"min_lr_rate\":0.1,\"warmup_lr_rate\":0.01}"),
                    Map.entry(
                            "warmup_stable_decay",
                            "{\"num_warmup_steps\":10,\"num_stable_steps\":50,\"num_decay_steps\":40,\"warmup_type\":\"cosine\","
                                    + "\"decay_type\":\"1-sqrt\",\"min_lr_ratio\":0.1,\"num_cycles\":0.5}"),
                    Map.entry(
                            "FactorScheduler",
                            "{\"step\":10,\"factor\":0.9,\"stop_factor_lr\":1e-8,\"base_lr\":0.1,\"warmup_steps\":5,"
                                    + "\"warmup_begin_lr\":0.001,\"warmup_mode\":\"linear\"}"),
                    Map.entry(
                            "MultiFactorScheduler",
                            "{\"step\":[30,60],\"factor\":0.5,\"base_lr\":0.1,\"warmup_steps\":5,\"warmup_begin_lr\":0.0,"
                                    + "\"warmup_mode\":\"constant\"}"),
                    Map.entry(
                            "PolyScheduler",
                            "{\"max_update\":100,\"base_lr\":0.1,\"pwr\":2,\"final_lr\":0.0,\"warmup_steps\":5,\"warmup_begin_lr\":0.01}"),
                    Map.entry(
                            "CosineScheduler",
                            "{\"max_update\":100,\"base_lr\":0.1,\"final_lr\":0.001,\"warmup_steps\":5,\"warmup_mode\":\"linear\"}"),
                    Map.entry(
                            "WarmupMultiStepLR",
                            "{\"milestones\":[100,200],\"gamma\":0.1,\"warmup_factor\":0.001,\"warmup_iters\":50,"
                                    + "\"warmup_method\":\"linear\",\"max_iter\":300}"),
                    Map.entry(
                            "YOLOv5LR",
                            "{\"lr0\":0.01,\"lrf\":0.01,\"epochs\":30,\"lr_lambda\":\"linear\",\"batches_per_epoch\":100,"
                                    + "\"warmup_epochs\":3.0,\"min_warmup_iters\":100,\"warmup_bias_lr\":0.1}"),
                    Map.entry(
                            "WarmupLR",
                            "{\"warmup_min_lr\":0.0,\"warmup_max_lr\":0.001,\"warmup_num_steps\":100,\"warmup_type\":\"log\"}"),
                    Map.entry(
                            "WarmupDecayLR",
                            "{\"warmup_min_lr\":0.0,\"warmup_max_lr\":0.001,\"warmup_num_steps\":100,\"total_num_steps\":1000,"
                                    + "\"warmup_type\":\"linear\"}"),
                    Map.entry(
                            "WarmupCosineLR",
                            "{\"total_num_steps\":1000,\"warmup_num_steps\":100,\"warmup_min_ratio\":0.0,\"cos_min_ratio\":0.01,"
                                    + "\"warmup_type\":\"linear\"}"));

    /** Every named lambda's arguments with valid values. */
    private static final Map<String, String> VALID_LAMBDAS =
            Map.ofEntries(
                    Map.entry("hf_constant", "{}"),
                    Map.entry("hf_constant_with_warmup", "{\"num_warmup_steps\":10}"),
                    Map.entry(
                            "hf_linear_with_warmup",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100}"),
                    Map.entry(
                            "hf_cosine_with_warmup",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"num_cycles\":0.5}"),
                    Map.entry(
                            "hf_cosine_with_hard_restarts_with_warmup",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"num_cycles\":2}"),
                    Map.entry(
                            "hf_polynomial_decay_with_warmup",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"lr_end\":1e-7,\"power\":1.0}"),
                    Map.entry("hf_inverse_sqrt", "{\"num_warmup_steps\":10}"),
                    Map.entry(
                            "hf_cosine_with_min_lr",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"min_lr\":0.00001}"),
                    Map.entry(
                            "hf_cosine_warmup_with_min_lr",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"min_lr\":0.00001}"),
                    Map.entry(
                            "hf_warmup_stable_decay",
                            "{\"num_warmup_steps\":10,\"num_training_steps\":100,\"num_decay_steps\":40}"),
                    Map.entry(
                            "yolov3_spp_warmup", "{\"warmup_iters\":100,\"warmup_factor\":0.001}"),
                    Map.entry("yolov3_spp_cosine", "{\"epochs\":30,\"lrf\":0.01}"),
                    Map.entry("yolov5_linear", "{\"epochs\":30,\"lrf\":0.01}"),
                    Map.entry("yolov5_one_cycle", "{\"epochs\":30,\"lrf\":0.01}"));

    /** Schedulers that read their group count from base_lrs but do not need it. */
    private static final Set<String> BASE_LRS_OPTIONAL =
            Set.of(
                    "CyclicLR",
                    "OneCycleLR",
                    "WarmupLR",
                    "WarmupDecayLR",
                    "FactorScheduler",
                    "MultiFactorScheduler",
                    "PolyScheduler",
                    "CosineScheduler",
                    "YOLOv5LR");

    private static final List<String> FAMILIES = List.copyOf(SchedulerCatalog.BUILDERS.keySet());
    private static final Set<String> MXNET =
            Set.of("FactorScheduler", "MultiFactorScheduler", "PolyScheduler", "CosineScheduler");

    private static final JsonNode[] HOSTILE_NUMBERS = {
        IntNode.valueOf(0),
        IntNode.valueOf(1),
        IntNode.valueOf(2),
        IntNode.valueOf(-1),
        DoubleNode.valueOf(-0.0),
        DoubleNode.valueOf(0.5),
        DoubleNode.valueOf(-0.5),
        DoubleNode.valueOf(1.5),
        DoubleNode.valueOf(0.9999999),
        DoubleNode.valueOf(1.0000001),
        DoubleNode.valueOf(1e-300),
        DoubleNode.valueOf(Double.MIN_VALUE),
        DoubleNode.valueOf(-Double.MIN_VALUE),
        DoubleNode.valueOf(Double.MIN_NORMAL),
        DoubleNode.valueOf(1e308),
        DoubleNode.valueOf(Double.MAX_VALUE),
        DoubleNode.valueOf(-1e308),
        DoubleNode.valueOf(1e6),
        DoubleNode.valueOf(1e6 + 1),
        DoubleNode.valueOf(1e19),
        DoubleNode.valueOf(Double.NaN),
        DoubleNode.valueOf(Double.POSITIVE_INFINITY),
        DoubleNode.valueOf(Double.NEGATIVE_INFINITY),
        LongNode.valueOf(1L << 31),
        LongNode.valueOf((1L << 31) - 1),
        LongNode.valueOf(1L << 32),
        LongNode.valueOf((1L << 32) + 1),
        LongNode.valueOf(MAX_STEP - 1),
        LongNode.valueOf(MAX_STEP),
        LongNode.valueOf(MAX_STEP + 1),
        LongNode.valueOf(Long.MAX_VALUE),
        LongNode.valueOf(Long.MIN_VALUE),
        LongNode.valueOf(-MAX_STEP),
        BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(64)),
        BigIntegerNode.valueOf(BigInteger.TEN.pow(400).negate()),
        DoubleNode.valueOf((double) MAX_STEP),
        DoubleNode.valueOf(2.5),
        IntNode.valueOf(3),
        IntNode.valueOf(1000)
    };

    private static final class Gen {
        private final Random r;

        Gen(long seed) {
            r = new Random(seed);
        }

        /** A valid spec of this family (the start of every hostile one). */
        ObjectNode valid(String family) {
            ObjectNode spec = NODES.objectNode();
            spec.put("scheduler", family);
            ObjectNode params = validParams(family, false, false);
            if (!family.equals("YOLOv5LR") && !MXNET.contains(family)) {
                params.set("base_lrs", NODES.arrayNode().add(0.1).add(0.01));
            }
            spec.set("params", params);
            return spec;
        }

        ObjectNode spec() {
            String family = pick(FAMILIES);
            ObjectNode spec = valid(family);
            ObjectNode params = (ObjectNode) spec.get("params");
            if (BASE_LRS_OPTIONAL.contains(family) && r.nextBoolean()) {
                params.remove("base_lrs");
            } else {
                params.set("base_lrs", baseLrs(family)); // YOLOv5: 3 groups
                if (MXNET.contains(family) && r.nextInt(4) > 0) {
                    ArrayNode same =
                            NODES.arrayNode(); // MXNet: a base_lrs list must repeat base_lr
                    params.get("base_lrs").forEach(v -> same.add(0.1));
                    params.set("base_lrs", same);
                }
            }
            if (params.get("lr_lambda") instanceof ArrayNode
                    && params.get("base_lrs").size() <= SpecLimits.MAX_PARAM_GROUPS) {
                params.set("lr_lambda", lambdaList(params.get("base_lrs").size())); // one per group
            }
            if (params.has("schedulers") && r.nextBoolean()) {
                children(params, family, false, true);
            }
            int mutations = r.nextInt(10);
            if (mutations >= 3) {
                mutate(params, mutations < 8 ? 1 : 2 + r.nextInt(2));
            }
            if (r.nextInt(8) == 0) {
                params.set(
                        "last_epoch",
                        r.nextBoolean() ? hostileNumber() : LongNode.valueOf(r.nextInt(1000) - 1));
            }
            if (r.nextInt(40) == 0) {
                spec.set(
                        "scheduler",
                        r.nextBoolean() ? TextNode.valueOf(hostileName()) : hostileValue());
            }
            stepping(spec);
            metadata(spec);
            return spec;
        }

        /**
         * Valid arguments; with {@code hostile}, children of SequentialLR/ChainedScheduler may be
         * any, nested, too many.
         */
        private ObjectNode validParams(String family, boolean child, boolean hostile) {
            ObjectNode p = (ObjectNode) read(VALID_PARAMS.get(family));
            switch (family) {
                case "LambdaLR" -> p.set("lr_lambda", r.nextInt(4) == 0 ? lambdaList(2) : lambda());
                case "SequentialLR", "ChainedScheduler" -> children(p, family, child, hostile);
                case "OneCycleLR" -> {
                    if (r.nextInt(3) == 0) {
                        p.remove("total_steps");
                        p.put("epochs", 1 + r.nextInt(20));
                        p.put("steps_per_epoch", 1 + r.nextInt(500));
                    }
                    if (r.nextBoolean()) {
                        p.put("three_phase", false);
                        p.put("anneal_strategy", "cos");
                    }
                }
                default -> {}
            }
            return p;
        }

        private ObjectNode lambda() {
            String name = pick(List.copyOf(VALID_LAMBDAS.keySet()));
            ObjectNode l = (ObjectNode) read(VALID_LAMBDAS.get(name));
            l.put("name", name);
            return l;
        }

        private ArrayNode lambdaList(int n) {
            ArrayNode a = NODES.arrayNode();
            for (int i = 0; i < n; i++) {
                a.add(lambda());
            }
            return a;
        }

        /**
         * Children of SequentialLR/ChainedScheduler: 2 or 3 valid ones, or (hostile) any family,
         * nested ones, the limit or one over it.
         */
        private void children(ObjectNode p, String family, boolean child, boolean hostile) {
            int n =
                    !hostile
                            ? 2 + r.nextInt(2)
                            : switch (r.nextInt(12)) {
                                case 0 -> SpecLimits.MAX_CHILDREN;
                                case 1 -> SpecLimits.MAX_CHILDREN + 1;
                                case 2 -> 1;
                                default -> 2 + r.nextInt(2);
                            };
            List<String> chainable =
                    List.of(
                            "StepLR",
                            "MultiStepLR",
                            "ExponentialLR",
                            "ConstantLR",
                            "LinearLR",
                            "PolynomialLR",
                            "CosineAnnealingLR");
            ArrayNode kids = NODES.arrayNode();
            boolean cosine = false;
            for (int i = 0; i < n; i++) {
                String k;
                if (!hostile) {
                    k =
                            family.equals("ChainedScheduler")
                                    ? pick(
                                            List.of(
                                                    "StepLR",
                                                    "ExponentialLR",
                                                    "ConstantLR",
                                                    "LinearLR"))
                                    : pick(
                                            List.of(
                                                    "LinearLR",
                                                    "ConstantLR",
                                                    "StepLR",
                                                    "CosineAnnealingLR",
                                                    "linear",
                                                    "WarmupLR"));
                } else if (!child && r.nextInt(10) == 0) {
                    k =
                            r.nextBoolean()
                                    ? "SequentialLR"
                                    : "ChainedScheduler"; // nesting, at any depth
                } else if (family.equals("ChainedScheduler") && r.nextInt(6) > 0) {
                    k = pick(chainable);
                    if (k.equals("CosineAnnealingLR")) {
                        if (cosine) {
                            k = "StepLR";
                        }
                        cosine = true;
                    }
                } else {
                    do {
                        k = pick(FAMILIES);
                    } while (child && (k.equals("SequentialLR") || k.equals("ChainedScheduler")));
                }
                ObjectNode c = NODES.objectNode();
                c.put("scheduler", k);
                if (!hostile || r.nextInt(10) > 0) {
                    c.set(
                            "params",
                            validParams(k, hostile && (r.nextInt(3) > 0 || child), hostile));
                }
                kids.add(c);
            }
            p.set("schedulers", kids);
            if (family.equals("SequentialLR")) {
                ArrayNode ms = NODES.arrayNode();
                long at = 0;
                for (int i = 0; i < n - 1; i++) {
                    at += 1 + r.nextInt(r.nextBoolean() ? 100 : 1_000_000);
                    ms.add(at);
                }
                p.set("milestones", ms);
            }
        }

        private ArrayNode baseLrs(String family) {
            int n =
                    family.equals("YOLOv5LR") && r.nextInt(4) > 0
                            ? 3
                            : switch (r.nextInt(20)) {
                                case 0 -> SpecLimits.MAX_PARAM_GROUPS;
                                case 1 -> SpecLimits.MAX_PARAM_GROUPS + 1;
                                case 2 -> 0;
                                case 3 -> 1 + r.nextInt(SpecLimits.MAX_PARAM_GROUPS);
                                default -> 1 + r.nextInt(3);
                            };
            ArrayNode a = lrs(n);
            if (n > 0 && r.nextInt(8) == 0) {
                a.set(r.nextInt(n), hostileValue());
            }
            return a;
        }

        private ArrayNode lrs(int n) {
            ArrayNode a = NODES.arrayNode();
            for (int i = 0; i < n; i++) {
                a.add(r.nextInt(10) == 0 ? 0.0 : Math.pow(10, -1 - r.nextInt(6)));
            }
            return a;
        }

        /**
         * Breaks {@code times} arguments somewhere in the params, children and lambdas included.
         */
        private void mutate(ObjectNode params, int times) {
            for (int t = 0; t < times; t++) {
                List<ObjectNode> objects = new ArrayList<>();
                objectsIn(params, objects);
                ObjectNode target = pick(objects);
                int what = r.nextInt(20);
                if (what == 0 || target.isEmpty()) {
                    target.set(hostileFieldName(), hostileValue()); // an unknown argument
                } else {
                    List<String> names = new ArrayList<>();
                    target.fieldNames().forEachRemaining(names::add);
                    String name = pick(names);
                    if (what == 1) {
                        target.remove(name);
                    } else {
                        target.set(name, hostile(target.get(name)));
                    }
                }
            }
        }

        private void objectsIn(JsonNode n, List<ObjectNode> out) {
            if (n instanceof ObjectNode o) {
                out.add(o);
            }
            if (n.isContainerNode()) {
                for (JsonNode e : n) {
                    objectsIn(e, out);
                }
            }
        }

        /**
         * A value that breaks {@code original}: extreme or nearby numbers, lists of hostile sizes,
         * wrong types.
         */
        private JsonNode hostile(JsonNode original) {
            int k = r.nextInt(10);
            if (original.isNumber()) {
                if (k < 4) {
                    return extreme(original);
                }
                if (k < 7) {
                    return hostileNumber();
                }
                if (k < 9) {
                    double[] factors = {0, 0.5, 2, 10, 1000, -1, 1e9, 1e15};
                    double v =
                            original.doubleValue() * factors[r.nextInt(factors.length)]
                                    + (r.nextBoolean() ? 0 : r.nextInt(3) - 1);
                    return original.isIntegralNumber() && Math.abs(v) < 9e18
                            ? LongNode.valueOf((long) v)
                            : DoubleNode.valueOf(v);
                }
                return hostileValue();
            }
            if (original.isArray() && !original.isEmpty() && k < 7) {
                ArrayNode a = NODES.arrayNode();
                JsonNode first = original.get(0);
                if (first.isObject()) {
                    return k < 4 ? lambdaList(r.nextInt(4)) : hostileValue();
                }
                int n =
                        switch (r.nextInt(6)) {
                            case 0 -> 0;
                            case 1 -> SpecLimits.MAX_MILESTONES + 1;
                            case 2 -> SpecLimits.MAX_PARAM_GROUPS + 1;
                            case 3 -> 5000;
                            default -> 1 + r.nextInt(5);
                        };
                long at = 0;
                for (int i = 0; i < n; i++) {
                    if (first.isIntegralNumber()) {
                        at += r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(1000);
                        a.add(r.nextInt(50) == 0 ? hostileNumber() : LongNode.valueOf(at));
                    } else {
                        a.add(
                                r.nextInt(10) == 0
                                        ? hostileNumber()
                                        : DoubleNode.valueOf(
                                                first.doubleValue() * (1 + r.nextInt(3))));
                    }
                }
                return a;
            }
            if (original.isTextual() && k < 6) {
                return r.nextBoolean()
                        ? TextNode.valueOf(hostileName())
                        : TextNode.valueOf(original.textValue() + "x");
            }
            return hostileValue();
        }

        /**
         * An extreme value that is often still valid: the limits themselves, their neighbours, the
         * smallest doubles.
         */
        private JsonNode extreme(JsonNode original) {
            if (original.isIntegralNumber()) {
                long[] pool = {
                    0,
                    1,
                    2,
                    3,
                    MAX_STEP - 1,
                    MAX_STEP,
                    1L << 31,
                    (1L << 32) - 1,
                    1L << 32,
                    SpecLimits.MAX_MILESTONES,
                    Math.floorMod(r.nextLong(), MAX_STEP),
                    1 + r.nextInt(100)
                };
                return LongNode.valueOf(pool[r.nextInt(pool.length)]);
            }
            double[] pool = {
                0.0,
                Double.MIN_VALUE,
                Double.MIN_NORMAL,
                1e-300,
                1e-12,
                0.5,
                1.0,
                Math.nextDown(1.0),
                Math.nextUp(1.0),
                SpecLimits.MAX_LR,
                2.0,
                (double) MAX_STEP,
                (double) (MAX_STEP - 1),
                1e15,
                r.nextDouble(),
                1 + r.nextInt(1000)
            };
            return DoubleNode.valueOf(pool[r.nextInt(pool.length)]);
        }

        private JsonNode hostileNumber() {
            return switch (r.nextInt(12)) {
                case 0 -> DoubleNode.valueOf(r.nextDouble() * 20 - 10);
                case 1 -> LongNode.valueOf(r.nextLong() % 10_000_000);
                default -> HOSTILE_NUMBERS[r.nextInt(HOSTILE_NUMBERS.length)];
            };
        }

        private JsonNode hostileValue() {
            return switch (r.nextInt(10)) {
                case 0 -> TextNode.valueOf("30");
                case 1 -> BooleanNode.TRUE;
                case 2 -> NullNode.getInstance();
                case 3 -> NODES.arrayNode();
                case 4 -> NODES.arrayNode().add(1).add("x");
                case 5 -> NODES.objectNode();
                case 6 -> NODES.objectNode().put("name", "hf_constant");
                case 7 -> TextNode.valueOf(hostileName());
                default -> hostileNumber();
            };
        }

        /**
         * Long, unicode, near-miss and half-surrogate names (never with '.' or '[', which a field
         * path uses).
         */
        private String hostileName() {
            return switch (r.nextInt(6)) {
                case 0 -> "x".repeat(r.nextInt(3) == 0 ? 1 << 20 : 65 + r.nextInt(2000));
                case 1 -> "\u00e9\ud83d\ude00".repeat(20 + r.nextInt(40)) + "\ud800";
                case 2 -> pick(FAMILIES).toLowerCase();
                case 3 -> pick(FAMILIES) + "\ud83d";
                case 4 -> "";
                default -> "T_" + r.nextInt(100);
            };
        }

        private String hostileFieldName() {
            String n = hostileName();
            return n.isEmpty() ? "t_max" : n;
        }

        /** Stepping fields: usually absent or valid, sometimes extreme. */
        private void stepping(ObjectNode spec) {
            if (r.nextInt(3) > 0) {
                return;
            }
            switch (r.nextInt(5)) {
                case 0 ->
                        spec.set(
                                "scheduler_step_every",
                                r.nextBoolean()
                                        ? LongNode.valueOf(1 + r.nextInt(100))
                                        : hostileNumber());
                case 1 -> {
                    spec.put("interval", "epoch");
                    spec.set(
                            "steps_per_epoch",
                            r.nextBoolean()
                                    ? LongNode.valueOf(1 + r.nextInt(1000))
                                    : hostileNumber());
                    if (r.nextBoolean()) {
                        spec.set(
                                "frequency",
                                r.nextBoolean()
                                        ? LongNode.valueOf(1 + r.nextInt(10))
                                        : hostileNumber());
                    }
                }
                case 2 -> {
                    spec.set(
                            "interval",
                            r.nextBoolean() ? TextNode.valueOf("step") : hostileValue());
                    spec.set(
                            "frequency",
                            r.nextBoolean()
                                    ? LongNode.valueOf(1 + r.nextInt(10))
                                    : hostileNumber());
                }
                case 3 -> spec.set("steps_per_epoch", hostileNumber());
                default -> spec.set(hostileFieldName(), hostileValue());
            }
        }

        /**
         * Metadata a golden case carries, at hostile sizes: long notes, big recorded lr arrays,
         * deep nesting.
         */
        private void metadata(ObjectNode spec) {
            switch (r.nextInt(30)) {
                case 0 ->
                        spec.put(
                                "note",
                                "n".repeat(r.nextBoolean() ? 1000 : SpecLimits.MAX_SPEC_CHARS + 1));
                case 1 -> {
                    ArrayNode lr = NODES.arrayNode();
                    int n = r.nextBoolean() ? 3000 : SpecLimits.MAX_SPEC_NODES + 1;
                    for (int i = 0; i < n; i++) {
                        lr.add(0.1);
                    }
                    spec.set("lr", NODES.arrayNode().add(lr));
                }
                case 2 -> {
                    JsonNode deep = TextNode.valueOf("bottom");
                    int depth = r.nextBoolean() ? 10 : 20 + r.nextInt(200);
                    for (int i = 0; i < depth; i++) {
                        deep = NODES.arrayNode().add(deep);
                    }
                    spec.set("torch_warnings", deep);
                }
                default -> {}
            }
        }

        private <T> T pick(List<T> items) {
            return items.get(r.nextInt(items.size()));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // limits, each refused naming the field, the value and the limit

    @Test
    void shouldKeepParamGroupLimitEqualToTheEventCodecs() throws Exception {
        Field codecLimit = EventCodec.class.getDeclaredField("MAX_PARAM_GROUPS");
        codecLimit.setAccessible(true);
        assertThat(SpecLimits.MAX_PARAM_GROUPS).isEqualTo(codecLimit.getInt(null));
    }

    @Test
    void shouldRefuseEachLimitNamingFieldValueAndLimit() {
        String groups1025 = numbers(SpecLimits.MAX_PARAM_GROUPS + 1, i -> "0.1");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":"
                        + groups1025
                        + "}}",
                "params.base_lrs",
                "must have at most 1024 values",
                "got 1025");
        refused(
                "{\"scheduler\":\"CyclicLR\",\"params\":{\"base_lr\":"
                        + groups1025
                        + ",\"max_lr\":0.01}}",
                "params.base_lr",
                "at most 1024",
                "got 1025");
        refused(
                "{\"scheduler\":\"MultiStepLR\",\"params\":{\"milestones\":"
                        + numbers(SpecLimits.MAX_MILESTONES + 1, i -> Integer.toString(i))
                        + ",\"base_lrs\":[0.1]}}",
                "params.milestones",
                "at most 4096",
                "got 4097");
        String child = "{\"scheduler\":\"ConstantLR\",\"params\":{}}";
        refused(
                "{\"scheduler\":\"ChainedScheduler\",\"params\":{\"schedulers\":"
                        + numbers(SpecLimits.MAX_CHILDREN + 1, i -> child)
                        + ",\"base_lrs\":[0.1]}}",
                "params.schedulers",
                "at most 16 schedulers",
                "got 17");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":9007199254740993,\"base_lrs\":[0.1]}}",
                "params.step_size",
                "between -2^53 and 2^53",
                "got 9007199254740993");
        refused(
                "{\"scheduler\":\"MultiStepLR\",\"params\":{\"milestones\":[5,-9223372036854775808],\"base_lrs\":[0.1]}}",
                "params.milestones[1]",
                "between -2^53 and 2^53",
                "got -9223372036854775808");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1],\"last_epoch\":9007199254740993}}",
                "params.last_epoch",
                "at most 2^53",
                "got 9007199254740993");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"scheduler_step_every\":4294967297}",
                "scheduler_step_every",
                "at most 2^32",
                "got 4294967297");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"interval\":\"epoch\",\"steps_per_epoch\":65536,"
                        + "\"frequency\":65537}",
                "frequency",
                "times steps_per_epoch (65536) must be at most 2^32",
                "got frequency 65537");
        refused(
                "{\"scheduler\":\"OneCycleLR\",\"params\":{\"max_lr\":0.1,\"epochs\":4294967296,\"steps_per_epoch\":4294967296}}",
                "params.epochs",
                "times steps_per_epoch (4294967296) must be at most 2^53",
                "got 4294967296");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[1e7]}}",
                "params.base_lrs[0]",
                "a learning rate must be <= 1000000.0",
                "got 1.0E7");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"note\":\""
                        + "n".repeat(SpecLimits.MAX_SPEC_CHARS)
                        + "\"}",
                "(document)",
                "must be at most 262144 characters of JSON",
                "got 262");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"lr\":"
                        + numbers(SpecLimits.MAX_SPEC_NODES, i -> "1")
                        + "}",
                "(document)",
                "must have at most 16384 JSON values",
                "");
        refused(
                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"note\":"
                        + "[".repeat(20)
                        + "]".repeat(20)
                        + "}",
                "(document)",
                "nested at most 16 levels deep",
                "");
    }

    @Test
    void shouldRefuseABigTreeByItsTextAndMalformedTextByName() {
        // within the value limit but over the text limit once written (what the event codec keeps
        // per run)
        ObjectNode spec =
                (ObjectNode)
                        read(
                                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]}}");
        ArrayNode lr = spec.putArray("lr");
        for (int i = 0; i < 15_000; i++) {
            lr.add(1.2345678901234567E-100);
        }
        InvalidScheduleException e =
                catchThrowableOfType(
                        InvalidScheduleException.class, () -> ScheduleSpec.parse(spec));
        assertThat(e).isNotNull();
        assertThat(e.field()).isEqualTo("(document)");
        assertThat(e.getMessage()).contains("must be at most 262144 characters of JSON");
        for (String text :
                new String[] {
                    "",
                    " ",
                    "null",
                    "NaN",
                    "[]",
                    "\"x\"",
                    "{",
                    "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":1"
                            + "0".repeat(2000)
                            + "}}",
                    "[".repeat(100_000),
                    "{\"scheduler\":\"\\ud800\",\"params\":{}}",
                    "{\"scheduler\":\"StepLR\",\"params\":{\"base_lrs\":[1e400]}}",
                    "\ufeff{}",
                    "{\"a\":1}{\"b\":2}"
                }) {
            assertThat(failure(parsedOrText(text))).as(abbreviate(text)).isNull();
            assertThat(catchThrowable(() -> ScheduleSpec.parse(text)))
                    .as(abbreviate(text))
                    .isInstanceOf(InvalidScheduleException.class);
        }
        assertThat(
                        ScheduleSpec.parse(
                                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[-0.0]}}")
                                .lr(0, 5))
                .isEqualTo(0.0);
        assertThat(catchThrowable(() -> ScheduleSpec.parse((String) null)))
                .isInstanceOf(InvalidScheduleException.class);
        assertThat(catchThrowable(() -> ScheduleSpec.parse((JsonNode) null)))
                .isInstanceOf(InvalidScheduleException.class);
    }

    /**
     * The text's tree when it is JSON, else the text as a JSON string (failure() then checks a
     * refusal).
     */
    private static JsonNode parsedOrText(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return n == null ? TextNode.valueOf(text) : n;
        } catch (Exception e) {
            return TextNode.valueOf(text);
        }
    }

    @Test
    void shouldRefuseNestingAtEveryDepth() {
        String leaf = "{\"scheduler\":\"ConstantLR\",\"params\":{}}";
        for (String outer : List.of("SequentialLR", "ChainedScheduler")) {
            for (String inner : List.of("SequentialLR", "ChainedScheduler")) {
                String nested = leaf;
                for (int depth = 1; depth <= 6; depth++) {
                    nested =
                            "{\"scheduler\":\""
                                    + inner
                                    + "\",\"params\":{\"schedulers\":["
                                    + leaf
                                    + ","
                                    + nested
                                    + "],\"milestones\":[5]}}";
                    String spec =
                            "{\"scheduler\":\""
                                    + outer
                                    + "\",\"params\":{\"schedulers\":["
                                    + leaf
                                    + ","
                                    + nested
                                    + "],\"milestones\":[5],\"base_lrs\":[0.1]}}";
                    // each level of nesting is 3 levels of JSON: from the fourth on, the depth
                    // limit refuses it first
                    if (depth <= 3) {
                        refused(
                                spec,
                                "params.schedulers[1].scheduler",
                                "nesting " + inner + " inside " + outer + " is not supported",
                                "");
                    } else {
                        refused(spec, "(document)", "nested at most 16 levels deep", "");
                    }
                }
            }
        }
    }

    @Test
    void shouldCutLongUserStringsInMessagesAndPathsAndSkipTheirHints() {
        String huge = "t".repeat(1 << 20);
        InvalidScheduleException e =
                refused(
                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1],\""
                                + huge.substring(0, 40_000)
                                + "\":1}}",
                        null,
                        "unknown argument for StepLR",
                        "");
        assertThat(e.field())
                .isEqualTo("params." + "t".repeat(SpecLimits.MAX_ECHOED_CHARS) + "\u2026");
        assertThat(e.getMessage()).doesNotContain("did you mean").hasSizeLessThan(400);
        e =
                refused(
                        "{\"scheduler\":\"" + huge.substring(0, 200_000) + "\",\"params\":{}}",
                        "scheduler",
                        "unknown scheduler \"" + "t".repeat(64) + "\u2026\"",
                        "");
        assertThat(e.getMessage()).hasSizeLessThan(1000);
        e =
                refused(
                        "{\"scheduler\":\"CyclicLR\",\"params\":{\"base_lr\":0.001,\"max_lr\":0.01,\"mode\":\""
                                + huge.substring(0, 200_000)
                                + "\"}}",
                        "params.mode",
                        "got \"" + "t".repeat(64) + "\u2026\"",
                        "");
        e =
                refused(
                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":3,\"base_lrs\":[0.1]},\"\\ud800"
                                + "u".repeat(100)
                                + "\":1}",
                        null,
                        "unknown field",
                        "");
        assertThat(e.field())
                .startsWith("\ufffd")
                .endsWith("\u2026")
                .hasSize(SpecLimits.MAX_ECHOED_CHARS + 1);
        // no edit distance (its cost is the product of the lengths) for a name longer than any
        // known one
        assertThat(
                        SpecParams.closest(
                                "x".repeat(SpecLimits.MAX_ECHOED_CHARS + 1), List.of("T_max")))
                .isNull();
        assertThat(SpecParams.closest("t_max", List.of("T_max"))).isEqualTo("T_max");
    }

    @Test
    void shouldBenchmarkEveryWorstCaseSpec() throws Exception {
        String[] params =
                ScheduleBoundsBenchmark.class
                        .getField("spec")
                        .getAnnotation(org.openjdk.jmh.annotations.Param.class)
                        .value();
        assertThat(List.of(params))
                .containsExactlyInAnyOrderElementsOf(WorstCaseSpecs.all().keySet());
    }

    @Test
    void shouldAcceptTheWorstCaseSpecsWithinTheLimits() {
        for (Map.Entry<String, String> w : WorstCaseSpecs.all().entrySet()) {
            assertThat(w.getValue().length())
                    .as(w.getKey() + " chars")
                    .isLessThanOrEqualTo(SpecLimits.MAX_SPEC_CHARS);
            DeclaredSchedule s = ScheduleSpec.parse(w.getValue());
            // a ChainedScheduler of the most children may only have as many groups as its
            // evaluations per step allow
            assertThat(s.groups())
                    .as(w.getKey())
                    .isEqualTo(
                            w.getKey().startsWith("chained")
                                    ? SpecLimits.MAX_CHAINED_EVALUATIONS / SpecLimits.MAX_CHILDREN
                                    : SpecLimits.MAX_PARAM_GROUPS);
            assertThat(failure(read(w.getValue()))).as(w.getKey()).isNull();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // (b) the cost of one lr() is bounded by the spec's structure, not by the step or a list's
    // length

    @Test
    void shouldEvaluateEachChildAtMostTwicePerLr() {
        ChainedSchedule chained =
                (ChainedSchedule) build(WorstCaseSpecs.all().get("chained-16-children"));
        AtomicLong calls = new AtomicLong();
        Schedule[] counted = new Schedule[chained.unitChildren().length];
        for (int i = 0; i < counted.length; i++) {
            counted[i] = counting(chained.unitChildren()[i], calls);
        }
        ChainedSchedule countedChained =
                new ChainedSchedule(
                        chained.baseLrs(), counted, chained.cosineChild(), chained.cosineTMax());
        SequentialLrSchedule sequential =
                (SequentialLrSchedule) build(WorstCaseSpecs.all().get("sequential-16-children"));
        Schedule[] countedKids = new Schedule[sequential.children().length];
        for (int i = 0; i < countedKids.length; i++) {
            countedKids[i] = counting(sequential.children()[i], calls);
        }
        SequentialLrSchedule countedSequential =
                new SequentialLrSchedule(countedKids, sequential.milestones());
        Random r = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            long index =
                    i < 100
                            ? i
                            : Math.floorMod(
                                    r.nextLong(),
                                    2 * MAX_STEP + 2); // the largest index is 2^54 + 1
            int group = r.nextInt(chained.groups());
            calls.set(0);
            assertThat(countedChained.lr(group, index)).isEqualTo(chained.lr(group, index));
            // every child once, and once more at the cosine's last restart for each of the others
            assertThat(calls.get())
                    .as("child evaluations of ChainedScheduler at " + index)
                    .isLessThanOrEqualTo(2L * SpecLimits.MAX_CHILDREN - 1);
            calls.set(0);
            assertThat(countedSequential.lr(group, index)).isEqualTo(sequential.lr(group, index));
            assertThat(calls.get())
                    .as("child evaluations of SequentialLR at " + index)
                    .isEqualTo(1);
        }
    }

    /**
     * 100,000 evaluations of each worst-case spec (the most children, milestones, groups and
     * restart cycles the limits allow) at random steps up to 2^53. By structure one evaluation is
     * at most 31 child evaluations, each a binary search of at most 4,096 milestones (12 probes) or
     * a warm-restart search of at most 62 cycles: a few hundred operations, so 600,000 evaluations
     * are about 10^8 operations, a second or less even on a busy 2-core machine. An implementation
     * whose work grows with the step (replaying scheduler steps, or walking restarts one by one
     * with T_mult = 1) needs about 2^52 operations for one evaluation at a random step: 20 s is
     * more than 10^6 times too short for it, so this limit tells the two apart however slow the
     * machine is.
     */
    @Test
    void shouldEvaluateTheWorstCaseSpecsInBoundedTime() {
        Map<String, DeclaredSchedule> worst = new TreeMap<>();
        WorstCaseSpecs.all().forEach((name, spec) -> worst.put(name, ScheduleSpec.parse(spec)));
        double[] sink = new double[1];
        assertTimeoutPreemptively(
                Duration.ofSeconds(20),
                () -> {
                    for (Map.Entry<String, DeclaredSchedule> w : worst.entrySet()) {
                        Random r = new Random(w.getKey().hashCode());
                        DeclaredSchedule s = w.getValue();
                        long start = System.nanoTime();
                        for (int i = 0; i < 100_000; i++) {
                            long step =
                                    i % 10 == 0
                                            ? MAX_STEP - 1 - i
                                            : Math.floorMod(r.nextLong(), MAX_STEP);
                            double v = s.lr(r.nextInt(s.groups()), step);
                            sink[0] += v;
                            if (!(Double.isFinite(v) && v >= 0)) {
                                fail(w.getKey() + " at step " + step + ": " + v);
                            }
                        }
                        System.out.printf(
                                "worst case %s: %.0f ns per lr (100,000 at random steps, JIT warming up)%n",
                                w.getKey(), (System.nanoTime() - start) / 1e5);
                    }
                });
        assertThat(sink[0]).isFinite();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // (c) loops over a payload-controlled count are bounded

    @Test
    void shouldFindAWarmRestartCycleInAtMost64Iterations() {
        CosineAnnealingWarmRestartsSchedule worst =
                new CosineAnnealingWarmRestartsSchedule(new double[] {1.0}, 1, 2, 0);
        assertThat(worst.cycleOf(MAX_STEP).iterations())
                .isEqualTo(53); // cycles 1, 2, 4, ... end at 2^53 - 1
        assertThat(worst.cycleOf(2 * MAX_STEP + 1).iterations())
                .isLessThanOrEqualTo(64); // the largest index DeclaredSchedule asks
        assertThat(worst.cycleOf(Long.MAX_VALUE).iterations()).isLessThanOrEqualTo(64);
        Random r = new Random(11);
        for (int i = 0; i < 100_000; i++) {
            long t0 = 1 + Math.floorMod(r.nextLong(), i % 2 == 0 ? 10 : MAX_STEP);
            long tMult = 2 + Math.floorMod(r.nextLong(), i % 3 == 0 ? 3 : MAX_STEP - 1);
            long index = Math.floorMod(r.nextLong(), 2 * MAX_STEP + 2);
            CosineAnnealingWarmRestartsSchedule s =
                    new CosineAnnealingWarmRestartsSchedule(new double[] {1.0}, t0, tMult, 0);
            CosineAnnealingWarmRestartsSchedule.Cycle c = s.cycleOf(index);
            assertThat(c.iterations()).isLessThanOrEqualTo(64);
            assertThat(index - c.start())
                    .as("T_cur")
                    .isBetween(0L, (long) Math.min(c.length() - 1, Long.MAX_VALUE));
            assertThat(s.lr(0, index)).isBetween(0.0, 1.0);
        }
        // through a spec, at the largest step: still the closed form's cycle
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"CosineAnnealingWarmRestarts\",\"params\":{\"T_0\":1,\"T_mult\":2,\"base_lrs\":[1.0],"
                                + "\"last_epoch\":9007199254740992}}");
        assertThat(s.lr(0, MAX_STEP - 1)).isBetween(0.0, 1.0);
        assertThat(s.schedulerIndex(Long.MAX_VALUE)).isEqualTo(2 * MAX_STEP + 1);
    }

    @Test
    void shouldSaturateGrowingSchedulesInsteadOfReachingInfinity() {
        // an LR range test: ExponentialLR with gamma > 1 is torch's inf after enough steps; here
        // the largest double
        DeclaredSchedule rangeTest =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":1.1,\"base_lrs\":[1e-7, 0.0]}}");
        assertThat(rangeTest.lr(0, 100)).isEqualTo(1e-7 * Math.pow(1.1, 100));
        assertThat(rangeTest.lr(0, MAX_STEP - 1)).isEqualTo(Double.MAX_VALUE);
        assertThat(rangeTest.lr(1, MAX_STEP - 1)).isZero();
        DeclaredSchedule chained =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"ChainedScheduler\",\"params\":{\"schedulers\":["
                                + "{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":2}},{\"scheduler\":\"CosineAnnealingLR\",\"params\":{\"T_max\":10}},"
                                + "{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":3}}],\"base_lrs\":[0.1]}}");
        assertThat(chained.lr(0, 1L << 31)).isFinite().isGreaterThanOrEqualTo(0.0);
        // OneCycleLR's linear anneal overshoots min_lr at total_steps (torch's value there is
        // negative): floored at 0
        DeclaredSchedule oneCycle =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"OneCycleLR\",\"params\":{\"max_lr\":0.1,\"total_steps\":100,"
                                + "\"anneal_strategy\":\"linear\"}}");
        assertThat(oneCycle.lr(0, 99)).isCloseTo(0.1 / 25 / 1e4, within(1e-15));
        assertThat(oneCycle.lr(0, 100)).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static InvalidScheduleException refused(
            String spec, String field, String messagePart, String valuePart) {
        InvalidScheduleException e =
                catchThrowableOfType(
                        InvalidScheduleException.class, () -> ScheduleSpec.parse(spec));
        assertThat(e).as("must be refused: " + abbreviate(spec)).isNotNull();
        if (field != null) {
            assertThat(e.field()).isEqualTo(field);
        }
        assertThat(e.getMessage())
                .contains(messagePart)
                .contains(valuePart)
                .contains(e.field() + ":");
        assertThat(refusalProblem(e, read(spec))).isNull();
        return e;
    }

    private static Schedule build(String spec) {
        JsonNode root = read(spec);
        return SchedulerCatalog.build(
                root.get("scheduler").textValue(),
                "scheduler",
                root.get("params"),
                "params",
                SchedulerCatalog.Context.TOP);
    }

    private static Schedule counting(Schedule inner, AtomicLong calls) {
        return new Schedule() {
            public int groups() {
                return inner.groups();
            }

            public double lr(int group, long index) {
                calls.incrementAndGet();
                return inner.lr(group, index);
            }
        };
    }

    private static String numbers(int n, Function<Integer, String> element) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append(element.apply(i));
        }
        return b.append(']').toString();
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String text(JsonNode spec) {
        try {
            return JSON.writeValueAsString(spec);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String family(JsonNode spec) {
        JsonNode s = spec.get("scheduler");
        return s != null && s.isTextual() && SchedulerCatalog.BUILDERS.containsKey(s.textValue())
                ? s.textValue()
                : "(no family)";
    }

    private static String describe(Map<String, int[]> outcomes) {
        StringBuilder b = new StringBuilder();
        outcomes.forEach(
                (f, o) ->
                        b.append(b.isEmpty() ? "" : ", ")
                                .append(f)
                                .append('=')
                                .append(o[0])
                                .append('/')
                                .append(o[1]));
        return b.toString();
    }

    private static String abbreviate(String s) {
        return s == null || s.length() <= 2000
                ? s
                : s.substring(0, 2000) + "... (" + s.length() + " chars)";
    }

    @Test
    void shouldRefuseAChainedSchedulerWhoseChildrenTimesGroupsCostTooMuchPerStep() {
        StringBuilder children = new StringBuilder();
        for (int c = 0; c < SpecLimits.MAX_CHILDREN; c++) {
            children.append(c == 0 ? "" : ",")
                    .append("{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":0.99}}");
        }
        StringBuilder groups = new StringBuilder();
        for (int g = 0; g < SpecLimits.MAX_PARAM_GROUPS; g++) {
            groups.append(g == 0 ? "" : ",").append("0.001");
        }
        String spec =
                "{\"scheduler\":\"ChainedScheduler\",\"params\":{\"schedulers\":["
                        + children
                        + "],\"base_lrs\":["
                        + groups
                        + "]}}";
        InvalidScheduleException e =
                org.assertj.core.api.Assertions.catchThrowableOfType(
                        InvalidScheduleException.class, () -> ScheduleSpec.parse(spec));
        assertThat(e.field()).isEqualTo("params.schedulers");
        assertThat(e.getMessage())
                .contains(
                        "16 schedulers over 1024 param groups evaluates 16384 schedules per step, over the limit of 2048");
    }
}
