package io.trainwatch.demo;

import io.trainwatch.event.JsonReader;
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
                    Fault.LR_RESTARTED_ON_RESUME,
                    Fault.RUN_SILENT);
    static final long SEED = 20_261_121L;

    /**
     * The healthy run's seed: one whose declared schedule is Hugging Face cosine with warmup, the
     * most common real setup.
     */
    static final long HEALTHY_SEED = 20_261_172L;

    /**
     * The silent run's thresholds (its run_start's): silent after 6 s, or twice its logging
     * interval, so the live demo shows RUN_SILENT within seconds, not the default 15 minutes.
     */
    static final String SILENT_THRESHOLDS =
            "{\"silent_min_minutes\": 0.1, \"silent_interval_factor\": 2}";

    private DemoRuns() {}

    /** The demo's runs, one per fault. */
    public static List<SimulatedRun> runs() {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : FAULTS) {
            SimulatedRun run =
                    RunSimulator.generate(f == Fault.NONE ? HEALTHY_SEED : SEED + f.ordinal(), f);
            runs.add(f == Fault.RUN_SILENT ? withThresholds(run, SILENT_THRESHOLDS) : run);
        }
        return runs;
    }

    private static SimulatedRun withThresholds(SimulatedRun run, String thresholds) {
        List<String> events = new ArrayList<>(run.events());
        com.fasterxml.jackson.databind.node.ObjectNode start =
                (com.fasterxml.jackson.databind.node.ObjectNode) JsonReader.parse(events.get(0));
        start.set("thresholds", JsonReader.parse(thresholds));
        events.set(0, start.toString());
        // steps 0.2 s apart in event time, as they stream: the silence is the one after the last
        for (int i = 1; i < events.size(); i++) {
            com.fasterxml.jackson.databind.node.ObjectNode e =
                    (com.fasterxml.jackson.databind.node.ObjectNode)
                            JsonReader.parse(events.get(i));
            e.put("time", RunSimulator.START_MILLIS + 200L * i);
            events.set(i, e.toString());
        }
        return new SimulatedRun(
                run.runId(),
                run.fault(),
                run.onsetStep(),
                run.onsetEventIndex(),
                run.faultStartEventIndex(),
                events,
                run.description());
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
