package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.trainwatch.detect.lr.TraceFixture.COSINE;
import static io.trainwatch.detect.lr.TraceFixture.LINEAR;
import static io.trainwatch.detect.lr.TraceFixture.number;
import static org.assertj.core.api.Assertions.assertThat;

class LrDiagnosisTest {
    static final NamedValues NONE = NamedValues.builder().build();

    /** evidence.hypothesis is part of the alert format: these names never change. */
    @Test
    void shouldKeepTheHypothesisNamesOfTheAlertFormat() {
        assertThat(Arrays.stream(HypothesisKind.values()).map(k -> k.hypothesis))
                .containsExactly(
                        "decay_never_happens",
                        "lr_frozen",
                        "restarted_on_resume",
                        "offset_ahead",
                        "offset_behind",
                        "warmup_longer",
                        "stepped_per_epoch",
                        "stepped_per_step_declared_per_epoch",
                        "stretched",
                        "squeezed",
                        "base_lr_scaled",
                        "unexplained");
    }

    @Test
    void shouldListTheKindsMostSpecificFirst() {
        int[] ranks = Arrays.stream(HypothesisKind.values()).mapToInt(k -> k.rank).toArray();
        assertThat(ranks).isSorted();
    }

    @Test
    void shouldNameTheReadingThatExplainsTheMostPoints() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(1900, 1947, 1, s -> run.declared(s - 7)).diagnosis();
        assertThat(r.kind()).isEqualTo(HypothesisKind.OFFSET_BEHIND);
        assertThat(r.fit()).isEqualTo(1.0);
        assertThat(r.tied()).containsExactly(r.signature());
        assertThat(r.diagnosis()).doesNotContain("also consistent");
    }

    /**
     * Inside a linear warmup an LR 7 steps behind is also a longer warmup: the offset is the more
     * specific reading.
     */
    @Test
    void shouldPreferTheMoreSpecificOfEquallyGoodReadingsAndNameTheOthers() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(20, 67, 1, s -> run.declared(s - 7)).diagnosis();
        assertThat(r.kind()).isEqualTo(HypothesisKind.OFFSET_BEHIND);
        assertThat(r.diagnosis())
                .contains(
                        "also consistent: the LR is still ramping up below the declared schedule");
        assertThat(r.tied()).hasSize(2).contains(r.signature());
    }

    /** In a linear warmup a 2x stretch and a 0.5x base LR look alike: the stretch ranks first. */
    @Test
    void shouldRankAStretchAboveAScaledBaseLr() {
        TraceFixture run = TraceFixture.declared(LINEAR);
        Reading r = run.points(100, 194, 2, s -> run.declared(s / 2)).diagnosis();
        assertThat(r.kind()).isEqualTo(HypothesisKind.STRETCHED);
        assertThat(r.diagnosis())
                .contains("also consistent: the LR is 0.5000x the declared value throughout");
    }

    /**
     * A stretch by a factor the run declared (steps per epoch, accumulation) beats every kind's
     * rank.
     */
    @Test
    void shouldPreferAStretchByADeclaredFactorOverAnyKind() {
        Reading declared = new Reading(HypothesisKind.STRETCHED, "", "", "", 1, NONE, true);
        Reading mostSpecificKind =
                new Reading(HypothesisKind.DECAY_NEVER_HAPPENS, "", "", "", 1, NONE);
        assertThat(declared.preference()).isLessThan(mostSpecificKind.preference());
    }

    @Test
    void shouldSayUnexplainedWhenNoReadingExplainsEnoughOfTheTrace() {
        TraceFixture run = TraceFixture.declared(COSINE);
        Reading r =
                run.points(300, 770, 10, s -> run.declared(s) * (s % 20 == 0 ? 0.3 : 3))
                        .diagnosis();
        assertThat(r.kind()).isEqualTo(HypothesisKind.UNEXPLAINED);
        assertThat(r.fit()).isZero();
        assertThat((double) number(r, "max_relative_error")).isGreaterThan(0.6);
    }
}
