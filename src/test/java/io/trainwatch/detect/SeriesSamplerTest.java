package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.EventType;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * --series-every: one point per block of N steps, never dropping an alert's step or the first step
 * after a resume.
 */
class SeriesSamplerTest {
    /** Feeds steps to a sampler (nothing flagged unless listed); returns the kept steps. */
    static List<Long> kept(SeriesSampler sampler, long[] steps, Set<Long> flagged) {
        RunState run = new RunState();
        List<Long> out = new ArrayList<>();
        long last = -1;
        for (int i = 0; i < steps.length; i++) {
            boolean resumed = i > 0 && steps[i] <= last;
            if (sampler.keep(run, steps[i], resumed, flagged.contains(steps[i]))) {
                out.add(steps[i]);
            }
            last = steps[i];
        }
        return out;
    }

    static long[] range(long from, long to, long every) {
        List<Long> s = new ArrayList<>();
        for (long x = from; x <= to; x += every) {
            s.add(x);
        }
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void shouldKeepEveryStepWithSeriesEveryOneRepeatsIncluded() {
        long[] steps = {0, 1, 2, 3, 2, 3, 4};
        assertThat(kept(new SeriesSampler(1), steps, Set.of()))
                .containsExactly(0L, 1L, 2L, 3L, 2L, 3L, 4L);
    }

    @Test
    void shouldKeepTheFirstLoggedStepOfEachBlockOfNSteps() {
        assertThat(kept(new SeriesSampler(50), range(0, 999, 1), Set.of()))
                .containsExactly(
                        0L, 50L, 100L, 150L, 200L, 250L, 300L, 350L, 400L, 450L, 500L, 550L, 600L,
                        650L, 700L, 750L, 800L, 850L, 900L, 950L);
        // logged every 7 steps: blocks stay aligned to multiples of 50 (no drift), one point in
        // each
        assertThat(kept(new SeriesSampler(50), range(0, 300, 7), Set.of()))
                .containsExactly(0L, 56L, 105L, 154L, 203L, 252L);
        // logged less often than N: every step is kept
        assertThat(kept(new SeriesSampler(50), range(0, 1000, 100), Set.of())).hasSize(11);
    }

    @Test
    void shouldNeverDropAFlaggedStep() {
        List<Long> k = kept(new SeriesSampler(100), range(0, 299, 1), Set.of(37L, 38L, 150L));
        assertThat(k).containsExactly(0L, 37L, 38L, 100L, 150L, 200L);
    }

    @Test
    void shouldKeepTheFirstStepAfterAResumeEvenInAnAlreadyKeptBlock() {
        long[] steps =
                concat(range(0, 130, 1), range(110, 160, 1)); // resumed from a checkpoint at 110
        assertThat(kept(new SeriesSampler(50), steps, Set.of()))
                .containsExactly(0L, 50L, 100L, 110L, 150L);
        // a resume back into an older block starts it afresh
        long[] back = concat(range(0, 130, 1), range(20, 60, 1));
        assertThat(kept(new SeriesSampler(50), back, Set.of()))
                .containsExactly(0L, 50L, 100L, 20L, 50L);
    }

    @Test
    void shouldRefuseZero() {
        assertThatThrownBy(() -> new SeriesSampler(0)).hasMessageContaining("must be >= 1");
    }

    /**
     * Through the monitor, on simulated runs of every fault (logged every 1-10 steps, resumes
     * included): thinning changes no alert, writes far fewer points, and every alert's step (spikes
     * are reported at their own step, one or two logged steps before they are judged) and every
     * first step after a resume is in the series.
     */
    @Test
    void shouldKeepEveryAlertStepAndResumeWhileThinningSimulatedRuns() throws Exception {
        EventCodec codec = new EventCodec();
        long allPoints = 0;
        long keptPoints = 0;
        int alertsChecked = 0;
        for (Fault f : Fault.values()) {
            for (int i = 0; i < 4; i++) {
                SimulatedRun run = RunSimulator.generate(70_000L + 10L * f.ordinal() + i, f);
                RunMonitor every = new RunMonitor(Thresholds.DEFAULTS, 1, true);
                RunMonitor thinned = new RunMonitor(Thresholds.DEFAULTS, 50, true);
                // the live job when no sink takes the series: no point at all, the same alerts
                RunMonitor none = new RunMonitor(Thresholds.DEFAULTS, 1, false);
                RunState s1 = new RunState();
                RunState s50 = new RunState();
                RunState sNone = new RunState();
                List<Alert> alerts1 = new ArrayList<>();
                List<Alert> alerts50 = new ArrayList<>();
                List<Alert> alertsNone = new ArrayList<>();
                Set<Long> series50 = new HashSet<>();
                Set<Long> resumeSteps = new HashSet<>();
                long last = -1;
                for (String line : run.events()) {
                    TrainingEvent e = codec.parse(line);
                    RunMonitor.Output o1 = every.onEvent(s1, e);
                    RunMonitor.Output o50 = thinned.onEvent(s50, codec.parse(line));
                    alerts1.addAll(o1.alerts());
                    alerts50.addAll(o50.alerts());
                    RunMonitor.Output oNone = none.onEvent(sNone, codec.parse(line));
                    assertThat(oNone.series()).isNull();
                    alertsNone.addAll(oNone.alerts());
                    if (e.type == EventType.STEP) {
                        assertThat(o1.series()).isNotNull();
                        allPoints++;
                        if (last >= 0 && e.step <= last) {
                            resumeSteps.add(e.step);
                        }
                        last = e.step;
                    }
                    if (o50.series() != null) {
                        keptPoints++;
                        series50.add(o50.series().step);
                    }
                }
                assertThat(alerts50).as(run.runId()).isEqualTo(alerts1);
                assertThat(alertsNone).as(run.runId()).isEqualTo(alerts1);
                for (Alert a : alerts50) {
                    assertThat(series50).as("%s: step of %s", run.runId(), a).contains(a.step);
                    alertsChecked++;
                }
                assertThat(series50).as(run.runId()).containsAll(resumeSteps);
                assertThat(s50.seriesBlock).isGreaterThanOrEqualTo(0);
            }
        }
        System.out.printf(
                "series-every 50 on simulated runs: %d of %d points kept, %d alert steps all kept%n",
                keptPoints, allPoints, alertsChecked);
        assertThat(alertsChecked).isGreaterThan(50);
        assertThat(keptPoints).isLessThan(allPoints / 5);
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = new long[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
