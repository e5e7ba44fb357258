package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.LINEAR;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class ConstantOffsetTest {
    private final ConstantOffset hypothesis = new ConstantOffset();

    @Test
    void shouldReadAnLrBehindTheScheduleAsSkippedSchedulerSteps() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(20, 67, 1, s -> run.declared(s - 7)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.OFFSET_BEHIND);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "offset_steps")).isEqualTo(-7L);
        assertThat(r.diagnosis()).contains("GradScaler");
    }

    @Test
    void shouldReadAnLrAheadOfTheScheduleAsSchedulerBeforeOptimizer() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(20, 67, 1, s -> run.declared(s + 5)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.OFFSET_AHEAD);
        assertThat(number(r, "offset_steps")).isEqualTo(5L);
        assertThat(r.change()).contains("optimizer.step() first");
    }

    /** Near miss: +-1 step is the logging convention, never an offset; a 0.5x LR fits no offset. */
    @Test
    void shouldNeverReadTheOneStepLoggingConventionAsAnOffset() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(20, 67, 1, s -> run.declared(s + 1)).readBy(hypothesis);
        assertThat(Math.abs((long) number(r, "offset_steps"))).isGreaterThan(1);
        TraceFixture scaled = TraceFixture.declared(LINEAR);
        assertThat(scaled.points(20, 67, 1, s -> 0.5 * scaled.declared(s)).readBy(hypothesis).fit())
                .isLessThan(LrDiagnosis.MIN_FIT);
    }
}
