package io.trainwatch.bench;

import io.trainwatch.job.RawRecord;

import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * The generator of {@code bench-state}: event n is run {@code n % runs}'s step {@code n / runs}
 * (its run_start first), sent only as far as its {@link BenchGate} allows. Past that it sends an
 * empty record every millisecond, which {@link #isEvent} drops: the source stays responsive to
 * checkpoints while it waits.
 */
final class HeldBackEvents implements GeneratorFunction<Long, RawRecord> {
    private static final long serialVersionUID = 1L;

    private final String gateName;
    private final int runs;
    private transient BenchGate gate;
    private long next;

    HeldBackEvents(String gateName, int runs) {
        this.gateName = gateName;
        this.runs = runs;
    }

    @Override
    public RawRecord map(Long ignored) throws InterruptedException {
        if (gate == null) {
            gate = BenchGate.named(gateName);
        }
        if (next >= gate.allowed()) {
            Thread.sleep(1);
            return new RawRecord();
        }
        long n = next++;
        gate.sent(next);
        int run = (int) (n % runs);
        long step = n / runs;
        String payload =
                step == 0 ? BenchEvents.start(run) : BenchEvents.step(run, step - 1, false);
        return new RawRecord(payload, "bench-state", 0, n);
    }

    static boolean isEvent(RawRecord r) {
        return r.payload != null;
    }
}
