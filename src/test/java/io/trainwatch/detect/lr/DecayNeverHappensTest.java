package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class DecayNeverHappensTest {
    private final DecayNeverHappens hypothesis = new DecayNeverHappens();

    @Test
    void shouldReadAnLrStuckAtThePeakAsAnOverridingScheduler() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r = run.points(1200, 1670, 10, s -> 1e-3).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.DECAY_NEVER_HAPPENS);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "observed_lr")).isEqualTo(1e-3);
        assertThat(number(r, "declared_lr_now")).isEqualTo(run.declared(1670));
        assertThat(r.change()).contains("DeepSpeed");
    }

    /** Near miss: flat below the peak while the declared LR moves is {@link FrozenLr}. */
    @Test
    void shouldLeaveAnLrFlatBelowThePeakToFrozen() {
        TraceFixture run = TraceFixture.declared(COSINE);
        run.points(1200, 1670, 10, s -> 6e-4);
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(run.readBy(new FrozenLr()).kind()).isEqualTo(HypothesisKind.LR_FROZEN);
    }
}
