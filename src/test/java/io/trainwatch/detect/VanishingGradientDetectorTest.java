package io.trainwatch.detect;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/** VANISHING_GRADIENTS: tiny gradients while the loss is stuck, not after convergence. */
class VanishingGradientDetectorTest {
    @Test
    void shouldCallVanishingGradientsOnlyWhileTheLossIsStuck() {
        RunFixture stuck = new RunFixture("stuck").start(COSINE);
        stuck.steps(
                0,
                700,
                1,
                s -> s < 500 ? stuck.healthyLoss(s) : stuck.healthyLoss(500),
                s -> s < 500 ? stuck.healthyGrad(s) : 1e-7,
                stuck::declared);
        assertThat(stuck.only("VANISHING_GRADIENTS").onsetStep).isEqualTo(500);
        RunFixture converged = new RunFixture("converged").start(COSINE);
        converged.steps(
                0,
                700,
                1,
                s -> s < 500 ? converged.healthyLoss(s) : 1e-4 * Math.pow(0.9, s - 500),
                s -> s < 500 ? converged.healthyGrad(s) : 1e-7,
                converged::declared);
        assertThat(converged.opened("VANISHING_GRADIENTS")).isEmpty();
    }
}
