package io.trainwatch.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How {@code bench-state} steers its job from outside: how many events the generator may send so
 * far, how many it sent, and what the sinks counted. The job runs on an in-process cluster, so its
 * functions find the gate by name in this JVM.
 */
final class BenchGate {
    private static final Map<String, BenchGate> OPEN = new ConcurrentHashMap<>();

    enum Count {
        SERIES,
        ALERTS,
        DEAD_LETTERS
    }

    private final AtomicLong allowed = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLongArray counts = new AtomicLongArray(Count.values().length);

    private BenchGate() {}

    static BenchGate open(String name) {
        BenchGate gate = new BenchGate();
        if (OPEN.putIfAbsent(name, gate) != null) {
            throw new IllegalStateException("a bench gate named " + name + " is open already");
        }
        return gate;
    }

    static BenchGate named(String name) {
        BenchGate gate = OPEN.get(name);
        if (gate == null) {
            throw new IllegalStateException(
                    "no bench gate named "
                            + name
                            + " (the bench job runs in the bench's JVM only)");
        }
        return gate;
    }

    static void close(String name) {
        OPEN.remove(name);
    }

    /** Lets the generator send events up to number {@code total} (exclusive). */
    void allow(long total) {
        allowed.set(total);
    }

    long allowed() {
        return allowed.get();
    }

    void sent(long total) {
        sent.set(total);
    }

    void count(Count what) {
        counts.incrementAndGet(what.ordinal());
    }

    long seriesPoints() {
        return counts.get(Count.SERIES.ordinal());
    }

    long deadLetters() {
        return counts.get(Count.DEAD_LETTERS.ordinal());
    }

    String describe(long seriesExpected) {
        return String.format(
                "%,d of %,d events sent, %,d of %,d series points, %,d alerts, %,d dead letters",
                sent.get(),
                allowed.get(),
                seriesPoints(),
                seriesExpected,
                counts.get(Count.ALERTS.ordinal()),
                deadLetters());
    }
}
