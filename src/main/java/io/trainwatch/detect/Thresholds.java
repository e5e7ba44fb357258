package io.trainwatch.detect;

import com.fasterxml.jackson.databind.JsonNode;
import io.trainwatch.event.JsonOutput;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The threshold values in force: defaults, then job-level overrides, then a run's own overrides. Immutable. */
public final class Thresholds implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

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

    public int getInt(Threshold t) {
        return (int) Math.round(values[t.ordinal()]);
    }

    /** These thresholds with {@code overrides} (name to value) applied. */
    public Thresholds with(Map<String, Double> overrides) {
        double[] v = values.clone();
        for (Map.Entry<String, Double> e : overrides.entrySet()) {
            Threshold t = Threshold.byKey(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("unknown threshold \"" + e.getKey() + "\"; known: " + String.join(", ", NAMES));
            }
            if (e.getValue() == null || !Double.isFinite(e.getValue()) || e.getValue() < 0) {
                throw new IllegalArgumentException("threshold " + e.getKey() + " must be a finite number >= 0, got " + e.getValue());
            }
            v[t.ordinal()] = e.getValue();
        }
        return new Thresholds(v);
    }

    /** These thresholds with a run's overrides (a JSON object text, already validated by the event codec). */
    public Thresholds withJson(String json) {
        if (json == null) {
            return this;
        }
        JsonNode node = JsonOutput.parse(json);
        Map<String, Double> m = new java.util.LinkedHashMap<>();
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            m.put(n, node.get(n).asDouble());
        }
        return with(m);
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
        return java.util.Collections.unmodifiableSet(s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Thresholds t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }
}
