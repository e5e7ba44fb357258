package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.LINEAR;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class SqueezedScheduleTest {
    private final SqueezedSchedule hypothesis = new SqueezedSchedule();

    @Test
    void shouldReadAScheduleRunningKTimesFasterAsSchedulerSteppedPerMicroBatch() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(60, 107, 1, s -> run.declared(s * 4)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.SQUEEZED);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "squeeze_factor")).isEqualTo(4L);
        assertThat(r.change()).contains("outside the micro-batch loop");
    }

    /**
     * Near miss: a per-epoch schedule stepped every step is {@link SteppedPerStepDeclaredPerEpoch}.
     */
    @Test
    void shouldLeaveAPerEpochScheduleSteppedEveryStepToItsOwnHypothesis() {
        TraceFixture run = TraceFixture.declared(SteppedPerStepDeclaredPerEpochTest.PER_EPOCH);
        run.points(1, 19, 1, s -> run.declared(s * 10));
        assertThat(run.readBy(hypothesis)).isNull();
    }
}
