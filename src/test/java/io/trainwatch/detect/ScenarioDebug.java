package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import org.junit.jupiter.api.Test;

class ScenarioDebug {
    @Test
    void debug() throws Exception {
        String[] cases = System.getProperty("cases", "").split(",");
        for (String c : cases) {
            if (c.isBlank()) continue;
            String[] p = c.split(":");
            SimulatedRun run = RunSimulator.generate(Long.parseLong(p[1]), Fault.valueOf(p[0]));
            System.out.println("=== " + run.runId() + " " + run.description() + " onset " + run.onsetStep() + " idx " + run.onsetEventIndex() + " start " + run.faultStartEventIndex());
            System.out.println(run.events().get(0));
            EventCodec codec = new EventCodec(Thresholds.NAMES);
            RunMonitor m = new RunMonitor(Thresholds.DEFAULTS);
            RunState st = new RunState();
            int i = -1;
            for (String line : run.events()) {
                TrainingEvent e = codec.parse(line, "x");
                if (e.isStep()) i++;
                var out = m.onEvent(st, e);
                if (e.isStep() && Math.abs(i - run.onsetEventIndex()) <= 8) {
                    System.out.printf("  #%d step %d loss %.4f grad %.4g lr %.4g warm %s | med %.4f sig %.4f pend %d ep %.3f lossTrack %d%n", i, e.step, e.loss, e.gradNorm, e.lr[0], e.step < st.warmupEndStep,
                            st.losses.median(), st.losses.noiseSigma(), st.spikes.pendingStep, st.spikes.episodeRecoverLevel, st.spikes.lossTrack.onsetStep);
                    System.out.printf("      grad ema geo %.4g std %.3f z %.2f lowest %.3f%n", st.gradStats.geometricMean(), st.gradStats.std(), st.gradStats.z(e.gradNorm), Math.exp(st.gradStats.lowestMean));
                }
                for (Alert a : out.alerts()) System.out.println("   ALERT #" + i + " " + a);
            }
        }
    }
}
