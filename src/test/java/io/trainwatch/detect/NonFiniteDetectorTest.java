package io.trainwatch.detect;

import io.trainwatch.event.Alert;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * NON_FINITE: a NaN/Inf loss or gradient, its diagnosis (suspect data, explosion, fp16 loss-scale
 * collapse) and the GradScaler skips that are not one.
 */
class NonFiniteDetectorTest {
    @Test
    void shouldAlertOnNaNLossWithHealthyGradientsAsSuspectDataNamingTheBatch() {
        RunFixture r = new RunFixture("nan-data").start(COSINE);
        r.steps(0, 499, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(500, Double.NaN, Double.NaN, r.declared(500), "shard-3/batch-1207", null);
        Alert a = r.only("NON_FINITE");
        assertThat(a.severity).isEqualTo("critical");
        assertThat(a.onsetStep).isEqualTo(500);
        assertThat(a.diagnosis).startsWith("suspect data").contains("shard-3/batch-1207");
        assertThat(RunFixture.json(a.suggestion).path("action").asText())
                .isEqualTo("inspect_batch");
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
        assertThat(sug.path("max_norm").asDouble())
                .isBetween(0.8, 2.5); // from the healthy ~0.8 norms, not the explosion
        assertThat(sug.path("statistic").asText())
                .startsWith("exp(mean + 2 std) of log grad norm over ")
                .contains(" healthy steps");
        // PaLM-style: back to the last healthy step, before the climb (500..503), not the last
        // finite one
        assertThat(sug.path("rewind_to_step").asLong()).isEqualTo(499);
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

    /**
     * GradScaler start-up (2^16 halved until it fits) and a later lone overflow are skipped steps,
     * not NaNs in the model.
     */
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
            r.step(
                    s,
                    r.healthyLoss(s),
                    overflow ? Double.POSITIVE_INFINITY : r.healthyGrad(s),
                    r.declared(s),
                    null,
                    scale);
            if (overflow) {
                scale /= 2;
            }
        }
        assertThat(r.alerts).filteredOn(a -> a.kind.equals("NON_FINITE")).isEmpty();
        assertThat(r.state.gradScalerSkips).isEqualTo(7);
        // the same lone overflow without loss_scale: a warning naming the GradScaler, no rewind
        RunFixture bare = new RunFixture("fp16-no-scale").start(COSINE);
        bare.steps(0, 199, 1, bare::healthyLoss, bare::healthyGrad, bare::declared);
        bare.step(
                200,
                bare.healthyLoss(200),
                Double.POSITIVE_INFINITY,
                bare.declared(200),
                null,
                null);
        Alert a = bare.only("NON_FINITE");
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.diagnosis).startsWith(NonFiniteDetector.GRAD_SCALER_OVERFLOW);
        assertThat(a.message)
                .contains("GradScaler overflow: the step was skipped; harmless if rare");
        assertThat(RunFixture.json(a.evidence).path("hint").asText()).contains("report loss_scale");
        assertThat(RunFixture.json(a.suggestion).path("action").asText()).isEqualTo("none");
        assertThat(RunFixture.json(a.suggestion).has("rewind_to_step")).isFalse();
    }

    @Test
    void shouldEscalateAGradScalerOverflowThatIsNotFiniteAgainAtTheNextStep() {
        RunFixture r = new RunFixture("fp16-twice").start(COSINE);
        r.steps(0, 199, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(200, r.healthyLoss(200), Double.NaN, r.declared(200), null, null);
        r.step(201, r.healthyLoss(201), Double.NaN, r.declared(201), null, null);
        Alert open = r.only("NON_FINITE");
        assertThat(open.severity).isEqualTo("warning");
        Alert update = RunFixture.sameAlertWithStatus(r.alerts, open, Alert.UPDATE).orElseThrow();
        assertThat(update.severity).isEqualTo("critical");
        assertThat(update.message).contains("not a lone GradScaler skip");
    }

    @Test
    void shouldEscalateWhenTheLossGoesNaNAfterAGradScalerOverflow() {
        RunFixture r = new RunFixture("fp16-then-nan").start(COSINE);
        r.steps(0, 199, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(200, r.healthyLoss(200), Double.NaN, r.declared(200), null, null);
        r.step(201, Double.NaN, Double.NaN, r.declared(201), null, null);
        Alert update =
                RunFixture.sameAlertWithStatus(r.alerts, r.only("NON_FINITE"), Alert.UPDATE)
                        .orElseThrow();
        assertThat(update.severity).isEqualTo("critical");
        assertThat(update.diagnosis).startsWith("non-finite loss");
    }

    @Test
    void shouldEscalateRepeatedGradScalerOverflowsWithinTheWindow() {
        RunFixture r = new RunFixture("fp16-repeated").start(COSINE);
        r.steps(0, 199, 1, r::healthyLoss, r::healthyGrad, r::declared);
        List<Alert> all = new java.util.ArrayList<>();
        for (long s = 200; s < 700; s++) {
            boolean overflow = s == 200 || s == 350 || s == 500;
            r.step(
                    s,
                    r.healthyLoss(s),
                    overflow ? Double.POSITIVE_INFINITY : r.healthyGrad(s),
                    r.declared(s),
                    null,
                    null);
        }
        all.addAll(r.alerts);
        all.addAll(r.withheld);
        // two overflows: warnings, folded into one incident; the third within the window: critical
        assertThat(all)
                .filteredOn(a -> a.kind.equals("NON_FINITE") && a.status.equals(Alert.OPEN))
                .extracting(a -> a.onsetStep + " " + a.severity)
                .containsExactlyInAnyOrder("200 warning", "350 warning", "500 critical");
        assertThat(r.opened("NON_FINITE"))
                .extracting(a -> a.severity)
                .containsExactly("warning", "critical");
        assertThat(r.opened("NON_FINITE").get(1).diagnosis).startsWith("repeated GradScaler");
        // two far apart stay warnings
        RunFixture far = new RunFixture("fp16-far").start(COSINE);
        far.steps(0, 199, 1, far::healthyLoss, far::healthyGrad, far::declared);
        for (long s = 200; s < 2200; s++) {
            boolean overflow = s == 200 || s == 1000 || s == 1800;
            far.step(
                    s,
                    far.healthyLoss(s),
                    overflow ? Double.POSITIVE_INFINITY : far.healthyGrad(s),
                    far.declared(s),
                    null,
                    null);
        }
        assertThat(far.alerts).noneMatch(a -> a.severity.equals("critical"));
        assertThat(far.opened("NON_FINITE")).hasSize(3); // three incidents, quiet in between
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
        assertThat(r.opened("NON_FINITE"))
                .isEmpty(); // two reductions: the scaler may still find its level
        scale /= 2;
        r.step(103, r.healthyLoss(103), Double.POSITIVE_INFINITY, r.declared(103), null, scale);
        assertThat(r.only("NON_FINITE").diagnosis)
                .startsWith("fp16 loss-scale collapse")
                .contains("4 optimizer steps skipped");
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
        // the condition resolved (its RESOLVED folded into the incident) ...
        assertThat(r.withheld)
                .filteredOn(a -> a.kind.equals("NON_FINITE"))
                .extracting(a -> a.status)
                .containsExactly("resolved");
        // ... and the incident it opened resolves once quiet for incident_window_steps
        r.steps(271, 900, 1, r::healthyLoss, r::healthyGrad, r::declared);
        assertThat(r.alerts)
                .filteredOn(a -> a.kind.equals("NON_FINITE"))
                .extracting(a -> a.status + " " + (a.status.equals("resolved") ? a.step : ""))
                .containsExactly("open ", "resolved 863");
    }
}
