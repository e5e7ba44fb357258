package io.trainwatch.demo;

import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import java.util.ArrayList;
import java.util.List;

/** The runs the demo streams: a fault each, with fixed seeds so the demo is the same every time. */
public final class DemoRuns {
    static final List<Fault> FAULTS =
            List.of(
                    Fault.NONE,
                    Fault.NAN_BAD_BATCH,
                    Fault.WARMUP_BLOWUP,
                    Fault.GRAD_GROWTH,
                    Fault.LR_STEPPED_PER_EPOCH,
                    Fault.LR_RESTARTED_ON_RESUME);
    static final long SEED = 20_261_121L;

    /**
     * The healthy run's seed: one whose declared schedule is Hugging Face cosine with warmup, the
     * most common real setup.
     */
    static final long HEALTHY_SEED = 20_261_172L;

    private DemoRuns() {}

    /** The demo's runs, one per fault. */
    public static List<SimulatedRun> runs() {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : FAULTS) {
            runs.add(RunSimulator.generate(f == Fault.NONE ? HEALTHY_SEED : SEED + f.ordinal(), f));
        }
        return runs;
    }

    /**
     * The demo's runs as {key, value} records, keyed by run_id and interleaved as a shared topic
     * carries them, plus three malformed records.
     */
    public static List<String[]> records() {
        List<List<String>> runs = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (SimulatedRun run : runs()) {
            runs.add(run.events());
            ids.add(run.runId());
        }
        List<String[]> out = new ArrayList<>();
        for (int i = 0, more = 1; more > 0; i++) {
            more = 0;
            for (int r = 0; r < runs.size(); r++) {
                if (i < runs.get(r).size()) {
                    out.add(new String[] {ids.get(r), runs.get(r).get(i)});
                    more++;
                }
            }
        }
        out.add(
                out.size() / 3,
                new String[] {
                    "bad",
                    "{\"type\":\"step\",\"run_id\":\"sim-none-"
                            + HEALTHY_SEED
                            + "\",\"step\":\"twelve\",\"loss\":1.0}"
                });
        out.add(
                out.size() / 2,
                new String[] {
                    "bad",
                    "{\"type\":\"step\",\"run_id\":\"sim-none-" + HEALTHY_SEED + "\",\"loss\":"
                });
        out.add(
                2 * out.size() / 3,
                new String[] {"bad", "{\"type\":\"step\",\"step\":3,\"loss\":0.5}"});
        return out;
    }
}
