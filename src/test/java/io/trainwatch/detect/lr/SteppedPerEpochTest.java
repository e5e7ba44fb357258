package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class SteppedPerEpochTest {
    private final SteppedPerEpoch hypothesis = new SteppedPerEpoch();

    @Test
    void shouldReadAStaircaseWithTheDeclaredEpochAsItsPeriod() {
        TraceFixture run = TraceFixture.declared(COSINE).stepsPerEpoch(120);
        Reading r = run.points(0, 470, 10, s -> run.declared(s / 120)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.STEPPED_PER_EPOCH);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "period_steps")).isEqualTo(120L);
        assertThat(r.declaredFactor()).isTrue();
        assertThat(r.change()).contains("scheduler.step() after every optimizer.step()");
    }

    @Test
    void shouldReadALongStaircaseAsAnEpochWithoutADeclaredOne() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r = run.points(0, 47, 1, s -> run.declared(s / 16)).readBy(hypothesis);
        assertThat(number(r, "period_steps")).isEqualTo(16L);
        assertThat(r.declaredFactor()).isFalse();
    }

    /**
     * Near miss: a staircase as long as the declared gradient accumulation is accumulation ({@link
     * StretchedSchedule}).
     */
    @Test
    void shouldLeaveAStaircaseOfTheAccumulationFactorToStretched() {
        TraceFixture run = TraceFixture.declared(COSINE).gradAccumSteps(16);
        run.points(0, 47, 1, s -> run.declared(s / 16));
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(run.readBy(new StretchedSchedule()).kind()).isEqualTo(HypothesisKind.STRETCHED);
    }

    /** Near miss: a staircase shorter than {@link StretchFit#MIN_EPOCH_STEPS} is not an epoch. */
    @Test
    void shouldLeaveAShortStaircaseToStretched() {
        TraceFixture run = TraceFixture.declared(COSINE);
        run.points(0, 47, 1, s -> run.declared(s / 4));
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(number(run.readBy(new StretchedSchedule()), "stretch_factor")).isEqualTo(4L);
    }

    /** Near miss: a smooth slow-down is a schedule sized too long, not a staircase. */
    @Test
    void shouldLeaveASmoothStretchToStretched() {
        TraceFixture run = TraceFixture.declared(COSINE);
        run.points(
                0,
                470,
                10,
                s ->
                        run.declared(s / 16)
                                + (run.declared(s / 16 + 1) - run.declared(s / 16))
                                        * (s % 16)
                                        / 16.0);
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(number(run.readBy(new StretchedSchedule()), "stretch_factor")).isEqualTo(16L);
    }
}
