package io.trainwatch.detect;

import io.trainwatch.event.Alert;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.RunFixture.CONSTANT;
import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/** DIVERGENCE: a loss running away, not slow overfitting drift. */
class DivergenceDetectorTest {
    @Test
    void shouldCallDivergenceAndSuggestHalvingTheLrFromTheBestStep() {
        RunFixture r = new RunFixture("diverge").start(COSINE);
        r.steps(
                0,
                1000,
                1,
                s -> s < 800 ? r.healthyLoss(s) : r.healthyLoss(s) * Math.pow(1.2, s - 799),
                r::healthyGrad,
                r::declared);
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
        r.steps(
                0,
                3000,
                1,
                s -> s < 1500 ? 5 * Math.exp(-s / 150.0) + 0.05 : 0.05 + 0.1 * (s - 1500) / 1500.0,
                r::healthyGrad,
                r::declared);
        assertThat(r.opened("DIVERGENCE")).isEmpty();
    }
}
