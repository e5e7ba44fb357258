package io.trainwatch.detect.lr;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class BaseLrScaledTest {
    private final BaseLrScaled hypothesis = new BaseLrScaled();

    @Test
    void shouldReadAConstantRatioAsAScaledBaseLrAndSuggestTheFactorBack() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r = run.points(300, 770, 10, s -> 0.4 * run.declared(s)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.BASE_LR_SCALED);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat((double) number(r, "observed_scale")).isCloseTo(0.4, Offset.offset(1e-9));
        assertThat(number(r, "lr_factor")).isEqualTo(2.5);
        assertThat(r.change()).contains("base_lrs = 0.4000 x the current ones");
    }

    /** Near miss: a ratio within three tolerances of 1 is rounding, not a scaled LR. */
    @Test
    void shouldNotApplyWithinThreeTolerancesOfOne() {
        TraceFixture run = TraceFixture.declared(COSINE);
        assertThat(run.points(300, 770, 10, s -> 1.02 * run.declared(s)).readBy(hypothesis))
                .isNull();
    }

    @Test
    void shouldNotApplyWithFewerThanTwoPositiveLrs() {
        TraceFixture run = TraceFixture.declared(COSINE);
        assertThat(
                        run.points(300, 770, 10, s -> s == 300 ? 0.4 * run.declared(s) : 0)
                                .readBy(hypothesis))
                .isNull();
    }
}
