package io.trainwatch.event;

import java.util.ArrayList;
import java.util.List;

/**
 * Shrinks a failing sequence of generated records to a small one that fails the same way: drops
 * records (larger chunks first, then one at a time), then simplifies each record's JSON node by
 * node — drops members and elements, halves long arrays and strings, replaces values with plainer
 * ones — keeping a change only while the property still fails with the same signature. Bounded by a
 * number of property checks and a time, so a slow property cannot stall a build.
 */
public final class SequenceShrinker {
    /**
     * The property under test: null when {@code records} pass, else a signature of the failure (its
     * class, not its details).
     */
    @FunctionalInterface
    public interface Property {
        String failure(List<HostileEvents.Generated> records);
    }

    private final Property property;
    private final String signature;
    private final int maxChecks;
    private final long deadlineNanos;
    private int checks;

    private SequenceShrinker(Property property, String signature, int maxChecks, long maxMillis) {
        this.property = property;
        this.signature = signature;
        this.maxChecks = maxChecks;
        this.deadlineNanos = System.nanoTime() + maxMillis * 1_000_000;
    }

    /**
     * The smallest sequence found, within {@code maxChecks} property checks and about {@code
     * maxMillis}, that still fails with {@code signature}; {@code records} itself if nothing
     * smaller does.
     */
    public static List<HostileEvents.Generated> shrink(
            List<HostileEvents.Generated> records,
            String signature,
            Property property,
            int maxChecks,
            long maxMillis) {
        SequenceShrinker s = new SequenceShrinker(property, signature, maxChecks, maxMillis);
        List<HostileEvents.Generated> current = s.dropRecords(records);
        current = s.simplifyRecords(current);
        return s.dropRecords(current);
    }

    private boolean stillFails(List<HostileEvents.Generated> candidate) {
        if (checks >= maxChecks || System.nanoTime() > deadlineNanos) {
            return false;
        }
        checks++;
        try {
            return signature.equals(property.failure(candidate));
        } catch (RuntimeException | StackOverflowError e) {
            return false;
        }
    }

    /**
     * Delta debugging over the records: remove chunks of half, a quarter, ... one record while the
     * failure stays.
     */
    private List<HostileEvents.Generated> dropRecords(List<HostileEvents.Generated> records) {
        List<HostileEvents.Generated> current = new ArrayList<>(records);
        int chunk = Math.max(1, current.size() / 2);
        while (chunk >= 1 && checks < maxChecks) {
            boolean removed = false;
            for (int from = 0; from < current.size() && current.size() > 1; ) {
                List<HostileEvents.Generated> candidate = new ArrayList<>(current.subList(0, from));
                candidate.addAll(
                        current.subList(Math.min(current.size(), from + chunk), current.size()));
                if (!candidate.isEmpty() && stillFails(candidate)) {
                    current = candidate;
                    removed = true;
                } else {
                    from += chunk;
                }
            }
            if (!removed) {
                chunk /= 2;
            }
        }
        return current;
    }

    private List<HostileEvents.Generated> simplifyRecords(List<HostileEvents.Generated> records) {
        List<HostileEvents.Generated> current = new ArrayList<>(records);
        for (int i = current.size() - 1; i >= 0 && checks < maxChecks; i--) {
            HostileEvents.Generated g = current.get(i);
            if (g.utf8() != null) {
                // bytes gone wrong: try the record's plain text instead, then shrink that
                List<HostileEvents.Generated> candidate = new ArrayList<>(current);
                candidate.set(i, g.withJson(g.json()));
                if (stillFails(candidate)) {
                    current = candidate;
                } else {
                    continue;
                }
            }
            boolean progress = true;
            while (progress && checks < maxChecks) {
                progress = false;
                for (JsonText simpler : simpler(current.get(i).json())) {
                    List<HostileEvents.Generated> candidate = new ArrayList<>(current);
                    candidate.set(i, current.get(i).withJson(simpler));
                    if (stillFails(candidate)) {
                        current = candidate;
                        progress = true;
                        break;
                    }
                }
            }
        }
        return current;
    }

    /**
     * Immediate simplifications of {@code t}, each with a shorter text, the most reducing first.
     */
    static List<JsonText> simpler(JsonText t) {
        List<JsonText> out = new ArrayList<>();
        int length = t.text().length();
        if (t instanceof JsonText.Cut c) {
            out.add(c.inner());
            if (c.keep() > 1) {
                out.add(new JsonText.Cut(c.inner(), c.keep() / 2, c.suffix()));
            }
            for (JsonText inner : simpler(c.inner())) {
                out.add(new JsonText.Cut(inner, c.keep(), c.suffix()));
            }
        } else if (t instanceof JsonText.Obj o) {
            List<JsonText.Member> m = o.members();
            if (m.size() > 8) {
                out.add(new JsonText.Obj(m.subList(0, m.size() / 2)));
                out.add(new JsonText.Obj(m.subList(m.size() / 2, m.size())));
            }
            for (int i = 0; i < m.size() && i < 64; i++) {
                List<JsonText.Member> less = new ArrayList<>(m);
                less.remove(i);
                out.add(new JsonText.Obj(less));
            }
            for (int i = 0; i < m.size() && i < 64; i++) {
                JsonText.Member member = m.get(i);
                if (member.rawKey().length() > 8) {
                    List<JsonText.Member> shorter = new ArrayList<>(m);
                    String key = member.rawKey();
                    shorter.set(
                            i,
                            new JsonText.Member(
                                    key.substring(0, JsonText.safeCut(key, key.length() / 2)),
                                    member.value()));
                    out.add(new JsonText.Obj(shorter));
                }
                for (JsonText v : simpler(member.value())) {
                    List<JsonText.Member> changed = new ArrayList<>(m);
                    changed.set(i, new JsonText.Member(member.rawKey(), v));
                    out.add(new JsonText.Obj(changed));
                }
            }
        } else if (t instanceof JsonText.Arr a) {
            List<JsonText> items = a.items();
            if (items.size() > 4) {
                out.add(new JsonText.Arr(items.subList(0, items.size() / 2)));
                out.add(new JsonText.Arr(items.subList(items.size() / 2, items.size())));
            }
            int inspected = items.size() > 16 ? 1 : items.size();
            for (int i = 0; i < inspected; i++) {
                List<JsonText> less = new ArrayList<>(items);
                less.remove(i);
                out.add(new JsonText.Arr(less));
            }
            for (int i = 0; i < inspected; i++) {
                for (JsonText v : simpler(items.get(i))) {
                    List<JsonText> changed = new ArrayList<>(items);
                    changed.set(i, v);
                    out.add(new JsonText.Arr(changed));
                }
            }
            out.add(JsonText.bare("0"));
        } else if (t instanceof JsonText.Str s) {
            String raw = s.raw();
            if (raw.length() > 1) {
                out.add(JsonText.str(raw.substring(0, JsonText.safeCut(raw, raw.length() / 2))));
                out.add(JsonText.str(raw.substring(JsonText.safeCut(raw, raw.length() / 2))));
            }
            out.add(JsonText.str(""));
            out.add(JsonText.str("a"));
            out.add(JsonText.bare("0"));
        } else if (t instanceof JsonText.Bare b) {
            String raw = b.raw();
            if (raw.length() > 12) {
                out.add(JsonText.bare(raw.substring(0, JsonText.safeCut(raw, raw.length() / 2))));
            }
            for (String plain : new String[] {"0", "1", "null", "\"\""}) {
                out.add(JsonText.bare(plain));
            }
        }
        out.removeIf(c -> c.text().length() >= length);
        return out;
    }
}
