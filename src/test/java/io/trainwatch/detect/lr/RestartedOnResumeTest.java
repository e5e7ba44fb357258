package io.trainwatch.detect.lr;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class RestartedOnResumeTest {
    private final RestartedOnResume hypothesis = new RestartedOnResume();

    @Test
    void shouldFindTheStepTheSchedulerRestartedAt() {
        TraceFixture run = TraceFixture.declared(COSINE).resumedAt(1000);
        Reading r = run.points(1000, 1047, 1, s -> run.declared(s - 1000)).readBy(hypothesis);
        assertThat(r.kind()).isEqualTo(HypothesisKind.RESTARTED_ON_RESUME);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(number(r, "resume_step")).isEqualTo(1000L);
        assertThat(r.change()).contains("state_dict").contains("last_epoch=999");
    }

    /** The first step logged after a resume can come a logging interval after the restart. */
    @Test
    void shouldLookBackFromTheFirstLoggedStepAfterTheResume() {
        TraceFixture run = TraceFixture.declared(COSINE).resumedAt(1005);
        Reading r = run.points(1005, 1240, 5, s -> run.declared(s - 1000)).readBy(hypothesis);
        assertThat(number(r, "resume_step")).isEqualTo(1000L);
        assertThat(r.fit()).isEqualTo(1.0);
    }

    @Test
    void shouldGiveOneReadingPerResume() {
        TraceFixture run = TraceFixture.declared(COSINE).resumedAt(500, 1000);
        assertThat(
                        hypothesis.readings(
                                run.points(1000, 1047, 1, s -> run.declared(s - 1000)).trace()))
                .hasSize(2);
    }

    @Test
    void shouldNotApplyToARunThatNeverResumed() {
        TraceFixture run = TraceFixture.declared(COSINE);
        assertThat(run.points(1000, 1047, 1, s -> run.declared(s - 1000)).readBy(hypothesis))
                .isNull();
    }

    /**
     * Near miss: the scheduler state was restored and the resume is not part of the trace: nothing
     * to fit.
     */
    @Test
    void shouldNotApplyWhenFewerThanTwoPointsFollowTheResume() {
        TraceFixture run = TraceFixture.declared(COSINE).resumedAt(2000);
        assertThat(run.points(1000, 1047, 1, s -> 0.4 * run.declared(s)).readBy(hypothesis))
                .isNull();
    }
}
