package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.LINEAR;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class WarmupLongerTest {
    private final WarmupLonger hypothesis = new WarmupLonger();

    /**
     * Declared 200 warmup steps, the trainer ramps over 400: still rising past the declared end,
     * below the schedule.
     */
    @Test
    void shouldReadAnLrStillRisingPastTheDeclaredWarmupAsALongerWarmup() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(100, 335, 5, s -> 1e-3 * s / 400).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.WARMUP_LONGER);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "declared_warmup_steps")).isEqualTo(run.schedule.warmup().endStep());
        assertThat(r.summary()).contains("the warmup is longer than declared");
    }

    @Test
    void shouldReadARisingRatioInsideTheDeclaredWarmupAsALongerWarmup() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r =
                run.points(20, 160, 3, s -> 1e-3 * s / 200 * (0.3 + 0.5 * s / 200))
                        .readBy(hypothesis);
        assertThat(r).isNotNull();
        assertThat((double) number(r, "actual_to_declared_ratio")).isGreaterThan(0.6);
    }

    /**
     * Near miss: a constant ratio inside the declared warmup is a scaled base LR ({@link
     * BaseLrScaled}).
     */
    @Test
    void shouldLeaveAConstantRatioToBaseLrScaled() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        run.points(20, 161, 3, s -> 0.5 * run.declared(s));
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(run.readBy(new BaseLrScaled()).kind()).isEqualTo(HypothesisKind.BASE_LR_SCALED);
    }

    /** Near miss: an LR above the declared one is no slower ramp. */
    @Test
    void shouldNotApplyAboveTheDeclaredSchedule() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        assertThat(run.points(100, 335, 5, s -> 2 * run.declared(s)).readBy(hypothesis)).isNull();
    }
}
