package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;

/** SLOWDOWN: time per optimizer step up for several logged steps in a row, not one long step. */
class SlowdownDetectorTest {
    static final long T0 = 1_790_000_000_000L;

    final RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
    final RunState state = new RunState();
    final List<Alert> alerts = new ArrayList<>();
    final Random noise = new Random(7);

    /**
     * Steps 0..to every {@code every}, each optimizer step taking {@code secondsPerStep(step)} with
     * 5% noise; event time from the summed durations.
     */
    void run(long to, long every, LongToDoubleFunction secondsPerStep) {
        double t = T0;
        for (long s = every - 1; s <= to; s += every) {
            for (long k = s - every + 1; k <= s; k++) {
                t += 1000 * secondsPerStep.applyAsDouble(k) * Math.exp(0.05 * noise.nextGaussian());
            }
            TrainingEvent e = RunFixture.stepEvent("r", s, 2.0, 0.8, null);
            e.timeMillis = (long) t;
            alerts.addAll(monitor.onEvent(state, e).alerts());
        }
    }

    List<Alert> slowdowns(String status) {
        return alerts.stream()
                .filter(a -> a.kind.equals("SLOWDOWN") && status.equals(a.status))
                .toList();
    }

    @Test
    void shouldWarnWhenEachStepTakesLongerForTheRestOfTheRun() {
        run(2000, 5, s -> s < 1000 ? 0.5 : 1.5);
        assertThat(slowdowns(Alert.OPEN)).hasSize(1);
        Alert a = slowdowns(Alert.OPEN).get(0);
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.onsetStep).isBetween(1000L, 1004L);
        assertThat(a.step).isEqualTo(a.onsetStep + 4 * 5);
        assertThat(a.message).contains("slowed from 1.99").contains("to 0.66");
        var ev = RunFixture.json(a.evidence);
        assertThat(ev.path("steps_per_s_before").asDouble()).isCloseTo(2.0, within(0.1));
        assertThat(ev.path("steps_per_s_now").asDouble()).isCloseTo(0.667, within(0.05));
        assertThat(ev.path("measured_by").asText()).isEqualTo("time");
        assertThat(RunFixture.json(a.suggestion).path("action").asText())
                .isEqualTo("check_throughput");
        assertThat(slowdowns(Alert.RESOLVED)).isEmpty();
    }

    @Test
    void shouldResolveWhenTheRunRecovers() {
        run(3000, 1, s -> s >= 1000 && s < 1200 ? 1.2 : 0.4);
        assertThat(slowdowns(Alert.OPEN)).hasSize(1);
        assertThat(slowdowns(Alert.RESOLVED)).hasSize(1);
        assertThat(slowdowns(Alert.RESOLVED).get(0).step).isBetween(1200L, 1210L);
    }

    @Test
    void shouldNotCallOneLongStepOrRegularEvaluationPausesASlowdown() {
        // a data-loader stall of one step, and an evaluation pause every 200 steps
        run(3000, 1, s -> s == 1500 ? 60 : s % 200 == 0 ? 30 : 0.3);
        assertThat(alerts).isEmpty();
        // healthy noise at every logging interval
        for (int every : new int[] {1, 10}) {
            RunState fresh = new RunState();
            double t = T0;
            for (long s = every - 1; s < 5000; s += every) {
                t += every * 1000 * 0.25 * Math.exp(0.15 * noise.nextGaussian());
                TrainingEvent e = RunFixture.stepEvent("n", s, 2.0, 0.8, null);
                e.timeMillis = (long) t;
                assertThat(monitor.onEvent(fresh, e).alerts()).isEmpty();
            }
        }
    }

    @Test
    void shouldReadStepTimeAndReportTokensPerSecond() {
        for (long s = 0; s < 100; s++) {
            TrainingEvent e = RunFixture.stepEvent("r", s, 2.0, 0.8, null);
            e.stepTimeS = s < 50 ? 0.5 : 1.0;
            e.tokens = 4096.0;
            alerts.addAll(monitor.onEvent(state, e).alerts());
        }
        Alert a = slowdowns(Alert.OPEN).get(0);
        assertThat(a.onsetStep).isEqualTo(50);
        var ev = RunFixture.json(a.evidence);
        assertThat(ev.path("measured_by").asText()).isEqualTo("step_time_s");
        assertThat(ev.path("tokens_per_s_before").asDouble()).isEqualTo(8190);
        assertThat(ev.path("tokens_per_s_now").asDouble()).isEqualTo(4100);
        assertThat(a.message).contains("tokens/s 8192 -> 4096");
    }

    @Test
    void shouldJudgeNothingWithoutTimeAndSkipAResume() {
        for (long s = 0; s < 100; s++) {
            alerts.addAll(
                    monitor.onEvent(state, RunFixture.stepEvent("r", s, 2.0, 0.8, null)).alerts());
        }
        assertThat(alerts).isEmpty();
        // resumed from a checkpoint: steps go back, time goes on
        run(500, 1, s -> 0.5);
        run(500, 1, s -> 0.5);
        assertThat(slowdowns(Alert.OPEN)).isEmpty();
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}
