package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class StretchedScheduleTest {
    private final StretchedSchedule hypothesis = new StretchedSchedule();

    @Test
    void shouldNameTheDeclaredAccumulationWhenItIsTheFactor() {
        TraceFixture run = TraceFixture.declared(COSINE).gradAccumSteps(4);
        Reading r = run.points(0, 47, 1, s -> run.declared(s / 4)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.STRETCHED);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "stretch_factor")).isEqualTo(4L);
        assertThat(r.declaredFactor()).isTrue();
        assertThat(r.diagnosis()).contains("gradient_accumulation_steps (4)");
    }

    @Test
    void shouldReadASmoothSlowDownAsAScheduleSizedTooLong() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r = run.points(30, 171, 3, s -> run.declared(s / 3)).readBy(hypothesis);
        assertThat(number(r, "stretch_factor")).isEqualTo(3L);
        assertThat(r.declaredFactor()).isFalse();
        assertThat(r.diagnosis()).contains("sized 3x too long");
        assertThat(r.change()).contains("num_training_steps");
    }

    /** Near miss: a staircase with the declared epoch as its period is {@link SteppedPerEpoch}. */
    @Test
    void shouldLeaveAPerEpochStaircaseToSteppedPerEpoch() {
        TraceFixture run = TraceFixture.declared(COSINE).stepsPerEpoch(120);
        run.points(0, 470, 10, s -> run.declared(s / 120));
        assertThat(run.readBy(hypothesis)).isNull();
        assertThat(run.readBy(new SteppedPerEpoch())).isNotNull();
    }
}
