package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link IncidentBook} on hand-made alerts: grouping, folding, cadence, escalation, quiet, cap. */
class IncidentBookTest {
    private final IncidentBook book = new IncidentBook();
    private final RunState run = new RunState();
    private final List<Alert> sent = new ArrayList<>();
    private final List<Alert> withheld = new ArrayList<>();
    private int capped;

    private void step(long step, Long time, Alert... alerts) {
        StepContext c =
                new StepContext(
                        "r",
                        step,
                        time,
                        null,
                        1.0,
                        1.0,
                        null,
                        null,
                        null,
                        false,
                        -1,
                        Thresholds.DEFAULTS,
                        run);
        IncidentBook.Withheld w = new IncidentBook.Withheld();
        sent.addAll(book.apply(c, new ArrayList<>(List.of(alerts)), w));
        withheld.addAll(w.alerts);
        capped += w.capped;
    }

    private void quiet(long from, long to) {
        for (long s = from; s <= to; s++) {
            step(s, null);
        }
    }

    private static Alert alert(
            AlertKind kind, Severity sev, String status, long onset, double ratio) {
        Alert a = new Alert();
        a.runId = "r";
        a.kind = kind.name();
        a.alertId = Alert.idFor("r", a.kind, onset);
        a.severity = sev.wire();
        a.status = status;
        a.step = onset;
        a.onsetStep = onset;
        a.message = kind + " at " + onset;
        a.evidence = NamedValues.builder().put("ratio_to_recent_median", ratio).build();
        return a;
    }

    /** A grad-norm spike at {@code s}, resolved 5 steps later. */
    private void spike(long s, double ratio) {
        step(s, null, alert(AlertKind.GRAD_EXPLOSION, Severity.WARNING, Alert.OPEN, s, ratio));
        step(
                s + 5,
                null,
                alert(AlertKind.GRAD_EXPLOSION, Severity.WARNING, Alert.RESOLVED, s, ratio));
    }

    private List<Alert> sent(String status) {
        return sent.stream().filter(a -> a.status.equals(status)).toList();
    }

    @Test
    void shouldFoldThirtySpikesIntoOneIncidentWithUpdatesAtTwoFourEightSixteen() {
        for (int i = 0; i < 30; i++) {
            spike(100 + 40L * i, i == 12 ? 193 : 6);
        }
        assertThat(sent(Alert.OPEN)).hasSize(1);
        Alert open = sent(Alert.OPEN).get(0);
        assertThat(open.incidentId).isEqualTo(open.alertId).isEqualTo("r/GRAD_EXPLOSION/100");
        assertThat(open.occurrences).isEqualTo(1);
        assertThat(sent(Alert.UPDATE)).extracting(a -> a.occurrences).containsExactly(2, 4, 8, 16);
        assertThat(sent(Alert.UPDATE)).allMatch(a -> a.alertId.equals(open.alertId));
        Alert last = sent(Alert.UPDATE).get(3);
        assertThat(last.message)
                .contains("16 grad-norm spikes since step 100")
                .contains("worst 193x the median grad norm (step 580)");
        assertThat(RunFixture.json(last.evidence).path("incident_occurrences").asInt())
                .isEqualTo(16);
        assertThat(withheld).filteredOn(a -> a.status.equals(Alert.OPEN)).hasSize(29);
        assertThat(sent(Alert.RESOLVED)).isEmpty();
        // quiet: resolved once, under the opening alert_id, 600 steps after the last spike resolved
        quiet(1300, 1900);
        long lastResolved = 100 + 40 * 29 + 5;
        assertThat(sent(Alert.RESOLVED))
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.alertId).isEqualTo(open.alertId);
                            assertThat(r.step).isEqualTo(lastResolved + 600);
                            assertThat(r.occurrences).isEqualTo(30);
                        });
        assertThat(book.isOpen()).isFalse();
    }

    @Test
    void shouldSendAKindsFirstOccurrenceOnceAndFoldItsRepeatsIntoTheUpdates() {
        spike(100, 6);
        step(130, null, alert(AlertKind.LOSS_SPIKE, Severity.WARNING, Alert.OPEN, 130, 2));
        // a loss spike brings its own diagnosis and fix: sent once, as part of the incident
        assertThat(sent(Alert.OPEN))
                .extracting(a -> a.kind)
                .containsExactly("GRAD_EXPLOSION", "LOSS_SPIKE");
        assertThat(sent(Alert.OPEN).get(1).incidentId).isEqualTo("r/GRAD_EXPLOSION/100");
        assertThat(sent(Alert.OPEN).get(1).occurrences).isEqualTo(2);
        step(160, null, alert(AlertKind.LOSS_SPIKE, Severity.WARNING, Alert.OPEN, 160, 2));
        step(190, null, alert(AlertKind.LOSS_SPIKE, Severity.WARNING, Alert.OPEN, 190, 2));
        // its repeats fold; the 4th occurrence is an update naming both kinds
        assertThat(sent(Alert.OPEN)).hasSize(2);
        assertThat(sent(Alert.UPDATE))
                .singleElement()
                .satisfies(
                        u -> {
                            assertThat(u.kind).isEqualTo("GRAD_EXPLOSION");
                            assertThat(u.occurrences).isEqualTo(4);
                            assertThat(u.message).contains("3 loss spikes and 1 grad-norm spike");
                        });
    }

    @Test
    void shouldSendAnEscalationAsItsOwnAlertOfTheIncidentAndItsLifecycleToo() {
        spike(100, 6);
        Alert nan = alert(AlertKind.NON_FINITE, Severity.CRITICAL, Alert.OPEN, 150, 0);
        step(150, null, nan);
        assertThat(sent(Alert.OPEN)).hasSize(2);
        Alert esc = sent(Alert.OPEN).get(1);
        assertThat(esc.kind).isEqualTo("NON_FINITE");
        assertThat(esc.severity).isEqualTo("critical");
        assertThat(esc.incidentId).isEqualTo("r/GRAD_EXPLOSION/100");
        assertThat(esc.occurrences).isEqualTo(2);
        assertThat(book.severity).isEqualTo("critical");
        step(155, null, alert(AlertKind.NON_FINITE, Severity.CRITICAL, Alert.RESOLVED, 150, 0));
        assertThat(sent(Alert.RESOLVED)).extracting(a -> a.alertId).containsExactly(nan.alertId);
        // a further critical of the same kind folds; the incident still resolves once
        quiet(156, 800);
        assertThat(sent(Alert.RESOLVED))
                .extracting(a -> a.alertId)
                .containsExactly(nan.alertId, "r/GRAD_EXPLOSION/100");
    }

    @Test
    void shouldTurnAFoldedOccurrencesCriticalUpdateIntoItsOpening() {
        spike(100, 6);
        step(140, null, alert(AlertKind.GRAD_EXPLOSION, Severity.WARNING, Alert.OPEN, 140, 6));
        step(142, null, alert(AlertKind.GRAD_EXPLOSION, Severity.CRITICAL, Alert.UPDATE, 140, 200));
        assertThat(sent(Alert.OPEN))
                .extracting(a -> a.alertId + " " + a.severity)
                .containsExactly("r/GRAD_EXPLOSION/100 warning", "r/GRAD_EXPLOSION/140 critical");
    }

    @Test
    void shouldPassTheOpeningAlertsOwnUpdateAsTheEscalation() {
        step(100, null, alert(AlertKind.GRAD_EXPLOSION, Severity.WARNING, Alert.OPEN, 100, 6));
        step(102, null, alert(AlertKind.GRAD_EXPLOSION, Severity.CRITICAL, Alert.UPDATE, 100, 90));
        assertThat(sent(Alert.UPDATE))
                .singleElement()
                .satisfies(u -> assertThat(u.severity).isEqualTo("critical"));
        assertThat(book.severity).isEqualTo("critical");
    }

    @Test
    void shouldOpenANewIncidentForASpikeLongAfterTheLastEpisode() {
        spike(100, 6);
        quiet(106, 400);
        spike(1000, 6); // more than incident_window_steps after the last occurrence
        assertThat(sent(Alert.OPEN))
                .extracting(a -> a.incidentId)
                .containsExactly("r/GRAD_EXPLOSION/100", "r/GRAD_EXPLOSION/1000");
        assertThat(sent(Alert.RESOLVED))
                .extracting(a -> a.alertId)
                .containsExactly("r/GRAD_EXPLOSION/100");
    }

    @Test
    void shouldKeepAnLrMismatchItsOwnIncidentBesideAnInstabilityOne() {
        spike(100, 6);
        Alert lr = alert(AlertKind.LR_MISMATCH, Severity.WARNING, Alert.OPEN, 110, 0);
        step(110, null, lr);
        step(120, null, alert(AlertKind.LR_MISMATCH, Severity.WARNING, Alert.RESOLVED, 110, 0));
        assertThat(sent)
                .filteredOn(a -> a.kind.equals("LR_MISMATCH"))
                .extracting(a -> a.status + " " + a.incidentId + " " + a.occurrences)
                .containsExactly("open r/LR_MISMATCH/110 1", "resolved r/LR_MISMATCH/110 1");
        assertThat(book.incidentId).isEqualTo("r/GRAD_EXPLOSION/100");
    }

    @Test
    void shouldCapNewIncidentsPerHourOfEventTimeAndSayHowManyInTheNextAlert() {
        long t0 = 1_000_000_000L;
        for (int i = 0; i < 12; i++) {
            long s = 100 + i * 10L;
            step(s, t0 + i * 60_000L, alert(AlertKind.STALL, Severity.INFO, Alert.OPEN, s, 0));
            step(
                    s + 1,
                    t0 + i * 60_000L,
                    alert(AlertKind.STALL, Severity.INFO, Alert.RESOLVED, s, 0));
        }
        assertThat(sent(Alert.OPEN)).hasSize(10);
        assertThat(sent(Alert.RESOLVED)).hasSize(10); // a capped alert's resolution is not sent
        assertThat(capped).isEqualTo(2);
        assertThat(book.cappedTotal).isEqualTo(2);
        // critical is never capped
        step(
                300,
                t0 + 13 * 60_000L,
                alert(AlertKind.DIVERGENCE, Severity.CRITICAL, Alert.OPEN, 300, 0));
        Alert crit = sent(Alert.OPEN).get(10);
        assertThat(crit.kind).isEqualTo("DIVERGENCE");
        assertThat(RunFixture.json(crit.evidence).path("incidents_capped").asInt()).isEqualTo(2);
        // an hour later the window starts again
        step(400, t0 + 3_700_000L, alert(AlertKind.STALL, Severity.INFO, Alert.OPEN, 400, 0));
        assertThat(sent(Alert.OPEN)).hasSize(12);
    }

    @Test
    void shouldCapPerTenThousandStepsWithoutTime() {
        for (int i = 0; i < 11; i++) {
            long s = 100 + i * 10L;
            step(s, null, alert(AlertKind.STALL, Severity.INFO, Alert.OPEN, s, 0));
            step(s + 1, null, alert(AlertKind.STALL, Severity.INFO, Alert.RESOLVED, s, 0));
        }
        assertThat(capped).isEqualTo(1);
        step(
                100 + IncidentBook.CAP_WINDOW_STEPS_WITHOUT_TIME,
                null,
                alert(AlertKind.STALL, Severity.INFO, Alert.OPEN, 10_100, 0));
        assertThat(sent(Alert.OPEN)).hasSize(11);
        assertThat(capped).isEqualTo(1);
    }
}
