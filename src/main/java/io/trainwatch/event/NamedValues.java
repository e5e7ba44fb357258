package io.trainwatch.event;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Named values in the order they were put, immutable: the evidence and the suggestion of an {@link
 * Alert}, built by the detectors and written as a JSON object by {@link JsonWriter}. A value is
 * null, a long (every integer), a double, a boolean, a string, a list of doubles or a list of
 * strings: what a JSON writer and a Flink serializer can both take without reflection.
 */
public final class NamedValues {
    private final List<String> names;
    private final List<Object> values;

    private NamedValues(List<String> names, List<Object> values) {
        this.names = names;
        this.values = values;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int size() {
        return names.size();
    }

    public String name(int i) {
        return names.get(i);
    }

    /**
     * Null, a {@link Long}, a {@link Double}, a {@link Boolean}, a {@link String}, or an
     * unmodifiable {@code List<Double>} or {@code List<String>} (an empty list is either).
     */
    public Object value(int i) {
        return values.get(i);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamedValues v && names.equals(v.names) && values.equals(v.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(names, values);
    }

    /** The JSON object, as the alert shows it. */
    @Override
    public String toString() {
        return JsonWriter.namedValues(this);
    }

    /**
     * Puts values in order; putting a name again replaces its value in its first place (as a JSON
     * object's key does).
     */
    public static final class Builder {
        private final Map<String, Object> entries = new LinkedHashMap<>();

        private Builder() {}

        /** Every integer is kept as a long: int and long read alike in JSON. */
        public Builder put(String name, long value) {
            entries.put(name, value);
            return this;
        }

        public Builder put(String name, double value) {
            entries.put(name, value);
            return this;
        }

        /** Null when the number is unknown. */
        public Builder put(String name, Double value) {
            entries.put(name, value);
            return this;
        }

        public Builder put(String name, boolean value) {
            entries.put(name, value);
            return this;
        }

        public Builder put(String name, String value) {
            entries.put(name, value);
            return this;
        }

        public Builder put(String name, double[] value) {
            entries.put(name, value == null ? null : Arrays.stream(value).boxed().toList());
            return this;
        }

        public Builder put(String name, List<String> value) {
            entries.put(name, value == null ? null : value.stream().toList());
            return this;
        }

        /** All of {@code other}'s values, in its order. */
        public Builder putAll(NamedValues other) {
            for (int i = 0; i < other.size(); i++) {
                entries.put(other.name(i), other.value(i));
            }
            return this;
        }

        public NamedValues build() {
            // Stream.toList: unmodifiable, and it keeps null values (List.copyOf refuses them)
            return new NamedValues(
                    List.copyOf(entries.keySet()), entries.values().stream().toList());
        }
    }
}
