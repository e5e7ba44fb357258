package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.threshold.Thresholds;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** One named fixture per behaviour of each detector. */
class DetectorsTest {
    static final String COSINE = "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":100,\"num_training_steps\":3000,\"base_lrs\":[1e-3]}}";
    static final String CONSTANT = "{\"scheduler\":\"constant_with_warmup\",\"params\":{\"num_warmup_steps\":50,\"base_lrs\":[1e-3]}}";

    // NON_FINITE

    @Test
    void shouldAlertOnNaNLossWithHealthyGradientsAsSuspectDataNamingTheBatch() {
        RunFixture r = new RunFixture("nan-data").start(COSINE);
        r.steps(0, 499, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(500, Double.NaN, Double.NaN, r.declared(500), "shard-3/batch-1207", null);
        Alert a = r.only("NON_FINITE");
        assertThat(a.severity).isEqualTo("critical");
        assertThat(a.onsetStep).isEqualTo(500);
        assertThat(a.diagnosis).startsWith("suspect data").contains("shard-3/batch-1207");
        assertThat(RunFixture.json(a.suggestion).path("action").asText()).isEqualTo("inspect_batch");
        assertThat(RunFixture.json(a.suggestion).path("rewind_to_step").asLong()).isEqualTo(499);
    }

    @Test
    void shouldDiagnoseGradientExplosionBeforeNaNAndSuggestClipFromHistory() {
        RunFixture r = new RunFixture("nan-explosion").start(COSINE);
        r.steps(0, 499, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.steps(500, 503, 1, r::healthyLoss, s -> 0.8 * Math.pow(6, s - 499), r::declared);
        r.step(504, Double.NaN, Double.POSITIVE_INFINITY, r.declared(504), null, null);
        Alert a = r.only("NON_FINITE");
        assertThat(a.diagnosis).startsWith("gradient explosion");
        var sug = RunFixture.json(a.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("clip_grad_norm");
        assertThat(sug.path("max_norm").asDouble()).isBetween(0.8, 2.5); // from the healthy ~0.8 norms, not the explosion
        assertThat(sug.path("statistic").asText()).contains("EMA");
    }

    @Test
    void shouldDiagnoseFp16LossScaleCollapse() {
        RunFixture r = new RunFixture("fp16").start(COSINE);
        double scale = 65536;
        for (long s = 0; s < 300; s++) {
            if (s > 290) {
                scale /= 2;
            }
            r.step(s, r.healthyLoss(s), r.healthyGrad(s), r.declared(s), null, scale);
        }
        r.step(300, Double.NaN, Double.NaN, r.declared(300), null, scale / 2);
        assertThat(r.only("NON_FINITE").diagnosis).startsWith("fp16 loss-scale collapse");
    }

    /** GradScaler start-up (2^16 halved until it fits) and a later lone overflow are skipped steps, not NaNs in the model. */
    @Test
    void shouldNotAlertWhenTheGradScalerSkipsOverflowingSteps() {
        RunFixture r = new RunFixture("fp16-scaler").start(COSINE);
        double scale = 65536;
        for (long s = 0; s < 6; s++) {
            r.step(s, r.healthyLoss(s), Double.POSITIVE_INFINITY, r.declared(s), null, scale);
            scale /= 2;
        }
        for (long s = 6; s < 400; s++) {
            boolean overflow = s == 200;
            r.step(s, r.healthyLoss(s), overflow ? Double.POSITIVE_INFINITY : r.healthyGrad(s), r.declared(s), null, scale);
            if (overflow) {
                scale /= 2;
            }
        }
        assertThat(r.alerts).filteredOn(a -> a.kind.equals("NON_FINITE")).isEmpty();
        assertThat(r.state.gradScalerSkips).isEqualTo(7);
        // the same lone overflow without loss_scale cannot be told from a NaN in the model: critical, naming the GradScaler
        RunFixture bare = new RunFixture("fp16-no-scale").start(COSINE);
        bare.steps(0, 199, 1, bare::healthyLoss, bare::healthyGrad, bare::declared);
        bare.step(200, bare.healthyLoss(200), Double.POSITIVE_INFINITY, bare.declared(200), null, null);
        assertThat(bare.only("NON_FINITE").diagnosis).contains("GradScaler overflow").contains("report loss_scale");
    }

    @Test
    void shouldCallItACollapseWhenASettledLossScaleKeepsFalling() {
        RunFixture r = new RunFixture("fp16-falling").start(COSINE);
        double scale = 16384;
        for (long s = 0; s < 100; s++) {
            r.step(s, r.healthyLoss(s), r.healthyGrad(s), r.declared(s), null, scale);
        }
        for (long s = 100; s < 103; s++) {
            scale /= 2;
            r.step(s, r.healthyLoss(s), Double.POSITIVE_INFINITY, r.declared(s), null, scale);
        }
        assertThat(r.opened("NON_FINITE")).isEmpty(); // two reductions: the scaler may still find its level
        scale /= 2;
        r.step(103, r.healthyLoss(103), Double.POSITIVE_INFINITY, r.declared(103), null, scale);
        assertThat(r.only("NON_FINITE").diagnosis).startsWith("fp16 loss-scale collapse").contains("4 optimizer steps skipped");
        // below 1 the scaler shrinks the gradients: a collapse at once, even before it settled
        RunFixture tiny = new RunFixture("fp16-tiny").start(COSINE);
        tiny.step(0, 2.0, Double.POSITIVE_INFINITY, tiny.declared(0), null, 0.5);
        assertThat(tiny.only("NON_FINITE").severity).isEqualTo("critical");
    }

    @Test
    void shouldGiveOneAlertForPersistentNaNThenResolve() {
        RunFixture r = new RunFixture("nan-persistent").start(COSINE);
        r.steps(0, 199, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.steps(200, 260, 1, s -> Double.NaN, s -> Double.NaN, r::declared);
        assertThat(r.opened("NON_FINITE")).hasSize(1);
        r.steps(261, 270, 1, r::healthyLoss, r::healthyGrad, r::declared);
        assertThat(r.alerts).filteredOn(a -> a.kind.equals("NON_FINITE")).extracting(a -> a.status).containsExactly("open", "resolved");
    }

    // LR_MISMATCH

    /** HF does not step the scheduler when fp16 skips the optimizer step: the LR lags the schedule by the skips, as reported. */
    @Test
    void shouldCheckTheLrWhereTheSchedulerIsWhenItLagsTheOptimizer() {
        RunFixture r = new RunFixture("fp16-lag").start(COSINE);
        RunFixture unreported = new RunFixture("fp16-lag-unreported").start(COSINE);
        for (long s = 0; s < 3000; s++) {
            long lag = Math.min(s, 40); // 40 skipped steps at the start
            r.lagged(s, r.healthyLoss(s), r.healthyGrad(s), r.declared(s - lag), 1024, lag);
            unreported.step(s, unreported.healthyLoss(s), unreported.healthyGrad(s), unreported.declared(s - lag), null, 1024.0);
        }
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
        assertThat(unreported.opened("LR_MISMATCH")).isNotEmpty();
    }

    @Test
    void shouldTolerateTheOneStepLoggingConvention() {
        RunFixture r = new RunFixture("hf-logging").start(COSINE);
        r.steps(0, 2999, 1, r::healthyLoss, r::healthyGrad, s -> r.declared(s + 1)); // older HF logs the next step's LR
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
        assertThat(RunFixture.json(a.suggestion).path("change").asText()).contains("scheduler.step() after every optimizer.step()");
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
        r.steps(1000, 1400, 1, r::healthyLoss, r::healthyGrad, s -> r.declared(s - 1000)); // resumed at 1000, scheduler from 0
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
        assertThat(ev.path("observed_scale").asDouble()).isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void shouldDiagnoseDeclaredDecayThatNeverHappens() {
        RunFixture r = new RunFixture("override").start(COSINE);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> s < 100 ? r.declared(s) : 1e-3);
        Alert a = r.latest("LR_MISMATCH");
        assertThat(RunFixture.json(a.evidence).path("hypothesis").asText()).isEqualTo("decay_never_happens");
        assertThat(RunFixture.json(a.suggestion).path("change").asText()).contains("DeepSpeed");
    }

    @Test
    void shouldDiagnoseFrozenLr() {
        RunFixture r = new RunFixture("frozen").start(COSINE);
        r.steps(0, 1500, 1, r::healthyLoss, r::healthyGrad, s -> s < 60 ? r.declared(s) : r.declared(60));
        assertThat(RunFixture.json(r.latest("LR_MISMATCH").evidence).path("hypothesis").asText()).isEqualTo("lr_frozen");
    }

    @Test
    void shouldFlagLrOutsideWhatReduceLrOnPlateauAllows() {
        RunFixture r = new RunFixture("plateau").start("{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"factor\":0.5,\"patience\":3,\"base_lrs\":[0.01]},"
                + "\"interval\":\"epoch\",\"steps_per_epoch\":10}");
        r.steps(0, 99, 1, r::healthyLoss, r::healthyGrad, s -> s < 50 ? 0.01 : 0.005); // a drop it may make
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
        r.steps(100, 120, 1, r::healthyLoss, r::healthyGrad, s -> 0.02); // a rise it may not
        assertThat(r.only("LR_MISMATCH").diagnosis).contains("adaptive");
    }

    // WARMUP_SPIKE / LOSS_SPIKE

    @Test
    void shouldWarnOnIsolatedSpikeWithoutEscalating() {
        RunFixture r = new RunFixture("isolated").start(COSINE);
        r.steps(0, 999, 1, s -> s == 600 || s == 800 || s == 900 ? 4 * r.healthyLoss(s) : r.healthyLoss(s), r::healthyGrad, r::declared);
        Alert a = r.only("LOSS_SPIKE");
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.onsetStep).isEqualTo(600);
        assertThat(r.alerts).noneMatch(x -> x.kind.equals("LOSS_SPIKE") && x.severity.equals("critical"));
    }

    @Test
    void shouldGoCriticalOnSustainedSpikesAndSuggestRewindAndSkip() {
        RunFixture r = new RunFixture("sustained").start(COSINE);
        r.steps(0, 1200, 1, s -> (s >= 600 && s < 606) || (s >= 700 && s < 706) || (s >= 800 && s < 806) ? 3 * r.healthyLoss(s) : r.healthyLoss(s),
                r::healthyGrad, r::declared);
        Alert open = r.only("LOSS_SPIKE");
        assertThat(open.severity).isEqualTo("critical");
        assertThat(open.onsetStep).isEqualTo(600);
        Alert update = r.alerts.stream().filter(a -> a.kind.equals("LOSS_SPIKE") && a.status.equals("update")).findFirst().orElseThrow();
        var sug = RunFixture.json(update.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("rewind_and_skip");
        assertThat(sug.path("rewind_to_step").asLong()).isEqualTo(500);
        assertThat(sug.path("skip_batches")).hasSize(3);
    }

    @Test
    void shouldFlagWarmupBlowupAndSuggestLongerWarmup() {
        RunFixture r = new RunFixture("warmup").start(COSINE);
        r.steps(0, 200, 1, s -> s >= 60 && s < 120 ? 3 * r.healthyLoss(s) : r.healthyLoss(s), r::healthyGrad, r::declared);
        Alert a = r.only("WARMUP_SPIKE");
        assertThat(a.onsetStep).isEqualTo(60);
        var sug = RunFixture.json(a.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("extend_warmup");
        assertThat(sug.path("warmup_steps").asLong()).isGreaterThanOrEqualTo(200);
        assertThat(sug.path("new_lr").asDouble()).isEqualTo(5e-4);
    }

    // GRAD_EXPLOSION

    @Test
    void shouldWarnOnGradSpikeAndSuggestMaxNormFromTheRunsHistory() {
        RunFixture r = new RunFixture("grad-spike").start(COSINE);
        r.steps(0, 700, 1, r::healthyLoss, s -> s == 500 ? 40.0 : r.healthyGrad(s), r::declared);
        Alert a = r.only("GRAD_EXPLOSION");
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.onsetStep).isEqualTo(500);
        assertThat(RunFixture.json(a.suggestion).path("max_norm").asDouble()).isBetween(0.9, 2.0);
    }

    @Test
    void shouldSuggestTighterClipWhenClippingIsOnAndTheNormStaysFarAbove() {
        RunFixture r = new RunFixture("clip-on").start(COSINE, 1.0, null, null);
        r.steps(0, 700, 1, r::healthyLoss, s -> s >= 500 ? 60 * r.healthyGrad(s) : r.healthyGrad(s), r::declared);
        Alert update = r.alerts.stream().filter(a -> a.kind.equals("GRAD_EXPLOSION") && a.status.equals("update")).findFirst().orElseThrow();
        assertThat(update.severity).isEqualTo("critical");
        var sug = RunFixture.json(update.suggestion);
        assertThat(sug.path("max_norm").asDouble()).isLessThanOrEqualTo(1.0);
        assertThat(sug.path("statistic").asText()).contains("clipping at 1 is on");
    }

    // DIVERGENCE, STALL, VANISHING_GRADIENTS

    @Test
    void shouldCallDivergenceAndSuggestHalvingTheLrFromTheBestStep() {
        RunFixture r = new RunFixture("diverge").start(COSINE);
        r.steps(0, 1000, 1, s -> s < 800 ? r.healthyLoss(s) : r.healthyLoss(s) * Math.pow(1.2, s - 799), r::healthyGrad, r::declared);
        Alert a = r.only("DIVERGENCE");
        assertThat(a.onsetStep).isBetween(800L, 806L);
        var sug = RunFixture.json(a.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("lower_lr");
        assertThat(sug.path("lr_factor").asDouble()).isEqualTo(0.5);
        assertThat(sug.path("rewind_to_step").asLong()).isBetween(300L, 800L);
    }

    @Test
    void shouldNotCallDivergenceOnSlowOverfittingDrift() {
        RunFixture r = new RunFixture("drift").start(CONSTANT);
        r.steps(0, 3000, 1, s -> s < 1500 ? 5 * Math.exp(-s / 150.0) + 0.05 : 0.05 + 0.1 * (s - 1500) / 1500.0, r::healthyGrad, r::declared);
        assertThat(r.opened("DIVERGENCE")).isEmpty();
    }

    @Test
    void shouldCallStallOnAPlateauAndNotWhileImproving() {
        RunFixture flat = new RunFixture("flat").start(CONSTANT);
        flat.steps(0, 9000, 10, s -> s < 2000 ? 1 + 2 * Math.exp(-s / 300.0) : 1 + 2 * Math.exp(-2000 / 300.0), flat::healthyGrad, flat::declared);
        assertThat(flat.only("STALL").severity).isEqualTo("info");
        RunFixture improving = new RunFixture("improving").start(CONSTANT);
        improving.steps(0, 9000, 10, s -> 3 * Math.exp(-s / 4000.0), improving::healthyGrad, improving::declared);
        assertThat(improving.opened("STALL")).isEmpty();
    }

    @Test
    void shouldCallVanishingGradientsOnlyWhileTheLossIsStuck() {
        RunFixture stuck = new RunFixture("stuck").start(COSINE);
        stuck.steps(0, 700, 1, s -> s < 500 ? stuck.healthyLoss(s) : stuck.healthyLoss(500), s -> s < 500 ? stuck.healthyGrad(s) : 1e-7, stuck::declared);
        assertThat(stuck.only("VANISHING_GRADIENTS").onsetStep).isEqualTo(500);
        RunFixture converged = new RunFixture("converged").start(COSINE);
        converged.steps(0, 700, 1, s -> s < 500 ? converged.healthyLoss(s) : 1e-4 * Math.pow(0.9, s - 500),
                s -> s < 500 ? converged.healthyGrad(s) : 1e-7, converged::declared);
        assertThat(converged.opened("VANISHING_GRADIENTS")).isEmpty();
    }

    // thresholds

    @Test
    void shouldApplyPerRunThresholdOverrides() {
        Thresholds strict = Thresholds.DEFAULTS.with(Map.of("lr_relative_tolerance", 0.5));
        RunFixture r = new RunFixture("tolerant", strict).start(COSINE);
        r.steps(0, 600, 1, r::healthyLoss, r::healthyGrad, s -> 0.8 * r.declared(s)); // 20% off: inside a 50% tolerance
        assertThat(r.opened("LR_MISMATCH")).isEmpty();
    }

    @Test
    void shouldCloseAnLrMismatchWhenTheRunDeclaresAnotherScheduleAndJudgeTheNewOneAfresh() {
        // found by the fuzzer: an alert opened against ReduceLROnPlateau, then a run_start with a fixed schedule, used to
        // make the re-diagnosis fail on every later step (and quarantine the run)
        RunFixture run = new RunFixture("redeclared").start("{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"base_lrs\":[0.01]}}");
        for (long s = 0; s < 3; s++) {
            run.step(s, 1.0, 0.5, 1.0, null, null);
        }
        assertThat(run.opened("LR_MISMATCH")).hasSize(1);
        run.start("{\"scheduler\":\"constant\",\"params\":{\"base_lrs\":[1]}}");
        for (long s = 3; s < 60; s++) {
            run.step(s, 1.0, 0.5, 0.0, null, null);
        }
        assertThat(run.alerts).noneMatch(a -> a.kind.equals("MONITOR_ERROR"));
        assertThat(run.alerts.stream().filter(a -> a.status.equals("resolved")).findFirst()).hasValueSatisfying(a -> {
            assertThat(a.step).isEqualTo(3);
            assertThat(a.message).contains("declared its schedule anew");
        });
        // the new schedule's own mismatch: LR 0 where the constant schedule says 1
        assertThat(run.opened("LR_MISMATCH")).hasSize(2);
        assertThat(run.opened("LR_MISMATCH").get(1).onsetStep).isGreaterThanOrEqualTo(3);
        assertThat(run.state.monitorErrors).isZero();
    }
}
