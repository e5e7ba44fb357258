package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * LR_MISMATCH through a whole run: the tolerated logging conventions, one named fixture per wiring
 * bug it diagnoses, adaptive schedules, per-run tolerance and a schedule declared anew.
 */
class LrMismatchDetectorTest {
    /**
     * HF does not step the scheduler when fp16 skips the optimizer step: the LR lags the schedule
     * by the skips, as reported.
     */
    @Test
    void shouldCheckTheLrWhereTheSchedulerIsWhenItLagsTheOptimizer() {
        RunFixture r = new RunFixture("fp16-lag").start(COSINE);
        RunFixture unreported = new RunFixture("fp16-lag-unreported").start(COSINE);
        for (long s = 0; s < 3000; s++) {
            long lag = Math.min(s, 40); // 40 skipped steps at the start
            r.lagged(s, r.healthyLoss(s), r.healthyGrad(s), r.declared(s - lag), 1024, lag);
            unreported.step(
                    s,
                    unreported.healthyLoss(s),
                    unreported.healthyGrad(s),
                    unreported.declared(s - lag),
                    null,
                    1024.0);
        }
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
        assertThat(unreported.opened("LR_MISMATCH")).isNotEmpty();
    }

    @Test
    void shouldTolerateTheOneStepLoggingConvention() {
        RunFixture r = new RunFixture("hf-logging").start(COSINE);
        r.steps(
                0,
                2999,
                1,
                r::healthyLoss,
                r::healthyGrad,
                s -> r.declared(s + 1)); // older HF logs the next step's LR
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
    }

    @Test
    void shouldDiagnoseSchedulerSteppedPerEpochWithItsPeriod() {
        RunFixture r = new RunFixture("per-epoch").start(COSINE, null, null, 120L);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> r.declared(s / 120));
        Alert a = r.latest("LR_MISMATCH");
        var ev = RunFixture.json(a.evidence);
        assertThat(ev.path("hypothesis").asText()).isEqualTo("stepped_per_epoch");
        assertThat(ev.path("period_steps").asLong()).isEqualTo(120);
        assertThat(RunFixture.json(a.suggestion).path("change").asText())
                .contains("scheduler.step() after every optimizer.step()");
    }

    @Test
    void shouldDiagnoseScheduleStretchedByGradientAccumulation() {
        RunFixture r = new RunFixture("accum").start(COSINE, null, 4, null);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> r.declared(s / 4));
        Alert a = r.latest("LR_MISMATCH");
        var ev = RunFixture.json(a.evidence);
        assertThat(ev.path("hypothesis").asText()).isEqualTo("stretched");
        assertThat(ev.path("stretch_factor").asLong()).isEqualTo(4);
        assertThat(a.diagnosis).contains("gradient_accumulation_steps (4)");
    }

    @Test
    void shouldDiagnoseConstantOffset() {
        RunFixture r = new RunFixture("offset").start(COSINE);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> r.declared(Math.max(0, s - 7)));
        var ev = RunFixture.json(r.latest("LR_MISMATCH").evidence);
        assertThat(ev.path("hypothesis").asText()).isEqualTo("offset_behind");
        assertThat(ev.path("offset_steps").asLong()).isEqualTo(-7);
    }

    @Test
    void shouldDiagnoseScheduleRestartedOnResume() {
        RunFixture r = new RunFixture("resume").start(COSINE);
        r.steps(0, 1200, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.steps(
                1000,
                1400,
                1,
                r::healthyLoss,
                r::healthyGrad,
                s -> r.declared(s - 1000)); // resumed at 1000, scheduler from 0
        Alert a = r.latest("LR_MISMATCH");
        var ev = RunFixture.json(a.evidence);
        assertThat(ev.path("hypothesis").asText()).isEqualTo("restarted_on_resume");
        assertThat(ev.path("resume_step").asLong()).isEqualTo(1000);
        assertThat(RunFixture.json(a.suggestion).path("change").asText()).contains("state_dict");
    }

    @Test
    void shouldDiagnoseBaseLrScaled() {
        RunFixture r = new RunFixture("scaled").start(COSINE);
        r.steps(0, 600, 1, r::healthyLoss, r::healthyGrad, s -> 0.4 * r.declared(s));
        var ev = RunFixture.json(r.latest("LR_MISMATCH").evidence);
        assertThat(ev.path("hypothesis").asText()).isEqualTo("base_lr_scaled");
        assertThat(ev.path("observed_scale").asDouble())
                .isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void shouldDiagnoseDeclaredDecayThatNeverHappens() {
        RunFixture r = new RunFixture("override").start(COSINE);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> s < 100 ? r.declared(s) : 1e-3);
        Alert a = r.latest("LR_MISMATCH");
        assertThat(RunFixture.json(a.evidence).path("hypothesis").asText())
                .isEqualTo("decay_never_happens");
        assertThat(RunFixture.json(a.suggestion).path("change").asText()).contains("DeepSpeed");
    }

    @Test
    void shouldDiagnoseFrozenLr() {
        RunFixture r = new RunFixture("frozen").start(COSINE);
        r.steps(
                0,
                1500,
                1,
                r::healthyLoss,
                r::healthyGrad,
                s -> s < 60 ? r.declared(s) : r.declared(60));
        assertThat(RunFixture.json(r.latest("LR_MISMATCH").evidence).path("hypothesis").asText())
                .isEqualTo("lr_frozen");
    }

    @Test
    void shouldFlagLrOutsideWhatReduceLrOnPlateauAllows() {
        RunFixture r =
                new RunFixture("plateau")
                        .start(
                                "{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"factor\":0.5,\"patience\":3,\"base_lrs\":[0.01]},"
                                        + "\"interval\":\"epoch\",\"steps_per_epoch\":10}");
        r.steps(
                0,
                99,
                1,
                r::healthyLoss,
                r::healthyGrad,
                s -> s < 50 ? 0.01 : 0.005); // a drop it may make
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
        r.steps(100, 120, 1, r::healthyLoss, r::healthyGrad, s -> 0.02); // a rise it may not
        assertThat(r.only("LR_MISMATCH").diagnosis).contains("adaptive");
    }

    @Test
    void shouldApplyPerRunThresholdOverrides() {
        Thresholds strict = Thresholds.DEFAULTS.with(Map.of("lr_relative_tolerance", 0.5));
        RunFixture r = new RunFixture("tolerant", strict).start(COSINE);
        r.steps(
                0,
                600,
                1,
                r::healthyLoss,
                r::healthyGrad,
                s -> 0.8 * r.declared(s)); // 20% off: inside a 50% tolerance
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
    }

    @Test
    void shouldCloseAnLrMismatchWhenTheRunDeclaresAnotherScheduleAndJudgeTheNewOneAfresh() {
        // found by the fuzzer: an alert opened against ReduceLROnPlateau, then a run_start with a
        // fixed schedule, used to
        // make the re-diagnosis fail on every later step (and quarantine the run)
        RunFixture run =
                new RunFixture("redeclared")
                        .start(
                                "{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"base_lrs\":[0.01]}}");
        for (long s = 0; s < 3; s++) {
            run.step(s, 1.0, 0.5, 1.0, null, null);
        }
        assertThat(run.opened("LR_MISMATCH")).hasSize(1);
        run.start("{\"scheduler\":\"constant\",\"params\":{\"base_lrs\":[1]}}");
        for (long s = 3; s < 60; s++) {
            run.step(s, 1.0, 0.5, 0.0, null, null);
        }
        assertThat(run.alerts).noneMatch(a -> a.kind.equals("MONITOR_ERROR"));
        assertThat(run.alerts.stream().filter(a -> a.status.equals("resolved")).findFirst())
                .hasValueSatisfying(
                        a -> {
                            assertThat(a.step).isEqualTo(3);
                            assertThat(a.message).contains("declared its schedule anew");
                        });
        // the new schedule's own mismatch: LR 0 where the constant schedule says 1
        assertThat(run.opened("LR_MISMATCH")).hasSize(2);
        assertThat(run.opened("LR_MISMATCH").get(1).onsetStep).isGreaterThanOrEqualTo(3);
        assertThat(run.state.monitorErrors).isZero();
    }
}
