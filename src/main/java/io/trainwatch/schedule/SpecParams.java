package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed, validating access to one scheduler's {@code params} object. Every accessor records the
 * name it read, so that {@link #rejectUnknown()} can refuse misspelt arguments instead of silently
 * falling back to a framework default. A JSON {@code null} for an optional argument means "not
 * given" (the golden files write Python's None that way).
 */
final class SpecParams {
    private final JsonNode node;
    private final String path;
    private final String scheduler;
    private final Set<String> read = new HashSet<>();

    SpecParams(JsonNode node, String path, String scheduler) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw new InvalidScheduleException(
                    path, "is required (an object with " + scheduler + "'s arguments)");
        }
        if (!node.isObject()) {
            throw new InvalidScheduleException(path, "must be an object, got " + describe(node));
        }
        this.node = node;
        this.path = path;
        this.scheduler = scheduler;
    }

    String scheduler() {
        return scheduler;
    }

    String path(String name) {
        return path + "." + name;
    }

    boolean has(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v != null && !v.isNull();
    }

    JsonNode raw(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    /**
     * Marks arguments that the framework accepts but that do not change the LR (momentum cycling,
     * verbose, ...).
     */
    void ignore(String... names) {
        read.addAll(List.of(names));
    }

    long requiredLong(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            throw missing(name, "an integer");
        }
        return asLong(name, v);
    }

    long optionalLong(String name, long defaultValue) {
        JsonNode v = raw(name);
        return v == null ? defaultValue : asLong(name, v);
    }

    /**
     * An integer that is only compared, never used in arithmetic, so it may be any long (not
     * bounded by {@link SpecLimits#MAX_STEP} as every other integer argument is).
     */
    long optionalComparedLong(String name, long defaultValue) {
        JsonNode v = raw(name);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw invalid(name, "must be an integer, got " + describe(v));
        }
        return v.longValue();
    }

    /** A learning rate: finite, in [0, {@link SpecLimits#MAX_LR}]. */
    double requiredLr(String name) {
        return checkLr(path(name), requiredDouble(name));
    }

    double optionalLr(String name, double defaultValue) {
        return checkLr(path(name), optionalDouble(name, defaultValue));
    }

    /**
     * A number in [lo, hi]; {@code what} says what it is, for the message ("a fraction of the
     * initial LR").
     */
    double optionalIn(String name, double defaultValue, double lo, double hi, String what) {
        return checkIn(name, optionalDouble(name, defaultValue), lo, hi, what);
    }

    double requiredIn(String name, double lo, double hi, String what) {
        return checkIn(name, requiredDouble(name), lo, hi, what);
    }

    /**
     * A number >= {@code lo}, with no upper bound that matters (e.g. an exponent applied to a base
     * in [0, 1]).
     */
    double optionalAtLeast(String name, double defaultValue, double lo, String why) {
        double v = optionalDouble(name, defaultValue);
        if (!(v >= lo)) {
            throw invalid(name, "must be >= " + number(lo) + " (" + why + "), got " + v);
        }
        return v;
    }

    double checkIn(String name, double v, double lo, double hi, String what) {
        if (!(v >= lo && v <= hi)) {
            throw invalid(
                    name,
                    "must be in [" + number(lo) + ", " + number(hi) + "] (" + what + "), got " + v);
        }
        return v;
    }

    double requiredDouble(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            throw missing(name, "a number");
        }
        return asDouble(path(name), v);
    }

    double optionalDouble(String name, double defaultValue) {
        JsonNode v = raw(name);
        return v == null ? defaultValue : asDouble(path(name), v);
    }

    boolean optionalBoolean(String name, boolean defaultValue) {
        JsonNode v = raw(name);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw new InvalidScheduleException(
                    path(name), "must be true or false, got " + describe(v));
        }
        return v.booleanValue();
    }

    String optionalChoice(String name, String defaultValue, String... allowed) {
        JsonNode v = raw(name);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw new InvalidScheduleException(
                    path(name),
                    "must be one of "
                            + String.join(", ", quoted(allowed))
                            + ", got "
                            + describe(v));
        }
        for (String a : allowed) {
            if (a.equals(v.textValue())) {
                return a;
            }
        }
        throw new InvalidScheduleException(
                path(name),
                "must be one of "
                        + String.join(", ", quoted(allowed))
                        + ", got \""
                        + echo(v.textValue())
                        + "\"");
    }

    /** A list of integers (may be unsorted or repeat, as torch's MultiStepLR allows). */
    long[] requiredLongList(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            throw missing(name, "a list of integers");
        }
        if (!v.isArray() || v.isEmpty()) {
            throw new InvalidScheduleException(
                    path(name), "must be a non-empty list of integers, got " + describe(v));
        }
        if (v.size() > SpecLimits.MAX_MILESTONES) {
            throw new InvalidScheduleException(
                    path(name),
                    "must have at most "
                            + SpecLimits.MAX_MILESTONES
                            + " values (a longer staircase is a StepLR or an ExponentialLR), got "
                            + v.size());
        }
        long[] out = new long[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(path(name) + "[" + i + "]", v.get(i));
        }
        return out;
    }

    /** A list of finite numbers, e.g. {@code base_lrs}. */
    double[] doubleList(String name, boolean required) {
        JsonNode v = raw(name);
        if (v == null) {
            if (required) {
                throw missing(name, "a list of numbers, one per param group");
            }
            return null;
        }
        if (!v.isArray() || v.isEmpty()) {
            throw new InvalidScheduleException(
                    path(name),
                    "must be a non-empty list of numbers (one per param group), got "
                            + describe(v));
        }
        if (v.size() > SpecLimits.MAX_PARAM_GROUPS) {
            throw new InvalidScheduleException(
                    path(name),
                    "must have at most "
                            + SpecLimits.MAX_PARAM_GROUPS
                            + " values (param groups; the event codec reports as many LRs), got "
                            + v.size());
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asDouble(path(name) + "[" + i + "]", v.get(i));
        }
        return out;
    }

    /**
     * A number for every group, or a list with one per group, as torch's {@code _format_param}
     * accepts for CyclicLR/OneCycleLR and DeepSpeed for its warmup bounds.
     */
    double[] perGroup(String name, int groups, Double defaultValue) {
        JsonNode v = raw(name);
        if (v == null) {
            if (defaultValue == null) {
                throw missing(name, "a number or a list with one number per param group");
            }
            return filled(groups, defaultValue);
        }
        if (v.isArray()) {
            if (v.size() != groups) {
                throw new InvalidScheduleException(
                        path(name),
                        "expected " + groups + " values (one per param group), got " + v.size());
            }
            return doubleList(name, true);
        }
        return filled(groups, asDouble(path(name), v));
    }

    /**
     * Length of {@code name} if it is a list, else -1: used to infer the number of param groups.
     */
    int listLength(String name) {
        JsonNode v = node.get(name);
        return v != null && v.isArray() ? v.size() : -1;
    }

    /**
     * Refuses any argument that no accessor read: a misspelt name must not fall back to a default.
     */
    void rejectUnknown() {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!read.contains(n)) {
                Set<String> known = new TreeSet<>(read);
                String hint = closest(n, known);
                throw new InvalidScheduleException(
                        path(echo(n)),
                        "unknown argument for "
                                + scheduler
                                + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")
                                + "; allowed: "
                                + String.join(", ", known));
            }
        }
    }

    InvalidScheduleException invalid(String name, String reason) {
        return new InvalidScheduleException(path(name), reason);
    }

    private InvalidScheduleException missing(String name, String what) {
        // a required argument is often missing because it was misspelt: point at the misspelling
        String misspelt = null;
        Iterator<String> given = node.fieldNames();
        while (given.hasNext() && misspelt == null) {
            String g = given.next();
            if (!read.contains(g) && closest(g, List.of(name)) != null) {
                misspelt = g;
            }
        }
        return new InvalidScheduleException(
                path(name),
                "is required for "
                        + scheduler
                        + " ("
                        + what
                        + ")"
                        + (misspelt == null
                                ? ""
                                : "; found \""
                                        + echo(misspelt)
                                        + "\": did you mean \""
                                        + name
                                        + "\"?"));
    }

    private long asLong(String name, JsonNode v) {
        return integer(path(name), v);
    }

    /**
     * Every integer argument is a count of steps, an index or a multiplier of one: within +-2^53,
     * which no run reaches, so that sums of a few of them and a scheduler index cannot overflow a
     * long.
     */
    static long integer(String field, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new InvalidScheduleException(field, "must be an integer, got " + describe(v));
        }
        long n = v.longValue();
        if (n > SpecLimits.MAX_STEP || n < -SpecLimits.MAX_STEP) {
            throw new InvalidScheduleException(
                    field,
                    "must be an integer between -2^53 and 2^53 ("
                            + SpecLimits.MAX_STEP
                            + "; no run reaches that many steps), got "
                            + n);
        }
        return n;
    }

    /** A learning rate at {@code field}: in [0, {@link SpecLimits#MAX_LR}]. */
    static double checkLr(String field, double lr) {
        if (lr < 0) {
            throw new InvalidScheduleException(field, "a learning rate must be >= 0, got " + lr);
        }
        if (lr > SpecLimits.MAX_LR) {
            throw new InvalidScheduleException(
                    field,
                    "a learning rate must be <= "
                            + SpecLimits.MAX_LR
                            + " (no optimizer runs at one near it), got "
                            + lr);
        }
        return lr + 0.0; // -0.0 becomes 0.0
    }

    /** A bound as the message shows it: 2^53 rather than 9.007199254740992E15. */
    private static String number(double v) {
        if (v == SpecLimits.MAX_STEP) {
            return "2^53";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15
                ? Long.toString((long) v)
                : Double.toString(v);
    }

    static double asDouble(String field, JsonNode v) {
        if (!v.isNumber()) {
            throw new InvalidScheduleException(field, "must be a number, got " + describe(v));
        }
        double d = v.doubleValue();
        if (!Double.isFinite(d)) {
            throw new InvalidScheduleException(field, "must be a finite number, got " + d);
        }
        return d;
    }

    static String describe(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        JsonNodeType t = v.getNodeType();
        // the spec's size is bounded before anything is described, so toString() is cheap; a long
        // string is cut first
        String text =
                v.isTextual() ? TextNode.valueOf(head(v.textValue(), 61)).toString() : v.toString();
        if (text.length() > 60) {
            text = head(text, 57) + "...";
        }
        return t.name().toLowerCase(Locale.ROOT) + " " + withoutLoneSurrogates(text);
    }

    private static double[] filled(int n, double value) {
        double[] out = new double[n];
        Arrays.fill(out, value);
        return out;
    }

    private static List<String> quoted(String[] values) {
        List<String> out = new ArrayList<>();
        for (String s : values) {
            out.add("\"" + s + "\"");
        }
        return out;
    }

    /**
     * A user-given string as an error message or a field path shows it: at most {@link
     * SpecLimits#MAX_ECHOED_CHARS} characters (then "…"), never half a surrogate pair, and a lone
     * surrogate replaced, so that the message can be written as JSON (a dead letter).
     */
    static String echo(String s) {
        String safe = withoutLoneSurrogates(head(s, SpecLimits.MAX_ECHOED_CHARS));
        return s.length() > SpecLimits.MAX_ECHOED_CHARS ? safe + "\u2026" : safe;
    }

    /**
     * At most the first {@code n} chars of {@code s}, one fewer rather than half a surrogate pair.
     */
    private static String head(String s, int n) {
        if (s.length() <= n) {
            return s;
        }
        return n > 0 && Character.isHighSurrogate(s.charAt(n - 1))
                ? s.substring(0, n - 1)
                : s.substring(0, n);
    }

    /**
     * {@code s} with every unpaired surrogate (a JSON string may hold one, escaped as
     * backslash-u-D800) replaced by U+FFFD.
     */
    private static String withoutLoneSurrogates(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired =
                    Character.isHighSurrogate(c)
                            ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                            : Character.isLowSurrogate(c)
                                    && i > 0
                                    && Character.isHighSurrogate(s.charAt(i - 1));
            if (Character.isSurrogate(c) && !paired) {
                if (out == null) {
                    out = new StringBuilder(s.substring(0, i));
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }

    /**
     * The known name nearest to {@code name} (case-insensitive edit distance at most 2), or null.
     * Names longer than {@link SpecLimits#MAX_ECHOED_CHARS} get no hint: no known name is that
     * long, and the distance would cost their length times the known name's.
     */
    static String closest(String name, Iterable<String> known) {
        if (name.length() > SpecLimits.MAX_ECHOED_CHARS) {
            return null;
        }
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
