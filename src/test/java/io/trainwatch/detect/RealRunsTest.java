package io.trainwatch.detect;

import io.trainwatch.event.Alert;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every run in ../shared/data/real-runs, imported and replayed: healthy runs raise no critical and
 * no LR_MISMATCH alert; each problem INDEX.md lists is found at its steps with the right diagnosis
 * (expectations in src/test/resources/real-runs/runs.json, each with the reason from INDEX.md).
 */
class RealRunsTest {
    @Test
    void shouldStayQuietOnHealthyRunsAndFindEveryListedProblem() throws Exception {
        int runs = 0;
        int expectations = 0;
        List<String> failures = new ArrayList<>();
        StringBuilder opened =
                new StringBuilder(
                        "| run | steps | alerts opened before incidents | incidents opened | alerts sent |\n|---|---:|---:|---:|---:|\n");
        for (JsonNode run : RealRuns.index().get("runs")) {
            RealRuns.Replayed r = RealRuns.replay(run);
            runs++;
            System.out.printf(
                    "%-36s %6d steps  %2d alerts%n", r.name(), r.steps(), r.alerts().size());
            opened.append(
                    String.format(
                            "| %s | %d | %d | %d | %d |%n",
                            r.name(),
                            r.steps(),
                            r.detectorOpens(),
                            r.incidentsOpened(),
                            r.alerts().size()));
            for (Alert a : r.alerts()) {
                System.out.println(
                        "    "
                                + a.status
                                + " "
                                + a.severity
                                + " "
                                + a.kind
                                + " onset "
                                + a.onsetStep
                                + " incident "
                                + a.incidentId
                                + " #"
                                + a.occurrences
                                + ": "
                                + a.message);
            }
            if (r.healthy()) {
                for (Alert a : r.alerts()) {
                    // nanogpt and detectron2 logs carry their step times: judged for SLOWDOWN too
                    if ("critical".equals(a.severity)
                            || "LR_MISMATCH".equals(a.kind)
                            || "SLOWDOWN".equals(a.kind)) {
                        failures.add(r.name() + " is healthy but got " + a);
                    }
                }
            }
            for (Alert a : r.withheld()) {
                System.out.println(
                        "    (folded) "
                                + a.status
                                + " "
                                + a.severity
                                + " "
                                + a.kind
                                + " onset "
                                + a.onsetStep
                                + " into "
                                + a.incidentId);
            }
            for (JsonNode ex : run.get("expect")) {
                expectations++;
                if (!found(ex, r.alerts(), r.withheld())) {
                    failures.add(r.name() + ": not found: " + ex);
                }
            }
        }
        System.out.println("alerts opened per run (README, real runs):");
        System.out.print(opened);
        System.out.printf(
                "real runs: %d replayed, %d listed problems checked, %d failures%n",
                runs, expectations, failures.size());
        assertThat(runs).isEqualTo(16);
        assertThat(failures).isEmpty();
    }

    @Test
    void shouldReadEveryRealRunEventAlikeOnTheFastPathAndTheTreePath() throws Exception {
        int events = 0;
        int fast = 0;
        for (JsonNode run : RealRuns.index().get("runs")) {
            for (String line : RealRuns.events(run)) {
                events++;
                fast += io.trainwatch.event.FastPathEquivalence.assertSameAsTree(line) ? 1 : 0;
            }
        }
        System.out.printf("real-run events: %d, %d read by the fast path%n", events, fast);
        assertThat(fast).isGreaterThan(events / 2);
    }

    /**
     * A listed problem is found when an alert the detectors opened matches it: one sent, or one
     * folded into an incident that was sent (its step and kind then count in the incident's
     * occurrences and evidence).
     */
    private static boolean found(JsonNode ex, List<Alert> sent, List<Alert> folded) {
        List<Alert> alerts = new ArrayList<>(sent);
        alerts.addAll(folded);
        for (Alert a : alerts) {
            if (!Alert.OPEN.equals(a.status) || !a.kind.equals(ex.get("kind").asText())) {
                continue;
            }
            if (folded.contains(a)
                    && sent.stream().noneMatch(s -> s.incidentId.equals(a.incidentId))) {
                continue; // folded into an incident nobody saw
            }
            if (ex.has("diagnosis_starts")
                    && !a.diagnosis.startsWith(ex.get("diagnosis_starts").asText())) {
                continue;
            }
            if (ex.has("run_id") && !a.runId.equals(ex.get("run_id").asText())) {
                continue;
            }
            if (ex.has("onset_min") && a.onsetStep < ex.get("onset_min").asLong()) {
                continue;
            }
            if (ex.has("onset_max") && a.onsetStep > ex.get("onset_max").asLong()) {
                continue;
            }
            if (ex.has("severity") && !a.severity.equals(ex.get("severity").asText())) {
                continue;
            }
            // the diagnosis the alert settles on: its opening, or the one update that refines it
            Alert update = RunFixture.sameAlertWithStatus(alerts, a, Alert.UPDATE).orElse(null);
            if (ex.has("hypothesis")
                    && !ex.get("hypothesis")
                            .asText()
                            .equals(RunFixture.json(a.evidence).path("hypothesis").asText())
                    && (update == null
                            || !ex.get("hypothesis")
                                    .asText()
                                    .equals(
                                            RunFixture.json(update.evidence)
                                                    .path("hypothesis")
                                                    .asText()))) {
                continue;
            }
            Alert resolved = RunFixture.sameAlertWithStatus(alerts, a, Alert.RESOLVED).orElse(null);
            if (ex.path("never_resolved").asBoolean(false) && resolved != null) {
                continue;
            }
            if (ex.has("resolved_min")
                    && (resolved == null
                            || resolved.step < ex.get("resolved_min").asLong()
                            || resolved.step > ex.get("resolved_max").asLong())) {
                continue;
            }
            return true;
        }
        return false;
    }
}
