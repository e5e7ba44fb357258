package io.trainwatch.threshold;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The threshold values in force: defaults, then job-level overrides, then a run's own overrides.
 * Immutable; every value in it has passed {@link Threshold#problem(double)}.
 */
public final class Thresholds implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Every threshold name a run_start or --threshold may use. */
    public static final Set<String> NAMES = names();

    public static final Thresholds DEFAULTS = new Thresholds(defaults());

    private final double[] values;

    private Thresholds(double[] values) {
        this.values = values;
    }

    public double get(Threshold t) {
        return values[t.ordinal()];
    }

    /** An integer threshold's value (its range keeps it within int). */
    public int getInt(Threshold t) {
        return (int) values[t.ordinal()];
    }

    /**
     * These thresholds with {@code overrides} (name to value) applied; an unknown name or a value
     * outside its range is an IllegalArgumentException naming the threshold, the value and what is
     * allowed.
     */
    public Thresholds with(Map<String, Double> overrides) {
        ThresholdOverrides o = ThresholdOverrides.of(overrides);
        return o == null ? this : o.applyTo(this);
    }

    /**
     * These thresholds with {@code overrides} (per threshold ordinal, NaN: not overridden) that
     * {@link ThresholdOverrides} checked.
     */
    Thresholds withChecked(double[] overrides) {
        if (overrides == null) {
            return this;
        }
        double[] v = values.clone();
        for (int i = 0; i < Math.min(v.length, overrides.length); i++) {
            if (!Double.isNaN(overrides[i])) {
                v[i] = overrides[i];
            }
        }
        return new Thresholds(v);
    }

    /**
     * These thresholds with overrides given as text (the command line's {@code name=value}),
     * checked as {@link #with} does.
     */
    public Thresholds withText(Map<String, String> overrides) {
        Map<String, Double> parsed = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            Threshold t = Threshold.byKey(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException(unknown(e.getKey()));
            }
            parsed.put(e.getKey(), t.parse(e.getValue()));
        }
        return with(parsed);
    }

    /** The message for a name that is no threshold. */
    public static String unknown(String name) {
        return "unknown threshold \"" + name + "\"; " + known(name);
    }

    /**
     * The thresholds to name beside an unknown {@code name}: those of its family (the same first
     * word, e.g. every {@code spike_*}) when it has one, else all of them. A short list reads
     * better in a dead letter than every threshold there is.
     */
    public static String known(String name) {
        int cut = name.indexOf('_');
        String family = cut > 0 ? name.substring(0, cut + 1) : null;
        List<String> same =
                family == null
                        ? List.of()
                        : NAMES.stream().filter(n -> n.startsWith(family)).toList();
        return same.isEmpty()
                ? "known: " + String.join(", ", NAMES)
                : "known "
                        + family
                        + "* thresholds: "
                        + String.join(", ", same)
                        + " (all "
                        + NAMES.size()
                        + " are in the README's threshold table)";
    }

    private static double[] defaults() {
        double[] v = new double[Threshold.values().length];
        for (Threshold t : Threshold.values()) {
            v[t.ordinal()] = t.defaultValue();
        }
        return v;
    }

    private static Set<String> names() {
        Set<String> s = new LinkedHashSet<>();
        for (Threshold t : Threshold.values()) {
            s.add(t.key());
        }
        return Collections.unmodifiableSet(s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Thresholds t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Thresholds[");
        for (Threshold t : Threshold.values()) {
            b.append(t.ordinal() == 0 ? "" : ", ")
                    .append(t.key())
                    .append('=')
                    .append(Threshold.show(get(t)));
        }
        return b.append(']').toString();
    }
}
