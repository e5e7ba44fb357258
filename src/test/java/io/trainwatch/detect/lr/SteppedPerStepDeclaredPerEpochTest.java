package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class SteppedPerStepDeclaredPerEpochTest {
    /** CosineAnnealingLR over 20 epochs of 10 steps, stepped once per epoch. */
    static final String PER_EPOCH =
            "{\"scheduler\":\"CosineAnnealingLR\",\"params\":{\"T_max\":20,\"base_lrs\":[0.1]},"
                    + "\"interval\":\"epoch\",\"steps_per_epoch\":10}";

    private final SteppedPerStepDeclaredPerEpoch hypothesis = new SteppedPerStepDeclaredPerEpoch();

    @Test
    void shouldReadAScheduleRunningEpochTimesFasterAsSteppedEveryStep() {
        TraceFixture run = TraceFixture.declared(PER_EPOCH);
        Reading r = run.points(1, 19, 1, s -> run.declared(s * 10)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.STEPPED_PER_STEP_DECLARED_PER_EPOCH);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "squeeze_factor")).isEqualTo(10L);
        assertThat(r.change()).contains("once per epoch");
    }

    /**
     * Near miss: the per-epoch schedule stepped five times per epoch is squeezed, not stepped per
     * step.
     */
    @Test
    void shouldLeaveAnotherSpeedUpToSqueezed() {
        TraceFixture run = TraceFixture.declared(PER_EPOCH);
        run.points(1, 19, 1, s -> run.declared(s * 5));
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(number(run.readBy(new SqueezedSchedule()), "squeeze_factor")).isEqualTo(5L);
    }
}
