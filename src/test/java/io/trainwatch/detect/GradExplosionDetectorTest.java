package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.SeriesPoint;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

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

    /**
     * The demo's gradient-growth fault, harder: from step 400 the norm grows 2x per step for 12
     * steps and stays there (4096x). The incident carries one max_norm, near the healthy level, and
     * the series' suggested clip holds there through the explosion instead of climbing with it.
     */
    @Test
    void shouldKeepOneThresholdNearTheHealthyLevelThroughAnExplosion() {
        RunFixture r = new RunFixture("explosion").start(COSINE);
        r.steps(
                0,
                700,
                1,
                r::healthyLoss,
                s -> r.healthyGrad(s) * Math.pow(2, Math.min(Math.max(0, s - 399), 12)),
                r::declared);
        double healthyMedian = 0.8;
        List<Alert> explosion =
                r.alerts.stream()
                        .filter(
                                a ->
                                        a.kind.equals("GRAD_EXPLOSION")
                                                && !a.status.equals("resolved"))
                        .toList();
        assertThat(explosion).isNotEmpty();
        Set<Double> thresholds = new HashSet<>();
        for (Alert a : explosion) {
            thresholds.add(RunFixture.json(a.suggestion).path("max_norm").asDouble());
        }
        assertThat(thresholds).as("one incident, one threshold").hasSize(1);
        assertThat(thresholds.iterator().next()).isBetween(healthyMedian, 3 * healthyMedian);
        assertThat(RunFixture.json(explosion.get(0).suggestion).path("statistic").asText())
                .contains("healthy steps");
        // every series point, before, during and long after the onset
        assertThat(r.series).hasSize(701);
        for (SeriesPoint p : r.series.subList(20, r.series.size())) {
            assertThat(p.suggestedClip).as("suggested clip at step %d", p.step).isNotNull();
            assertThat(p.suggestedClip)
                    .as("suggested clip at step %d", p.step)
                    .isBetween(healthyMedian, 3 * healthyMedian);
        }
    }

    /**
     * A slow climb that no single step shows as an outlier (3% a step from step 300, 10x by step
     * 378: the detector's sustained growth): the healthy level does not climb along with it.
     */
    @Test
    void shouldNotLetASlowClimbCarryTheThresholdWithIt() {
        RunFixture r = new RunFixture("slow-climb").start(COSINE);
        r.steps(
                0,
                600,
                1,
                r::healthyLoss,
                s -> r.healthyGrad(s) * Math.pow(1.03, Math.max(0, s - 300)),
                r::declared);
        Alert grown = r.opened("GRAD_EXPLOSION").get(0);
        assertThat(grown.severity).isEqualTo("critical");
        double maxNorm = RunFixture.json(grown.suggestion).path("max_norm").asDouble();
        // the healthy level (0.8) times at most sqrt(grad_growth_ratio) plus its spread
        assertThat(maxNorm).isBetween(0.8, 4 * 0.8);
        double lastClip = r.series.get(r.series.size() - 1).suggestedClip;
        double lastNorm = r.series.get(r.series.size() - 1).gradNorm;
        assertThat(lastClip).isLessThan(lastNorm / 10);
    }

    /** Too few healthy norms to tell a level: the alert says so instead of inventing a number. */
    @Test
    void shouldSayThereIsNoThresholdWhenTheHealthyHistoryIsTooShort() {
        RunFixture r = new RunFixture("no-history").start(COSINE);
        // a loss spike opens an incident at step 5 and keeps it open: the healthy level never
        // gets its 12 norms, while the detector's own statistics do
        r.steps(
                0,
                200,
                1,
                s -> s >= 5 && s < 12 ? 50.0 : r.healthyLoss(s),
                r::healthyGrad,
                r::declared);
        HealthyGradLevel level = r.state.healthyGrad;
        // as if only 3 healthy norms had been seen (held back, too few to start the level from)
        level.stats.count = 0;
        level.firstCount = 3;
        r.step(201, r.healthyLoss(201), 400.0, r.declared(201), null, null);
        Alert a = r.opened("GRAD_EXPLOSION").get(0);
        var sug = RunFixture.json(a.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("clip_grad_norm");
        assertThat(sug.has("max_norm") && !sug.path("max_norm").isNull()).isFalse();
        assertThat(sug.path("statistic").asText())
                .isEqualTo(
                        "no threshold: only 3 healthy grad norms before this (at least 12 are needed to tell the run's healthy level)");
        assertThat(sug.path("change").asText()).contains("too few healthy steps");
    }
}
