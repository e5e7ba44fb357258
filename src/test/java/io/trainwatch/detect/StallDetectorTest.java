package io.trainwatch.detect;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.RunFixture.CONSTANT;
import static org.assertj.core.api.Assertions.assertThat;

/** STALL: a plateau, not a slowly improving loss. */
class StallDetectorTest {
    @Test
    void shouldCallStallOnAPlateauAndNotWhileImproving() {
        RunFixture flat = new RunFixture("flat").start(CONSTANT);
        flat.steps(
                0,
                9000,
                10,
                s -> s < 2000 ? 1 + 2 * Math.exp(-s / 300.0) : 1 + 2 * Math.exp(-2000 / 300.0),
                flat::healthyGrad,
                flat::declared);
        assertThat(flat.only("STALL").severity).isEqualTo("info");
        RunFixture improving = new RunFixture("improving").start(CONSTANT);
        improving.steps(
                0,
                9000,
                10,
                s -> 3 * Math.exp(-s / 4000.0),
                improving::healthyGrad,
                improving::declared);
        assertThat(improving.opened("STALL")).isEmpty();
    }
}
