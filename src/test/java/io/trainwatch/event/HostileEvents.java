package io.trainwatch.event;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Threshold;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

import static io.trainwatch.event.JsonText.bare;
import static io.trainwatch.event.JsonText.number;
import static io.trainwatch.event.JsonText.obj;
import static io.trainwatch.event.JsonText.str;
import static io.trainwatch.event.JsonText.text;

/**
 * A seeded generator of hostile input records (event format v1, as text, or as UTF-8 bytes as Kafka
 * hands them over), over a pool of run ids. Realistic runs are the backbone — steps with decaying
 * losses and the declared schedule's LR, run_starts declaring a schedule of any family — and around
 * them: every field of every event type mutated (hostile numbers, wrong types, empty and huge
 * arrays, deep nesting, control, bidi and zero-width characters, unpaired surrogates), every
 * argument of every schedule family and every threshold set in and out of its range, broken and
 * oversized records, corrupt UTF-8, and hostile sequences (steps before run_start, a second
 * run_start with another schedule, steps after run_end, reversed and repeated steps, resumes to
 * step 0, huge step jumps).
 *
 * <p>Same seed, same records. Run ids all start with {@value #RUN_PREFIX}, so runs from elsewhere
 * (the simulator's {@code sim-...}) never share a key with them.
 */
public final class HostileEvents {
    public static final String RUN_PREFIX = "fz";
    static final int RUN_POOL = 40;
    static final long FIRST_TIME_MILLIS = 1_790_000_000_000L;

    /**
     * One generated record: its JSON text (a tree the shrinker can simplify), or raw bytes when the
     * record is bytes gone wrong; {@code kind} is what was done to it ("step", "step.loss:replace",
     * "sequence:after-run-end", ...).
     */
    public record Generated(JsonText json, byte[] utf8, String kind) {
        public String text() {
            return utf8 != null ? new String(utf8, StandardCharsets.UTF_8) : json.text();
        }

        public Generated withJson(JsonText other) {
            return new Generated(other, null, kind);
        }
    }

    private final SplittableRandom r;
    private final List<Run> runs = new ArrayList<>();
    private final Deque<Generated> pending = new ArrayDeque<>();
    private Run current;

    public HostileEvents(long seed) {
        this.r = new SplittableRandom(seed);
        String[] decorations = {
            "",
            "-\u00e9t\u00e9",
            "-\uD83D\uDE80",
            "-\u05e9\u05dc\u05d5\u05dd",
            "-\\\"q\\\"",
            "-back\\\\slash",
            "/a/b",
            "-' OR 1=1 --",
            "-%s",
            "-\u4e2d\u6587",
            "-" + "x".repeat(240)
        };
        for (int i = 0; i < RUN_POOL; i++) {
            String decoration = i < decorations.length ? decorations[i] : "";
            runs.add(new Run(RUN_PREFIX + Long.toHexString(seed & 0xffff) + "-" + i + decoration));
        }
    }

    /** The next {@code n} records. */
    public List<Generated> generate(int n) {
        List<Generated> out = new ArrayList<>(n);
        while (out.size() < n) {
            out.add(next());
        }
        return out;
    }

    /**
     * The next record. The mix, per 1000: 400 plain steps, 200 steps with one field gone wrong, 40
     * run_starts (a schedule of any family, edge values included), 60 hostile run_starts, 20
     * run_ends, 120 steps out of order, 120 broken or oversized records, 40 byte sequences that are
     * not UTF-8. Runs come in bursts, as a trainer's events do.
     */
    public Generated next() {
        if (!pending.isEmpty()) {
            return pending.poll();
        }
        if (current == null || r.nextInt(10) < 3) {
            current = runs.get(r.nextInt(runs.size()));
        }
        Run run = current;
        int k = r.nextInt(1000);
        if (k < 400) {
            return new Generated(run.step(), null, "step");
        } else if (k < 600) {
            return mutateField(run.step(), "step");
        } else if (k < 640) {
            return new Generated(run.start(true), null, "run_start");
        } else if (k < 700) {
            return mutatedStart(run);
        } else if (k < 720) {
            return r.nextBoolean()
                    ? new Generated(run.end(), null, "run_end")
                    : mutateField(run.end(), "run_end");
        } else if (k < 840) {
            return sequence(run);
        } else if (k < 960) {
            return structural(run);
        }
        return corruptBytes(run);
    }

    // ---- field mutations ----

    /**
     * One field of {@code event} replaced, removed, repeated, respelled, or an unknown field added.
     */
    private Generated mutateField(JsonText.Obj event, String type) {
        List<JsonText.Member> members = event.members();
        JsonText.Member target = members.get(r.nextInt(members.size()));
        String field = target.rawKey();
        int op = r.nextInt(100);
        if (op < 55) {
            return new Generated(
                    event.with(field, hostileValue(field, target.value())),
                    null,
                    type + "." + field + ":replace");
        } else if (op < 65) {
            return new Generated(event.without(field), null, type + "." + field + ":remove");
        } else if (op < 75) {
            JsonText second =
                    r.nextBoolean() ? target.value() : hostileValue(field, target.value());
            return new Generated(
                    event.plus(field, second), null, type + "." + field + ":duplicate");
        } else if (op < 82) {
            // the same name spelled with an escape (the same key once decoded), or a near miss
            String respelled =
                    switch (r.nextInt(4)) {
                        case 0 ->
                                "\\u"
                                        + String.format("%04x", (int) field.charAt(0))
                                        + field.substring(1);
                        case 1 -> Character.toUpperCase(field.charAt(0)) + field.substring(1);
                        case 2 -> field + " ";
                        default -> field + "\\u0000";
                    };
            List<JsonText.Member> out = new ArrayList<>(members);
            out.set(members.indexOf(target), new JsonText.Member(respelled, target.value()));
            return new Generated(new JsonText.Obj(out), null, type + "." + field + ":respell");
        } else if (op < 92) {
            String key =
                    switch (r.nextInt(8)) {
                        case 0, 1 -> HostileValues.pick(r, HostileValues.STRINGS);
                        case 2 -> r.nextInt(20) == 0 ? HostileValues.HUGE_KEY : "k".repeat(300);
                        default -> "extra_" + r.nextInt(5);
                    };
            return new Generated(
                    event.plus(key, HostileValues.any(r)), null, type + ".unknown-field:add");
        }
        // a field of this type that is absent, given a hostile value
        String[] known =
                switch (type) {
                    case "step" ->
                            new String[] {
                                "time",
                                "grad_norm",
                                "loss_scale",
                                "epoch",
                                "lr",
                                "batch",
                                "step_time_s",
                                "tokens",
                                "samples"
                            };
                    case "run_start" ->
                            new String[] {
                                "time",
                                "schedule",
                                "grad_clip",
                                "grad_accum_steps",
                                "steps_per_epoch",
                                "optimizer",
                                "thresholds",
                                "step"
                            };
                    default -> new String[] {"time", "step", "status", "loss"};
                };
        String f = HostileValues.pick(r, known);
        return new Generated(event.with(f, HostileValues.any(r)), null, type + "." + f + ":add");
    }

    /**
     * A hostile value for a field, of the field's own class mostly (numbers for loss, ids for
     * run_id).
     */
    private JsonText hostileValue(String field, JsonText original) {
        if (r.nextInt(6) == 0) {
            return HostileValues.any(r);
        }
        return switch (field) {
            case "type" ->
                    r.nextBoolean()
                            ? str(
                                    HostileValues.pick(
                                            r,
                                            new String[] {
                                                "Step",
                                                "step ",
                                                "run_start\\u0000",
                                                "epoch_end",
                                                "",
                                                "STEP",
                                                "run_end",
                                                "run_start",
                                                "st\\u0065p"
                                            }))
                            : HostileValues.string(r);
            case "run_id", "optimizer", "status" ->
                    r.nextInt(4) == 0
                            ? str(
                                    HostileValues.pick(
                                            r,
                                            new String[] {
                                                "completed",
                                                "failed",
                                                "killed",
                                                "Completed",
                                                "completed\\u0000",
                                                "sim-none-0"
                                            }))
                            : HostileValues.string(r);
            case "step", "grad_accum_steps", "steps_per_epoch" -> HostileValues.integer(r);
            case "time" -> hostileTime();
            case "lr", "batch" ->
                    original instanceof JsonText.Arr a
                            ? HostileValues.hostileList(r, a)
                            : r.nextBoolean() ? HostileValues.like(r, original) : batchIds();
            case "schedule" ->
                    r.nextBoolean() ? mutateDeep(original) : HostileValues.like(r, original);
            case "thresholds" -> hostileThresholds();
            default -> HostileValues.like(r, original);
        };
    }

    private JsonText hostileTime() {
        return switch (r.nextInt(4)) {
            case 0 ->
                    str(
                            HostileValues.pick(
                                    r,
                                    new String[] {
                                        "2026-11-21T09:30:00Z",
                                        "2026-11-21T09:30:00",
                                        "2026-11-21T09:30:00+14:00",
                                        "1969-12-31T23:59:59Z",
                                        "1970-01-01T00:00:00Z",
                                        "9999-12-31T23:59:59.999Z",
                                        "+10000-01-01T00:00:00Z",
                                        "-0001-01-01T00:00:00Z",
                                        "2026-02-30T00:00:00Z",
                                        "2026-11-21",
                                        "yesterday",
                                        "",
                                        "2026-11-21T09:30:00.123456789Z",
                                        "+999999999-12-31T23:59:59Z",
                                        "2026-11-21T25:00:00Z",
                                        "2026-11-21T09:30:00-18:00",
                                        "2026-11-21T09:30:00+18:01",
                                        "\\u0032026-11-21T09:30:00Z"
                                    }));
            case 1 ->
                    bare(
                            HostileValues.pick(
                                    r,
                                    new String[] {
                                        "-1",
                                        "0",
                                        "1e11",
                                        "99999999999",
                                        "100000000000",
                                        "253402300799999",
                                        "253402300800000",
                                        "253402300799.999",
                                        "253402300800",
                                        "1e300",
                                        "1e999",
                                        "NaN",
                                        "-Infinity",
                                        "9223372036854775807",
                                        "1795253400.5",
                                        "1e-320",
                                        "-0.0001",
                                        "99999999999.9999"
                                    }));
            default -> HostileValues.any(r);
        };
    }

    private JsonText batchIds() {
        if (r.nextInt(40) == 0) {
            // the most an accepted step can carry: 256 ids of 256 three-byte characters, quoted by
            // a NON_FINITE alert 5 times
            List<JsonText> ids = new ArrayList<>();
            for (int i = 0; i < 256; i++) {
                ids.add(str("\u4e2d".repeat(250) + String.format("%06d", i)));
            }
            return new JsonText.Arr(ids);
        }
        int n = r.nextInt(10) == 0 ? 250 + r.nextInt(10) : 1 + r.nextInt(4);
        List<JsonText> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(
                    r.nextInt(3) == 0
                            ? HostileValues.string(r)
                            : r.nextBoolean() ? number(r.nextInt(1_000_000)) : str("shard-" + i));
        }
        return new JsonText.Arr(ids);
    }

    // ---- run_start: schedules and thresholds ----

    private Generated mutatedStart(Run run) {
        JsonText.Obj start = run.start(false);
        int k = r.nextInt(10);
        if (k < 5) {
            JsonText.Obj spec =
                    start.get("schedule") instanceof JsonText.Obj s
                            ? s
                            : ScheduleSpecGenerator.spec(r);
            String family = spec.get("scheduler") instanceof JsonText.Str s ? s.raw() : "?";
            return new Generated(
                    start.with("schedule", mutateDeep(spec)),
                    null,
                    "run_start.schedule(" + family + ")");
        } else if (k < 7) {
            return new Generated(
                    start.with("thresholds", hostileThresholds()), null, "run_start.thresholds");
        }
        return mutateField(start, "run_start");
    }

    /**
     * A copy of {@code root} with one node somewhere inside it (any object member or array element,
     * at any depth: a scheduler argument, a child scheduler's argument, a lambda's argument, a
     * stepping field) replaced by a hostile value, removed, repeated, or given an unknown sibling.
     */
    JsonText mutateDeep(JsonText root) {
        List<List<Object>> paths = new ArrayList<>();
        collectPaths(root, new ArrayList<>(), paths, 0);
        if (paths.isEmpty()) {
            return HostileValues.any(r);
        }
        List<Object> path = paths.get(r.nextInt(paths.size()));
        int op = r.nextInt(100);
        return edit(
                root,
                path,
                0,
                node -> {
                    if (op < 70) {
                        return HostileValues.like(r, node);
                    }
                    return null; // removed
                },
                op >= 90);
    }

    private static void collectPaths(
            JsonText node, List<Object> prefix, List<List<Object>> out, int depth) {
        if (depth > 12) {
            return;
        }
        if (node instanceof JsonText.Obj o && o.members().size() <= 64) {
            for (int i = 0; i < o.members().size(); i++) {
                List<Object> p = new ArrayList<>(prefix);
                p.add(i);
                out.add(p);
                collectPaths(o.members().get(i).value(), p, out, depth + 1);
            }
        } else if (node instanceof JsonText.Arr a && a.items().size() <= 64) {
            for (int i = 0; i < a.items().size(); i++) {
                List<Object> p = new ArrayList<>(prefix);
                p.add(i);
                out.add(p);
                collectPaths(a.items().get(i), p, out, depth + 1);
            }
        }
    }

    /**
     * {@code root} with the node at {@code path} changed by {@code change} (null: removed); {@code
     * duplicate}: kept and repeated.
     */
    private JsonText edit(
            JsonText root,
            List<Object> path,
            int at,
            java.util.function.UnaryOperator<JsonText> change,
            boolean duplicate) {
        int i = (Integer) path.get(at);
        boolean last = at == path.size() - 1;
        if (root instanceof JsonText.Obj o) {
            List<JsonText.Member> m = new ArrayList<>(o.members());
            JsonText.Member target = m.get(i);
            if (!last) {
                m.set(
                        i,
                        new JsonText.Member(
                                target.rawKey(),
                                edit(target.value(), path, at + 1, change, duplicate)));
            } else if (duplicate) {
                m.add(
                        i + 1,
                        new JsonText.Member(
                                r.nextBoolean() ? target.rawKey() : target.rawKey() + "_x",
                                HostileValues.like(r, target.value())));
            } else {
                JsonText v = change.apply(target.value());
                if (v == null) {
                    m.remove(i);
                } else {
                    m.set(i, new JsonText.Member(target.rawKey(), v));
                }
            }
            return new JsonText.Obj(m);
        }
        JsonText.Arr a = (JsonText.Arr) root;
        List<JsonText> items = new ArrayList<>(a.items());
        if (!last) {
            items.set(i, edit(items.get(i), path, at + 1, change, duplicate));
        } else if (duplicate) {
            items.add(i, items.get(i));
        } else {
            JsonText v = change.apply(items.get(i));
            if (v == null) {
                items.remove(i);
            } else {
                items.set(i, v);
            }
        }
        return new JsonText.Arr(items);
    }

    /**
     * Thresholds in their ranges, at their very edges (a subnormal spike_mad_k, 10^9 steps) or just
     * outside them.
     */
    private JsonText thresholds(boolean hostile) {
        Threshold[] all = Threshold.values();
        List<JsonText.Member> m = new ArrayList<>();
        int n = 1 + r.nextInt(r.nextInt(4) == 0 ? all.length : 3);
        for (int i = 0; i < n; i++) {
            Threshold t = all[r.nextInt(all.length)];
            m.add(
                    new JsonText.Member(
                            t.key(), hostile && r.nextInt(3) > 0 ? outOfRange(t) : inRange(t)));
        }
        return new JsonText.Obj(m);
    }

    private JsonText hostileThresholds() {
        return switch (r.nextInt(6)) {
            case 0 ->
                    obj(
                            HostileValues.pick(
                                    r,
                                    new String[] {
                                        "spike_k",
                                        "SPIKE_MAD_K",
                                        "spike_mad_k ",
                                        "",
                                        "\\u0000",
                                        "r".repeat(300)
                                    }),
                            number(3));
            case 1 -> HostileValues.any(r);
            default -> thresholds(true);
        };
    }

    private JsonText inRange(Threshold t) {
        Threshold.Range range = t.range();
        double min = range.minInclusive() ? range.min() : Math.nextUp(range.min());
        double max = range.maxInclusive() ? range.max() : Math.nextDown(range.max());
        if (range.integer()) {
            min = Math.ceil(min);
            max = Math.floor(max);
        }
        double v =
                switch (r.nextInt(5)) {
                    case 0 -> min;
                    case 1 -> max;
                    case 2 -> t.defaultValue();
                    default ->
                            range.integer()
                                    ? Math.min(max, min + r.nextInt(1_000))
                                    : min + (Math.min(max, 100) - min) * r.nextDouble();
                };
        return range.integer() ? number((long) v) : number(v);
    }

    private JsonText outOfRange(Threshold t) {
        Threshold.Range range = t.range();
        return switch (r.nextInt(7)) {
            case 0 -> number(range.minInclusive() ? Math.nextDown(range.min()) : range.min());
            case 1 ->
                    range.max() == Double.MAX_VALUE
                            ? bare("1e309")
                            : number(range.maxInclusive() ? Math.nextUp(range.max()) : range.max());
            case 2 -> number(range.integer() ? range.min() + 0.5 : -1);
            case 3 ->
                    bare(
                            HostileValues.pick(
                                    r,
                                    new String[] {
                                        "NaN",
                                        "Infinity",
                                        "-Infinity",
                                        "\"nan\"",
                                        "\"3\"",
                                        "null",
                                        "true",
                                        "[3]",
                                        "{}"
                                    }));
            default -> HostileValues.like(r, number(t.defaultValue()));
        };
    }

    // ---- sequences ----

    /**
     * A step out of the usual order: before run_start, after run_end, repeated, reversed, resumed,
     * jumped far ahead.
     */
    private Generated sequence(Run run) {
        int k = r.nextInt(8);
        switch (k) {
            case 0 -> {
                run.step = -1; // back to step 0: a resume from the very start
                return new Generated(run.step(), null, "sequence:resume-to-0");
            }
            case 1 -> {
                run.step = Math.max(-1, run.step - 1 - r.nextInt(200));
                return new Generated(run.step(), null, "sequence:resume-back");
            }
            case 2 -> {
                run.step =
                        HostileValues.EDGE_LONGS[r.nextInt(HostileValues.EDGE_LONGS.length)]
                                - 1
                                - r.nextInt(3);
                if (run.step > EventCodec.MAX_STEP - 2 || r.nextBoolean()) {
                    run.step = EventCodec.MAX_STEP - 1 - r.nextInt(3);
                }
                return new Generated(run.step(), null, "sequence:huge-jump");
            }
            case 3 -> {
                JsonText.Obj s = run.step();
                pending.add(new Generated(s, null, "sequence:repeated"));
                return new Generated(s, null, "sequence:repeated");
            }
            case 4 -> {
                List<Generated> block = new ArrayList<>();
                int n = 2 + r.nextInt(12);
                for (int i = 0; i < n; i++) {
                    block.add(new Generated(run.step(), null, "sequence:reversed"));
                }
                java.util.Collections.reverse(block);
                pending.addAll(block.subList(1, block.size()));
                return block.get(0);
            }
            case 5 -> {
                // a fresh run id, stepping with no run_start at all
                Run fresh = new Run(RUN_PREFIX + "-nostart-" + r.nextInt(1_000_000));
                runs.set(r.nextInt(runs.size()), fresh);
                current = fresh;
                return new Generated(fresh.step(), null, "sequence:steps-before-run-start");
            }
            case 6 -> {
                if (!run.ended) {
                    pending.add(new Generated(run.step(), null, "sequence:after-run-end"));
                    return new Generated(run.end(), null, "sequence:after-run-end");
                }
                return new Generated(run.step(), null, "sequence:after-run-end");
            }
            default -> {
                // a second run_start mid-run declaring another schedule, steps going on where they
                // were
                long keep = run.step;
                JsonText.Obj start = run.start(true);
                run.step = keep;
                return new Generated(start, null, "sequence:second-run-start");
            }
        }
    }

    // ---- records broken as a whole ----

    private Generated structural(Run run) {
        JsonText.Obj s = run.step();
        String t = s.text();
        if (r.nextInt(10) == 0) {
            return oversized(s, t);
        }
        return switch (r.nextInt(12)) {
            case 0 ->
                    new Generated(
                            new JsonText.Cut(s, r.nextInt(t.length()), ""),
                            null,
                            "payload:truncated");
            case 1 ->
                    new Generated(
                            new JsonText.Cut(
                                    s,
                                    t.length(),
                                    HostileValues.pick(
                                            r,
                                            new String[] {
                                                " trailing",
                                                "}",
                                                "]",
                                                ",",
                                                "\n{}",
                                                s.text(),
                                                " // comment",
                                                "\u0000"
                                            })),
                            null,
                            "payload:trailing");
            case 2 ->
                    new Generated(
                            bare(
                                    HostileValues.pick(
                                            r,
                                            new String[] {
                                                "",
                                                " ",
                                                "\n",
                                                "\t",
                                                "null",
                                                "42",
                                                "\"step\"",
                                                "true",
                                                "[]",
                                                "{}",
                                                "[" + t + "]",
                                                "\uFEFF" + t,
                                                "\u0000",
                                                "'" + t + "'",
                                                t.replace('"', '\''),
                                                t.replace(":", "="),
                                                t.substring(1)
                                            })),
                            null,
                            "payload:not-an-object");
            case 3 ->
                    new Generated(
                            HostileValues.nested(
                                    new int[] {31, 32, 33, 100}[r.nextInt(4)], r.nextBoolean()),
                            null,
                            "payload:deep");
            case 4 ->
                    new Generated(
                            s.plus(
                                    "deep",
                                    HostileValues.nested(
                                            new int[] {29, 30, 31, 32, 33}[r.nextInt(5)],
                                            r.nextBoolean())),
                            null,
                            "payload:deep-field");
            case 5 ->
                    new Generated(
                            s.plus(
                                    "type",
                                    str(
                                            HostileValues.pick(
                                                    r,
                                                    new String[] {
                                                        "run_start", "run_end", "step", "x"
                                                    }))),
                            null,
                            "payload:duplicate-type");
            case 6 ->
                    new Generated(
                            bare(t.replace(",", ", \n\t\r ").replace(":", " : ")),
                            null,
                            "payload:whitespace");
            case 7 ->
                    new Generated(
                            bare(t.replace("\"step\"", "\"step\"/**/")), null, "payload:comment");
            case 8 -> new Generated(obj(), null, "payload:empty-object");
            case 9 ->
                    new Generated(
                            bare(t.substring(0, t.length() - 1) + ",}"),
                            null,
                            "payload:trailing-comma");
            default -> new Generated(HostileValues.any(r), null, "payload:bare-value");
        };
    }

    /**
     * Records of 100 KB to over 1 MiB, or nested thousands deep (rarer: each costs its size in
     * parsing, several times).
     */
    private Generated oversized(JsonText.Obj s, String t) {
        return switch (r.nextInt(10)) {
            case 0 ->
                    new Generated(
                            s.plus("pad", HostileValues.OVER_ONE_MIB), null, "payload:over-1mib");
            case 1 -> {
                // right at the size limit: one character under, at, and over it
                int pad =
                        EventCodec.MAX_EVENT_CHARS
                                - t.length()
                                - ",\"pad\":\"\"".length()
                                + r.nextInt(3)
                                - 1;
                yield new Generated(
                        s.plus("pad", str("p".repeat(Math.max(0, pad)))), null, "payload:at-limit");
            }
            case 2, 3 ->
                    new Generated(
                            HostileValues.nested(
                                    r.nextBoolean() ? 10_000 : 100_000, r.nextBoolean()),
                            null,
                            "payload:deep");
            case 4, 5 ->
                    new Generated(s.plus("pad", HostileValues.HUGE_STRING), null, "payload:100kb");
            case 6, 7 ->
                    new Generated(
                            s.plus("pad", HostileValues.HUGE_ARRAY), null, "payload:10k-array");
            default ->
                    new Generated(
                            s.plus("huge", HostileValues.large(r)), null, "payload:huge-field");
        };
    }

    /** The UTF-8 bytes of a step gone wrong, as a Kafka record can carry them. */
    private Generated corruptBytes(Run run) {
        JsonText.Obj s = run.step();
        byte[] b = s.text().getBytes(StandardCharsets.UTF_8);
        int at = Math.min(b.length - 1, 10 + r.nextInt(Math.max(1, b.length - 10)));
        byte[][] inserts = {
            {(byte) 0xFF},
            {(byte) 0xC0, (byte) 0x80},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xE2, (byte) 0x82},
            {0},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0x80},
            {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}
        };
        byte[] out =
                switch (r.nextInt(6)) {
                    case 0, 1, 2 -> splice(b, at, inserts[r.nextInt(inserts.length)]);
                    case 3 -> splice(b, 0, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
                    case 4 ->
                            s.text()
                                    .getBytes(
                                            r.nextBoolean()
                                                    ? StandardCharsets.UTF_16LE
                                                    : StandardCharsets.UTF_16);
                    default -> new byte[r.nextInt(3)];
                };
        return new Generated(s, out, "bytes:corrupt");
    }

    private static byte[] splice(byte[] b, int at, byte[] insert) {
        byte[] out = new byte[b.length + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at, out, at + insert.length, b.length - at);
        return out;
    }

    // ---- one run's realistic backbone ----

    /**
     * A run as a trainer drives it: steps in order with a decaying loss and the declared LR, unless
     * a sequence says otherwise.
     */
    private final class Run {
        final String id;
        final JsonText idText;
        long step = -1;
        boolean ended;
        int logEvery = 1;
        double loss;
        double grad;
        double lrScale = 1;
        DeclaredSchedule schedule;
        long time = FIRST_TIME_MILLIS;

        Run(String rawId) {
            this.id = rawId;
            this.idText = str(rawId);
            this.loss = 1 + 5 * r.nextDouble();
            this.grad = Math.pow(10, -1 + 2 * r.nextDouble());
        }

        JsonText.Obj start(boolean valid) {
            ended = false;
            step = -1;
            logEvery = new int[] {1, 1, 1, 2, 5, 10}[r.nextInt(6)];
            loss = 1 + 5 * r.nextDouble();
            lrScale = r.nextInt(6) == 0 ? new double[] {0.5, 2, 10}[r.nextInt(3)] : 1;
            List<JsonText.Member> m = new ArrayList<>();
            m.add(new JsonText.Member("type", str("run_start")));
            m.add(new JsonText.Member("run_id", idText));
            m.add(new JsonText.Member("time", number(time)));
            schedule = null;
            if (r.nextInt(8) > 0) {
                JsonText.Obj spec = ScheduleSpecGenerator.spec(r);
                m.add(new JsonText.Member("schedule", spec));
                if (valid) {
                    try {
                        schedule = ScheduleSpec.parse(spec.text());
                    } catch (RuntimeException e) {
                        schedule =
                                null; // a spec the engine refuses: the run steps without a declared
                        // LR
                    }
                }
            }
            if (r.nextBoolean()) {
                m.add(
                        new JsonText.Member(
                                "grad_clip",
                                r.nextInt(5) == 0
                                        ? number(
                                                HostileValues.EDGE_DOUBLES[
                                                        r.nextInt(
                                                                HostileValues.EDGE_DOUBLES.length
                                                                        - 2)])
                                        : number(1.0)));
            }
            if (r.nextBoolean()) {
                m.add(
                        new JsonText.Member(
                                "grad_accum_steps",
                                number(r.nextInt(5) == 0 ? 1_000_000 : 1 + r.nextInt(64))));
            }
            if (r.nextBoolean()) {
                m.add(
                        new JsonText.Member(
                                "steps_per_epoch",
                                number(
                                        r.nextInt(5) == 0
                                                ? HostileValues.EDGE_LONGS[
                                                        1
                                                                + r.nextInt(
                                                                        HostileValues.EDGE_LONGS
                                                                                        .length
                                                                                - 1)]
                                                : 1 + r.nextInt(500))));
            }
            if (r.nextBoolean()) {
                m.add(
                        new JsonText.Member(
                                "optimizer",
                                text(
                                        r.nextInt(4) == 0
                                                ? "\u00c4dam-" + "w".repeat(r.nextInt(250))
                                                : "AdamW")));
            }
            if (r.nextInt(3) == 0) {
                m.add(new JsonText.Member("thresholds", thresholds(false)));
            }
            return new JsonText.Obj(m);
        }

        JsonText.Obj end() {
            ended = true;
            List<JsonText.Member> m = new ArrayList<>();
            m.add(new JsonText.Member("type", str("run_end")));
            m.add(new JsonText.Member("run_id", idText));
            if (r.nextBoolean()) {
                m.add(new JsonText.Member("step", number(Math.max(0, step))));
            }
            if (r.nextBoolean()) {
                m.add(
                        new JsonText.Member(
                                "status",
                                str(new String[] {"completed", "failed", "killed"}[r.nextInt(3)])));
            }
            return new JsonText.Obj(m);
        }

        /**
         * The next logged step, with values a real run could send (NaN, spikes and extreme
         * magnitudes included).
         */
        JsonText.Obj step() {
            step = step < 0 ? logEvery - 1 : step + logEvery;
            time += 1_000L * logEvery;
            loss = Math.max(1e-6, loss * Math.exp(-0.002 * logEvery + 0.03 * r.nextGaussian()));
            grad = grad * Math.exp(0.05 * r.nextGaussian());
            List<JsonText.Member> m = new ArrayList<>();
            m.add(new JsonText.Member("type", str("step")));
            m.add(new JsonText.Member("run_id", idText));
            m.add(new JsonText.Member("step", number(step)));
            m.add(new JsonText.Member("loss", lossValue()));
            if (r.nextInt(10) > 0) {
                m.add(new JsonText.Member("grad_norm", gradValue()));
            }
            JsonText lr = lrValue();
            if (lr != null) {
                m.add(new JsonText.Member("lr", lr));
            }
            switch (r.nextInt(4)) {
                case 0 -> m.add(new JsonText.Member("time", number(time)));
                case 1 ->
                        m.add(
                                new JsonText.Member(
                                        "time",
                                        str(java.time.Instant.ofEpochMilli(time).toString())));
                case 2 -> m.add(new JsonText.Member("time", number(time / 1000.0)));
                default -> {}
            }
            if (r.nextInt(3) == 0) {
                m.add(
                        new JsonText.Member(
                                "batch",
                                r.nextBoolean()
                                        ? str("shard-" + step)
                                        : JsonText.arr(str("s" + step), number(step))));
            }
            if (r.nextInt(6) == 0) {
                m.add(
                        new JsonText.Member(
                                "loss_scale",
                                number(
                                        r.nextInt(10) == 0
                                                ? 1e-320
                                                : 65536.0 / (1 << r.nextInt(8)))));
            }
            if (r.nextInt(6) == 0) {
                m.add(new JsonText.Member("epoch", number(step / 100.0)));
            }
            if (r.nextInt(20) == 0) {
                java.util.Collections.shuffle(m, new java.util.Random(r.nextLong()));
            }
            return new JsonText.Obj(m);
        }

        private JsonText lossValue() {
            int k = r.nextInt(100);
            if (k < 90) {
                return number(loss);
            } else if (k < 94) {
                return bare(
                        HostileValues.pick(
                                r,
                                new String[] {
                                    "NaN",
                                    "Infinity",
                                    "-Infinity",
                                    "\"nan\"",
                                    "\"inf\"",
                                    "\"-inf\"",
                                    "\"NaN\""
                                }));
            } else if (k < 97) {
                return number(loss * (5 + 100 * r.nextDouble())); // a spike
            }
            return number(
                    HostileValues.EDGE_DOUBLES[r.nextInt(HostileValues.EDGE_DOUBLES.length)]
                            * (r.nextInt(4) == 0 ? -1 : 1));
        }

        private JsonText gradValue() {
            int k = r.nextInt(100);
            if (k < 90) {
                return number(grad);
            } else if (k < 94) {
                return bare(
                        HostileValues.pick(
                                r,
                                new String[] {
                                    "NaN", "Infinity", "\"inf\"", "\"nan\"", "0", "0.0"
                                }));
            } else if (k < 97) {
                return number(grad * (10 + 1_000 * r.nextDouble()));
            }
            return number(
                    HostileValues.EDGE_DOUBLES[r.nextInt(HostileValues.EDGE_DOUBLES.length - 1)]);
        }

        /**
         * The declared LR (scaled or off by a few steps now and then, so LR_MISMATCH has something
         * to diagnose), or a plain one.
         */
        private JsonText lrValue() {
            if (r.nextInt(8) == 0) {
                return null;
            }
            double[] lrs;
            if (schedule != null) {
                long at = r.nextInt(10) == 0 ? Math.max(0, step + r.nextInt(21) - 10) : step;
                try {
                    lrs =
                            schedule.adaptive()
                                    ? new double[] {schedule.highestLr(0, at)}
                                    : schedule.lrs(at);
                } catch (RuntimeException e) {
                    lrs = new double[] {1e-3};
                }
            } else {
                lrs = new double[] {1e-3 * Math.exp(-step / 5_000.0)};
            }
            int groups =
                    switch (r.nextInt(30)) {
                        case 0 -> lrs.length + 1; // more groups reported than declared
                        case 1 -> Math.max(1, lrs.length - 1);
                        default -> lrs.length;
                    };
            double[] out = new double[groups];
            for (int g = 0; g < out.length; g++) {
                double v = g < lrs.length ? lrs[g] * lrScale : 1e-4;
                out[g] = Double.isFinite(v) && v >= 0 ? v : 0;
            }
            if (out.length == 1 && r.nextBoolean()) {
                return number(out[0]);
            }
            return JsonText.numbers(out);
        }
    }
}
