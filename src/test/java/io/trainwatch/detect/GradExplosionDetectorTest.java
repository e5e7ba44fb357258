package io.trainwatch.detect;

import io.trainwatch.event.Alert;

import org.junit.jupiter.api.Test;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/** GRAD_EXPLOSION: a grad-norm spike and the max_norm suggested from the run's history. */
class GradExplosionDetectorTest {
    @Test
    void shouldWarnOnGradSpikeAndSuggestMaxNormFromTheRunsHistory() {
        RunFixture r = new RunFixture("grad-spike").start(COSINE);
        r.steps(0, 700, 1, r::healthyLoss, s -> s == 500 ? 40.0 : r.healthyGrad(s), r::declared);
        Alert a = r.only("GRAD_EXPLOSION");
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.onsetStep).isEqualTo(500);
        assertThat(RunFixture.json(a.suggestion).path("max_norm").asDouble()).isBetween(0.9, 2.0);
    }

    @Test
    void shouldSuggestTighterClipWhenClippingIsOnAndTheNormStaysFarAbove() {
        RunFixture r = new RunFixture("clip-on").start(COSINE, 1.0, null, null);
        r.steps(
                0,
                700,
                1,
                r::healthyLoss,
                s -> s >= 500 ? 60 * r.healthyGrad(s) : r.healthyGrad(s),
                r::declared);
        Alert update =
                r.alerts.stream()
                        .filter(a -> a.kind.equals("GRAD_EXPLOSION") && a.status.equals("update"))
                        .findFirst()
                        .orElseThrow();
        assertThat(update.severity).isEqualTo("critical");
        var sug = RunFixture.json(update.suggestion);
        assertThat(sug.path("max_norm").asDouble()).isLessThanOrEqualTo(1.0);
        assertThat(sug.path("statistic").asText()).contains("clipping at 1 is on");
    }

    @Test
    void shouldOpenOneIncidentForThirtyGradSpikesOfOneEpisodeWithAFewUpdates() {
        RunFixture r = new RunFixture("thirty-spikes").start(RunFixture.COSINE);
        r.steps(
                0,
                1700,
                1,
                r::healthyLoss,
                s -> s >= 300 && s < 1500 && s % 40 == 0 ? 30 * r.healthyGrad(s) : r.healthyGrad(s),
                r::declared);
        assertThat(r.opened("GRAD_EXPLOSION")).hasSize(1);
        long updates = r.alerts.stream().filter(a -> a.status.equals("update")).count();
        assertThat(updates).isBetween(3L, 5L);
        assertThat(r.withheld)
                .filteredOn(a -> a.kind.equals("GRAD_EXPLOSION") && a.status.equals("open"))
                .hasSize(29);
        assertThat(r.alerts).noneMatch(a -> a.severity.equals("critical"));
    }
}
