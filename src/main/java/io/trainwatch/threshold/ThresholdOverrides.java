package io.trainwatch.threshold;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run's own threshold overrides (run_start {@code "thresholds"}), each checked by {@link
 * Threshold#problem} once, when set: the event and the run's state carry this typed value, and the
 * monitor applies it to the job's thresholds without checking again. A Flink POJO (a {@code
 * double[]} of {@link Threshold#values()}' length, NaN where not overridden: 8 bytes a threshold,
 * no names in state), so it crosses the keyBy and sits in keyed state without Kryo.
 */
public class ThresholdOverrides {
    /**
     * Value per {@link Threshold#ordinal()}, NaN where not overridden (a real value is never NaN).
     * Public only for Flink's POJO serializer: set it through {@link #set} or {@link #of}, which
     * check.
     */
    public double[] values;

    public ThresholdOverrides() {}

    /**
     * {@code overrides} (name to value) checked: an unknown name or a value outside its range is an
     * IllegalArgumentException naming the threshold, the value and what is allowed. Null or empty:
     * null.
     */
    public static ThresholdOverrides of(Map<String, Double> overrides) {
        if (overrides == null || overrides.isEmpty()) {
            return null;
        }
        ThresholdOverrides o = new ThresholdOverrides();
        for (Map.Entry<String, Double> e : overrides.entrySet()) {
            Threshold t = Threshold.byKey(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException(Thresholds.unknown(e.getKey()));
            }
            String problem =
                    e.getValue() == null
                            ? "must be " + t.range().describe() + ", got null"
                            : o.set(t, e.getValue());
            if (problem != null) {
                throw new IllegalArgumentException(t.key() + ": " + problem);
            }
        }
        return o;
    }

    /**
     * Overrides {@code t} with {@code value} if {@link Threshold#problem} allows it; returns that
     * problem, null when set.
     */
    public String set(Threshold t, double value) {
        String problem = t.problem(value);
        if (problem == null) {
            if (values == null) {
                values = new double[Threshold.values().length];
                Arrays.fill(values, Double.NaN);
            }
            values[t.ordinal()] = value;
        }
        return problem;
    }

    public boolean isEmpty() {
        if (values != null) {
            for (double v : values) {
                if (!Double.isNaN(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code base} with these overrides applied. */
    public Thresholds applyTo(Thresholds base) {
        return base.withChecked(values);
    }

    /**
     * Name to value, in the order of {@link Threshold#values()} (how an accepted event is written
     * back).
     */
    public Map<String, Double> asMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        if (values != null) {
            for (Threshold t : Threshold.values()) {
                if (t.ordinal() < values.length && !Double.isNaN(values[t.ordinal()])) {
                    m.put(t.key(), values[t.ordinal()]);
                }
            }
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ThresholdOverrides t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
