package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import io.trainwatch.threshold.Thresholds;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Suggested clip thresholds anchored to the healthy history, on the seeded scenario runs of every
 * gradient fault (seeds the thresholds were never tuned on): each incident carries one max_norm
 * (refined at most once), within a small multiple of the run's healthy grad-norm level, and the
 * series' suggested clip stays there through the fault instead of climbing with it.
 */
class AnchoredSuggestionsTest {
    private static final int RUNS = 40;
    private static final long SEED_BASE = 9_100_000L;

    /** "A small multiple" of the healthy median grad norm. */
    private static final double MAX_MULTIPLE = 3;

    @ParameterizedTest
    @EnumSource(
            value = Fault.class,
            names = {"GRAD_GROWTH", "GRAD_SPIKE", "NAN_AFTER_EXPLOSION"})
    void shouldKeepOneThresholdPerIncidentNearTheHealthyLevel(Fault fault) throws Exception {
        int incidents = 0;
        for (int i = 0; i < RUNS; i++) {
            SimulatedRun run =
                    RunSimulator.generate(SEED_BASE + 1000L * fault.ordinal() + i, fault);
            EventCodec codec = new EventCodec();
            RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
            RunState state = new RunState();
            List<Alert> alerts = new ArrayList<>();
            List<SeriesPoint> series = new ArrayList<>();
            List<Double> healthyNorms = new ArrayList<>();
            for (int k = 0; k < run.events().size(); k++) {
                TrainingEvent e = codec.parse(run.events().get(k));
                if (k < run.faultStartEventIndex() && e.gradNorm != null) {
                    healthyNorms.add(e.gradNorm);
                }
                RunMonitor.Output out = monitor.onEvent(state, e);
                alerts.addAll(out.alerts());
                if (out.series() != null && k >= run.faultStartEventIndex()) {
                    series.add(out.series());
                }
            }
            double healthy = median(healthyNorms);
            // with clipping already on, the run's own max_norm may be the (lower) suggestion
            double floor =
                    0.5 * (state.gradClip == null ? healthy : Math.min(healthy, state.gradClip));
            Map<String, Set<Double>> thresholds = new HashMap<>();
            for (Alert a : alerts) {
                JsonNode sug = a.suggestion == null ? null : RunFixture.json(a.suggestion);
                if (sug != null && sug.path("max_norm").isNumber()) {
                    thresholds
                            .computeIfAbsent(a.alertId, id -> new HashSet<>())
                            .add(sug.path("max_norm").asDouble());
                }
            }
            for (Map.Entry<String, Set<Double>> t : thresholds.entrySet()) {
                incidents++;
                assertThat(t.getValue())
                        .as("%s: thresholds of incident %s", run.description(), t.getKey())
                        .hasSizeLessThanOrEqualTo(2);
                for (double maxNorm : t.getValue()) {
                    assertThat(maxNorm)
                            .as(
                                    "%s: max_norm %s against the healthy median %s",
                                    run.description(), maxNorm, healthy)
                            .isBetween(floor, MAX_MULTIPLE * healthy);
                }
            }
            for (SeriesPoint p : series) {
                if (p.suggestedClip != null) {
                    assertThat(p.suggestedClip / healthy)
                            .as(
                                    "%s: suggested clip %s at step %d against the healthy median %s",
                                    run.description(), p.suggestedClip, p.step, healthy)
                            .isLessThanOrEqualTo(MAX_MULTIPLE);
                }
            }
        }
        System.out.printf(
                "anchored suggestions, %s: %d runs, %d incidents with a max_norm, each within %.0fx the healthy median%n",
                fault, RUNS, incidents, MAX_MULTIPLE);
        assertThat(incidents)
                .as("incidents that carried a threshold")
                .isGreaterThanOrEqualTo(RUNS / 2);
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
