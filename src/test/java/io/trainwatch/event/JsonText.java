package io.trainwatch.event;

import java.util.ArrayList;
import java.util.List;

/**
 * A JSON-like value written as text by hand, so it can hold what a JSON writer never writes: bare
 * NaN, {@code 1e999}, {@code -0}, integers of any length, duplicate keys, raw control characters,
 * unpaired surrogate escapes, or text cut short. The fuzz generator builds records out of these and
 * the shrinker simplifies them node by node.
 */
public sealed interface JsonText {
    /**
     * Nesting beyond this is written as one {@link Bare} text (a tree that deep would overflow the
     * renderer's stack).
     */
    int MAX_TREE_DEPTH = 64;

    void render(StringBuilder out);

    default String text() {
        StringBuilder b = new StringBuilder();
        render(b);
        return b.toString();
    }

    /** A key and its value; the key is written between quotes as it is (it may hold escapes). */
    record Member(String rawKey, JsonText value) {}

    /** An object; keys may repeat. */
    record Obj(List<Member> members) implements JsonText {
        public Obj {
            members = List.copyOf(members);
        }

        @Override
        public void render(StringBuilder out) {
            out.append('{');
            for (int i = 0; i < members.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append('"').append(members.get(i).rawKey()).append("\":");
                members.get(i).value().render(out);
            }
            out.append('}');
        }

        /** The value of the first member named {@code rawKey}, or null. */
        public JsonText get(String rawKey) {
            for (Member m : members) {
                if (m.rawKey().equals(rawKey)) {
                    return m.value();
                }
            }
            return null;
        }

        public Obj with(String rawKey, JsonText value) {
            List<Member> out = new ArrayList<>(members);
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i).rawKey().equals(rawKey)) {
                    out.set(i, new Member(rawKey, value));
                    return new Obj(out);
                }
            }
            out.add(new Member(rawKey, value));
            return new Obj(out);
        }

        public Obj without(String rawKey) {
            List<Member> out = new ArrayList<>(members);
            out.removeIf(m -> m.rawKey().equals(rawKey));
            return new Obj(out);
        }

        public Obj plus(String rawKey, JsonText value) {
            List<Member> out = new ArrayList<>(members);
            out.add(new Member(rawKey, value));
            return new Obj(out);
        }
    }

    /** An array. */
    record Arr(List<JsonText> items) implements JsonText {
        public Arr {
            items = List.copyOf(items);
        }

        @Override
        public void render(StringBuilder out) {
            out.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                items.get(i).render(out);
            }
            out.append(']');
        }
    }

    /**
     * A string: {@code raw} is written between quotes as it is, escapes and raw characters alike.
     */
    record Str(String raw) implements JsonText {
        @Override
        public void render(StringBuilder out) {
            out.append('"').append(raw).append('"');
        }
    }

    /**
     * Any text written as it is: a number, true/false/null, NaN, or something that is no JSON at
     * all.
     */
    record Bare(String raw) implements JsonText {
        @Override
        public void render(StringBuilder out) {
            out.append(raw);
        }
    }

    /**
     * The text of {@code inner} cut after {@code keep} characters, or with {@code suffix} appended
     * (broken records).
     */
    record Cut(JsonText inner, int keep, String suffix) implements JsonText {
        @Override
        public void render(StringBuilder out) {
            String s = inner.text();
            out.append(s, 0, safeCut(s, keep)).append(suffix);
        }
    }

    /**
     * {@code keep} moved back by one if it falls inside a surrogate pair: text decoded from UTF-8
     * (a file, a Kafka record) never holds half a pair, so neither does a record cut short here.
     */
    static int safeCut(String s, int keep) {
        int k = Math.max(0, Math.min(keep, s.length()));
        return k > 0
                        && k < s.length()
                        && Character.isHighSurrogate(s.charAt(k - 1))
                        && Character.isLowSurrogate(s.charAt(k))
                ? k - 1
                : k;
    }

    static Str str(String raw) {
        return new Str(raw);
    }

    static Bare bare(String raw) {
        return new Bare(raw);
    }

    static Bare number(double d) {
        return new Bare(
                Double.isNaN(d)
                        ? "NaN"
                        : Double.isInfinite(d)
                                ? (d > 0 ? "Infinity" : "-Infinity")
                                : Double.toString(d));
    }

    static Bare number(long n) {
        return new Bare(Long.toString(n));
    }

    /**
     * A plain Java string as a JSON string, escaped as a JSON writer would (quotes, backslashes,
     * control characters).
     */
    static Str text(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return new Str(b.toString());
    }

    static Obj obj(Object... keysAndValues) {
        List<Member> m = new ArrayList<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.add(new Member((String) keysAndValues[i], (JsonText) keysAndValues[i + 1]));
        }
        return new Obj(m);
    }

    static Arr arr(JsonText... items) {
        return new Arr(List.of(items));
    }

    /** Numbers as a JSON array. */
    static Arr numbers(double... values) {
        List<JsonText> items = new ArrayList<>();
        for (double v : values) {
            items.add(number(v));
        }
        return new Arr(items);
    }
}
