package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** RUN_SILENT: steps that stop without a run_end, live (by the clock) and in logs (a gap). */
class SilenceDetectorTest {
    static final long T0 = 1_790_000_000_000L;
    static final long MINUTE = 60_000L;

    final RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
    final RunState state = new RunState();
    final List<Alert> alerts = new ArrayList<>();

    /** A step at event time {@code time}, received at {@code received} (NONE: not live). */
    void step(long s, Long time, long received) {
        TrainingEvent e = RunFixture.stepEvent("r", s, 2.0 - s * 1e-4, 0.8, null);
        e.timeMillis = time;
        alerts.addAll(monitor.onEvent(state, e, received).alerts());
    }

    void end() {
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.RUN_END;
        e.runId = "r";
        e.status = "completed";
        alerts.addAll(monitor.onEvent(state, e).alerts());
    }

    List<Alert> check(long now) {
        List<Alert> out = monitor.onSilenceCheck(state, now).alerts();
        alerts.addAll(out);
        return out;
    }

    List<Alert> withStatus(String status) {
        return alerts.stream()
                .filter(a -> a.kind.equals("RUN_SILENT") && status.equals(a.status))
                .toList();
    }

    @Test
    void shouldOpenAndResolveAGapBetweenTwoLoggedStepsInALog() {
        for (long s = 0; s < 100; s++) {
            step(s, T0 + s * 1000, RunMonitor.NO_DEADLINE);
        }
        step(100, T0 + 99 * 1000 + 40 * MINUTE, RunMonitor.NO_DEADLINE);
        step(101, T0 + 99 * 1000 + 40 * MINUTE + 1000, RunMonitor.NO_DEADLINE);
        Alert open = withStatus(Alert.OPEN).get(0);
        assertThat(withStatus(Alert.OPEN)).hasSize(1);
        assertThat(open.severity).isEqualTo("critical");
        // raised at the step after the gap, its onset the last step before it
        assertThat(open.step).isEqualTo(100);
        assertThat(open.onsetStep).isEqualTo(99);
        assertThat(open.timeMillis).isEqualTo(T0 + 99 * 1000 + 40 * MINUTE);
        assertThat(open.message)
                .contains("after step 99")
                .contains("40 min")
                .contains("hung collective")
                .contains("OOM")
                .contains("preempted");
        assertThat(RunFixture.json(open.evidence).path("last_step").asLong()).isEqualTo(99);
        Alert resolved = withStatus(Alert.RESOLVED).get(0);
        assertThat(resolved.alertId).isEqualTo(open.alertId);
        assertThat(resolved.step).isEqualTo(100);
    }

    @Test
    void shouldRaiseLiveOnceWhenStepsStopAndResolveWhenTheyComeBack() {
        for (long s = 0; s < 100; s++) {
            step(s, T0 + s * 1000, T0 + s * 1000);
        }
        long last = T0 + 99 * 1000;
        assertThat(monitor.silenceDeadlineMillis(state)).isEqualTo(last + 15 * MINUTE);
        assertThat(check(last + 14 * MINUTE)).isEmpty();
        List<Alert> silent = check(last + 16 * MINUTE);
        assertThat(silent).hasSize(1);
        assertThat(silent.get(0).severity).isEqualTo("critical");
        assertThat(silent.get(0).step).isEqualTo(99);
        assertThat(silent.get(0).message).contains("No step for 16 min after step 99");
        assertThat(check(last + 30 * MINUTE)).isEmpty();
        assertThat(monitor.silenceDeadlineMillis(state)).isEqualTo(RunMonitor.NO_DEADLINE);
        step(100, last + 31 * MINUTE, last + 31 * MINUTE);
        assertThat(withStatus(Alert.OPEN)).hasSize(1);
        assertThat(withStatus(Alert.RESOLVED)).hasSize(1);
        assertThat(withStatus(Alert.RESOLVED).get(0).message).contains("steps are back");
    }

    @Test
    void shouldRaiseNothingAfterRunEndAndCancelAnOpenSilenceOnRunEnd() {
        for (long s = 0; s < 50; s++) {
            step(s, T0 + s * 1000, T0 + s * 1000);
        }
        end();
        assertThat(check(T0 + 24 * 60 * MINUTE)).isEmpty();
        assertThat(monitor.silenceDeadlineMillis(state)).isEqualTo(RunMonitor.NO_DEADLINE);
        assertThat(alerts).isEmpty();

        RunState other = new RunState();
        TrainingEvent e = RunFixture.stepEvent("q", 0, 1.0, 0.8, null);
        monitor.onEvent(other, e, T0);
        // one step: its rhythm unknown, the threshold is 10 x the 15-minute floor
        assertThat(monitor.onSilenceCheck(other, T0 + 149 * MINUTE).alerts()).isEmpty();
        assertThat(monitor.onSilenceCheck(other, T0 + 151 * MINUTE).alerts()).hasSize(1);
        TrainingEvent stop = new TrainingEvent();
        stop.type = EventType.RUN_END;
        stop.runId = "q";
        List<Alert> ended = monitor.onEvent(other, stop).alerts();
        assertThat(ended).hasSize(1);
        assertThat(ended.get(0).status).isEqualTo(Alert.RESOLVED);
    }

    @Test
    void shouldNotCallASparseButSteadyRunSilent() {
        // one logged step every 40 minutes: past the 15-minute floor, but its own rhythm
        for (long s = 0; s < 50; s++) {
            long t = T0 + s * 40 * MINUTE;
            step(s * 500, t, t);
            assertThat(check(t + 39 * MINUTE)).isEmpty();
        }
        assertThat(alerts).isEmpty();
        long last = T0 + 49 * 40 * MINUTE;
        // 10 x its 40-minute interval
        assertThat(check(last + 399 * MINUTE)).isEmpty();
        assertThat(check(last + 401 * MINUTE)).hasSize(1);
    }

    @Test
    void shouldSeeNoPastGapWithoutEventTimeAndFollowARunsOwnThreshold() {
        for (long s = 0; s < 20; s++) {
            step(s, null, RunMonitor.NO_DEADLINE);
        }
        assertThat(alerts).isEmpty();
        RunMonitor strict =
                new RunMonitor(
                        Thresholds.DEFAULTS.with(Map.of("silent_min_minutes", 2.0)), 1, true);
        RunState run = new RunState();
        List<Alert> out = new ArrayList<>();
        for (long s = 0; s < 20; s++) {
            TrainingEvent e = RunFixture.stepEvent("s", s, 1.0, 0.8, null);
            e.timeMillis = T0 + s * 1000 + (s >= 10 ? 3 * MINUTE : 0); // floor 2 min, 10 x 1 s
            out.addAll(strict.onEvent(run, e).alerts());
        }
        assertThat(out).extracting(a -> a.status).containsExactly(Alert.OPEN, Alert.RESOLVED);
        assertThat(out.get(0).onsetStep).isEqualTo(9);
        assertThat(out.get(0).step).isEqualTo(10);
    }
}
