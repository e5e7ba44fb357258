package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class FrozenLrTest {
    /** Constant 1e-3 after a 50-step warmup. */
    static final String CONSTANT =
            "{\"scheduler\":\"constant_with_warmup\",\"params\":{\"num_warmup_steps\":50,\"base_lrs\":[1e-3]}}";

    private final FrozenLr hypothesis = new FrozenLr();

    @Test
    void shouldReadAnLrThatNeverMovesWhileTheScheduleDoesAsFrozen() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r = run.points(200, 670, 10, s -> run.declared(60)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.LR_FROZEN);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "observed_lr")).isEqualTo(run.declared(60));
        assertThat(r.change())
                .contains("build the scheduler on the optimizer that is actually stepped");
    }

    /**
     * Near miss: an LR of 0 while the declared warmup rises is a lag or a stretch, not a frozen
     * scheduler.
     */
    @Test
    void shouldNotCallAZeroLrFrozen() {
        TraceFixture run = TraceFixture.declared(COSINE);
        assertThat(run.points(10, 57, 1, s -> 0).readBy(hypothesis)).isNull();
    }

    /** Near miss: flat at the peak is {@link DecayNeverHappens}. */
    @Test
    void shouldLeaveAnLrAtThePeakToDecayNeverHappens() {
        TraceFixture run = TraceFixture.declared(COSINE);
        assertThat(run.points(1200, 1670, 10, s -> 1e-3).readBy(hypothesis)).isNull();
    }

    /**
     * Near miss: when the declared LR is flat too, a different flat LR is a scaled base LR, not a
     * frozen one.
     */
    @Test
    void shouldNotApplyWhenTheDeclaredLrDoesNotMove() {
        TraceFixture run = TraceFixture.declared(CONSTANT);
        run.points(100, 147, 1, s -> 5e-4);
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(run.readBy(new BaseLrScaled()).kind()).isEqualTo(HypothesisKind.BASE_LR_SCALED);
    }

    /**
     * The trace alone may look flat; if the LR moved earlier in the mismatch it was neither frozen
     * nor stuck.
     */
    @Test
    void shouldExplainNothingWhenTheLrMovedEarlierInTheMismatch() {
        TraceFixture run = TraceFixture.declared(COSINE);
        run.points(200, 670, 10, s -> run.declared(60));
        Trace t = run.trace();
        Trace movedBefore =
                new Trace(
                        t.schedule(),
                        t.group(),
                        t.steps(),
                        t.lrs(),
                        t.tolerance(),
                        t.stepsPerEpoch(),
                        t.gradAccumSteps(),
                        t.resumeSteps(),
                        t.peakLr(),
                        t.warmupEndStep(),
                        false,
                        t.segmentDeclaredMoved(),
                        t.stepBase());
        assertThat(hypothesis.readings(movedBefore).get(0).fit()).isZero();
    }
}
