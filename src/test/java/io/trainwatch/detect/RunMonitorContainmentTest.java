package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.ThresholdOverrides;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongPredicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing one run does can fail the monitor: an error while judging an event is one MONITOR_ERROR
 * alert and one rejected event, the run goes on from where it was before that event with its
 * statistics started over, repeated errors quarantine it, and no other run notices. Faults are
 * injected by a detector that throws on chosen steps, placed in the run's state: the detectors
 * before it have already changed their state for the event when it throws.
 */
class RunMonitorContainmentTest {
    static final String SPEC =
            "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":50,\"num_training_steps\":2000,\"base_lrs\":[0.001]}}";

    /**
     * Runs the standard run through {@code monitor}, skipping {@code skipped} steps; returns every
     * output per step.
     */
    static List<RunMonitor.Output> run(
            RunMonitor monitor, RunState state, String runId, LongPredicate skipped) {
        List<RunMonitor.Output> out = new ArrayList<>();
        out.add(monitor.onEvent(state, start(runId, SPEC, null)));
        Random noise = new Random(runId.hashCode());
        var schedule = io.trainwatch.schedule.ScheduleSpec.parse(SPEC);
        for (long s = 0; s < 600; s++) {
            double loss =
                    s == 300
                            ? Double.NaN
                            : (1 + 2 * Math.exp(-s / 150.0))
                                    * Math.exp(0.02 * noise.nextGaussian());
            double grad = 0.8 * Math.exp(0.15 * noise.nextGaussian());
            if (!skipped.test(s)) {
                out.add(
                        monitor.onEvent(
                                state,
                                RunFixture.stepEvent(runId, s, loss, grad, schedule.lr(0, s))));
            }
        }
        return out;
    }

    static List<String> alerts(List<RunMonitor.Output> outputs) {
        return outputs.stream()
                .flatMap(o -> o.alerts().stream())
                .filter(a -> !a.kind.equals("MONITOR_ERROR"))
                .map(JsonWriter::alert)
                .toList();
    }

    /** Each alert as kind@step, severity and suggested action (not its statistics). */
    static List<String> verdicts(List<RunMonitor.Output> outputs) {
        return outputs.stream()
                .flatMap(o -> o.alerts().stream())
                .filter(a -> !a.kind.equals("MONITOR_ERROR"))
                .map(
                        a ->
                                a.kind
                                        + "@"
                                        + a.step
                                        + " "
                                        + a.severity
                                        + " "
                                        + RunFixture.json(a.suggestion).path("action").asText())
                .toList();
    }

    @Test
    void shouldRejectTheFailingEventAndJudgeOnWithItsStatisticsStartedOver() {
        // step 150 fails after the detectors before the stall detector took it in: the run goes on
        // from step 149's position with fresh statistics, and still catches the NaN at 300 as a
        // run without step 150 does
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState faulty = new RunState();
        faulty.stall = new FailingStall(s -> s == 150);
        List<RunMonitor.Output> withFault = run(monitor, faulty, "r", s -> false);
        List<RunMonitor.Output> withoutStep =
                run(
                        new RunMonitor(Thresholds.DEFAULTS, 1, true),
                        new RunState(),
                        "r",
                        s -> s == 150);

        // the same alerts, with the same suggestions; their statistics (the grad norms' mean)
        // differ in the last digits
        assertThat(verdicts(withFault))
                .contains("NON_FINITE@300 critical rewind_and_skip")
                .isEqualTo(verdicts(withoutStep));
        List<RunMonitor.Output> rejected =
                withFault.stream().filter(o -> o.rejection() != null).toList();
        assertThat(rejected).hasSize(1);
        RunMonitor.Rejection r = rejected.get(0).rejection();
        assertThat(r.field()).isEqualTo(RunMonitor.MONITOR_FIELD);
        assertThat(r.monitorError()).isTrue();
        assertThat(r.reason())
                .contains("IllegalStateException: injected at step 150")
                .doesNotContain("quarantined");
        assertThat(JsonReader.parse(r.payload()).path("step").asLong()).isEqualTo(150);
        Alert error = rejected.get(0).alerts().get(0);
        assertThat(error.kind).isEqualTo("MONITOR_ERROR");
        assertThat(error.severity).isEqualTo("warning");
        assertThat(error.step).isEqualTo(150);
        assertThat(error.message)
                .contains(
                        "step 150",
                        "IllegalStateException",
                        "judged on from where it was before that event, its statistics started over");
        assertThat(RunFixture.json(error.evidence).path("at").asText()).contains("FailingStall");
        assertThat(faulty.monitorErrors).isEqualTo(1);
        assertThat(faulty.quarantined).isFalse();
        assertThat(faulty.stepsSeen).isEqualTo(599);
        assertThat(faulty.lastStep).isEqualTo(599);
    }

    @Test
    void shouldPutTheRunBackWhereItWasAndStartItsStatisticsOver() {
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        state.stall = new FailingStall(s -> s == 150);
        run(monitor, state, "r", s -> s > 150);
        // the losses window took step 150 in before the failure: started over, it holds none
        assertThat(state.losses.size()).isZero();
        assertThat(state.stepsSeen).isEqualTo(150);
        assertThat(state.lastStep).isEqualTo(149);
        assertThat(state.schedule).isNotNull();
        assertThat(state.stall).isInstanceOf(FailingStall.class);

        monitor.onEvent(state, RunFixture.stepEvent("r", 151, 1.2, 0.8, 0.001));
        assertThat(state.losses.size()).isEqualTo(1);
        assertThat(state.stepsSeen).isEqualTo(151);
    }

    @Test
    void shouldLeaveOtherRunsUntouchedWhenOneFails() {
        // one monitor (as in one operator) judges both runs, event by event; the faulty one fails
        // every 7th step
        RunMonitor shared = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState faulty = new RunState();
        faulty.stall = new FailingStall(s -> s % 7 == 0);
        RunState healthy = new RunState();
        var schedule = io.trainwatch.schedule.ScheduleSpec.parse(SPEC);
        List<RunMonitor.Output> interleaved = new ArrayList<>();
        interleaved.add(shared.onEvent(healthy, start("healthy", SPEC, null)));
        shared.onEvent(faulty, start("faulty", SPEC, null));
        Random noise = new Random("healthy".hashCode());
        for (long s = 0; s < 600; s++) {
            double loss =
                    s == 300
                            ? Double.NaN
                            : (1 + 2 * Math.exp(-s / 150.0))
                                    * Math.exp(0.02 * noise.nextGaussian());
            double grad = 0.8 * Math.exp(0.15 * noise.nextGaussian());
            shared.onEvent(
                    faulty,
                    RunFixture.stepEvent("faulty", s, loss * 3, grad * 5, schedule.lr(0, s) * 2));
            interleaved.add(
                    shared.onEvent(
                            healthy,
                            RunFixture.stepEvent("healthy", s, loss, grad, schedule.lr(0, s))));
        }
        assertThat(faulty.quarantined).isTrue();
        List<RunMonitor.Output> alone =
                run(
                        new RunMonitor(Thresholds.DEFAULTS, 1, true),
                        new RunState(),
                        "healthy",
                        s -> false);
        assertThat(alerts(interleaved)).isNotEmpty().isEqualTo(alerts(alone));
        assertThat(interleaved).allMatch(o -> o.rejection() == null);
    }

    @Test
    void shouldQuarantineARunAfterRepeatedErrorsUntilANewRunStart() {
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        state.stall = new FailingStall(s -> s >= 100 && s < 150);
        List<RunMonitor.Output> out = run(monitor, state, "q", s -> s >= 200);
        List<RunMonitor.Output> errors =
                out.stream()
                        .filter(o -> o.rejection() != null && o.rejection().monitorError())
                        .toList();
        List<RunMonitor.Output> quarantined =
                out.stream()
                        .filter(o -> o.rejection() != null && !o.rejection().monitorError())
                        .toList();
        assertThat(errors).hasSize(RunMonitor.QUARANTINE_AFTER_ERRORS);
        assertThat(errors.get(2).rejection().reason()).endsWith("the run is now quarantined");
        assertThat(errors.get(2).alerts().get(0).message).contains("quarantined");
        assertThat(
                        RunFixture.json(errors.get(2).alerts().get(0).evidence)
                                .path("quarantined")
                                .asBoolean())
                .isTrue();
        // steps 103..199 are dead-lettered unjudged, with no alert of any kind
        assertThat(quarantined)
                .hasSize(97)
                .allMatch(o -> o.alerts().isEmpty() && o.series() == null);
        assertThat(quarantined.get(0).rejection().field()).isEqualTo(RunMonitor.QUARANTINE_FIELD);
        assertThat(quarantined.get(0).rejection().reason())
                .isEqualTo(
                        "run \"q\" is quarantined after 3 monitor errors: its events are not judged until a new run_start");
        assertThat(state.quarantined).isTrue();

        // a new run_start judges the run again, from a clean slate
        assertThat(monitor.onEvent(state, start("q", SPEC, null)).rejection()).isNull();
        assertThat(state.quarantined).isFalse();
        assertThat(state.stepsSeen).isZero();
        assertThat(
                        monitor.onEvent(state, RunFixture.stepEvent("q", 200, 1.0, 0.8, 0.001))
                                .rejection())
                .isNull();
        assertThat(state.stepsSeen).isEqualTo(1);
    }

    @Test
    void shouldForgetErrorsThatAreFarApart() {
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        state.stall = new FailingStall(s -> s % 150 == 10);
        List<RunMonitor.Output> out = run(monitor, state, "sparse", s -> false);
        assertThat(out.stream().filter(o -> o.rejection() != null))
                .hasSize(4)
                .allMatch(o -> o.rejection().monitorError());
        assertThat(state.quarantined).isFalse();
        assertThat(state.monitorErrors).isEqualTo(4);
    }

    @Test
    void shouldContainAStackOverflow() {
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        state.stall =
                new StallDetector() {
                    @Override
                    public void check(StepContext c, List<Alert> out) {
                        if (c.step == 5) {
                            check(c, out); // endless recursion
                        }
                    }
                };
        List<RunMonitor.Output> out = run(monitor, state, "deep", s -> s > 20);
        assertThat(out.stream().filter(o -> o.rejection() != null))
                .singleElement()
                .satisfies(o -> assertThat(o.rejection().reason()).contains("StackOverflowError"));
        assertThat(state.stepsSeen).isEqualTo(20);
    }

    @Test
    void shouldHonourARunsOwnIdleTimeout() {
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        monitor.onEvent(state, start("idle", SPEC, Map.of("idle_timeout_minutes", 30.0)));
        assertThat(monitor.idleTimeoutMillis(state)).isEqualTo(30 * 60_000L);
    }

    /**
     * A stall detector that throws on the chosen steps (after the detectors before it judged the
     * step).
     */
    static final class FailingStall extends StallDetector {
        private final LongPredicate failOn;

        FailingStall(LongPredicate failOn) {
            this.failOn = failOn;
        }

        @Override
        public void check(StepContext c, List<Alert> out) {
            if (failOn.test(c.step)) {
                throw new IllegalStateException("injected at step " + c.step);
            }
            super.check(c, out);
        }
    }

    static TrainingEvent start(String runId, String spec, Map<String, Double> thresholds) {
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.RUN_START;
        e.runId = runId;
        e.schedule = ScheduleSpec.parse(spec);
        e.thresholds = ThresholdOverrides.of(thresholds);
        return e;
    }
}
