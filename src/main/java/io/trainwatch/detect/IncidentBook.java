package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Folds one run's alerts into incidents, so that one bad episode pages once. Applied by {@link
 * RunMonitor} to the alerts the detectors return for a step, before they leave. A Flink POJO, part
 * of {@link RunState}: a fixed handful of fields, whatever the run's length.
 *
 * <p><b>Groups</b> ({@link AlertKind#incidentGroup()}): the instability kinds (WARMUP_SPIKE,
 * LOSS_SPIKE, GRAD_EXPLOSION, DIVERGENCE, NON_FINITE) are one group; every other kind is its own.
 *
 * <p><b>Instability incidents</b> (episodic): the first instability alert opens the incident and is
 * sent as it is, with {@code incident_id} = its own alert_id and {@code occurrences} = 1. A later
 * instability alert while the incident is open (its last occurrence within {@code
 * incident_window_steps}) is an occurrence: counted, its worst figure kept, and not sent. The
 * incident sends an UPDATE, under the opening alert's alert_id, when its count reaches 2, 4, 8, 16,
 * ... (30 spikes: 4 updates, not 30 alerts), and its opening alert's own update passes through.
 * Escalation: an occurrence, or an occurrence's update, that is more severe than the incident so
 * far, or critical of a kind not yet critical in it, is sent as that alert's OPEN (kind and
 * alert_id its own, so a NaN loss after spikes stays a critical NON_FINITE and a divergence after a
 * loss spike a DIVERGENCE), with the incident's id and count; its own lifecycle (update, RESOLVED)
 * is then sent too. (A detector keeps one open alert per kind, so "the open alert of that kind"
 * identifies it.) The incident resolves once quiet: every occurrence's condition resolved and none
 * for {@code incident_window_steps} steps; one RESOLVED under the opening alert_id.
 *
 * <p><b>Other kinds</b> (persistent conditions with their own hysteresis) are one incident per
 * alert: {@code incident_id} = alert_id, occurrences 1, lifecycle unchanged.
 *
 * <p><b>Cap</b>: at most {@code max_incidents_per_hour} new incidents per run per hour of event
 * time (per {@link #CAP_WINDOW_STEPS_WITHOUT_TIME} steps when events carry no time), counted from
 * the first incident of the window. A non-critical incident beyond it is not sent (nor anything of
 * it, unless it turns critical: then its alert is sent as an OPEN); it is counted in the next alert
 * sent ({@code evidence.incidents_capped}) and in the job metric. Critical alerts are never capped:
 * critical means the run is losing work now.
 *
 * <p>At run_end nothing is closed, as with the detectors' own alerts (a run's last incident stays
 * open, as its last alerts did).
 */
public class IncidentBook {
    /**
     * Occurrences are counted per kind only for the episodic kinds, the only ones that fold: the
     * arrays run up to the last of them by ordinal (state is kept small, see StateAndTypesTest).
     */
    static final int COUNTED_KINDS =
            Arrays.stream(AlertKind.values())
                            .filter(AlertKind::episodic)
                            .mapToInt(Enum::ordinal)
                            .max()
                            .orElse(-1)
                    + 1;

    /** The cap's window when events carry no time: about an hour of a fast run. */
    public static final long CAP_WINDOW_STEPS_WITHOUT_TIME = 10_000;

    static final long HOUR_MILLIS = 3_600_000L;

    /** The open instability incident: the opening alert's alert_id, or null when none is open. */
    public String incidentId;

    public String openingKind;
    public String severity;
    public long onsetStep = -1;

    /** Step of the last occurrence (when it was raised); quiet is measured from it. */
    public long lastOccurrenceStep = -1;

    /** Step of the last occurrence or of the last member condition resolving. */
    public long quietFromStep = -1;

    public int occurrences;

    /** Occurrences by {@link AlertKind} ordinal. */
    public int[] kindCounts = new int[COUNTED_KINDS];

    /** Onset step of the last occurrence by {@link AlertKind} ordinal (-1: none). */
    public long[] kindLastSteps = new long[COUNTED_KINDS];

    /** Worst figure so far (see {@link #figure}), its kind and onset step. */
    public double worst = Double.NaN;

    public String worstKind;
    public long worstStep = -1;

    /** Occurrences whose condition has not resolved yet. */
    public int openMembers;

    /** The incident was over the cap: nothing of it is sent unless it turns critical. */
    public boolean capped;

    /**
     * Kinds (bits by ordinal) whose open alert was sent as an escalation: its own update and
     * RESOLVED are sent too.
     */
    public long sentKinds;

    /** Kinds (bits by ordinal) that were critical in this incident. */
    public long criticalKinds;

    // the cap
    public long capWindowStartMillis = -1;
    public long capWindowStartStep = -1;
    public int incidentsInCapWindow;

    /** Incidents capped since the last alert sent (reported in its evidence). */
    public int cappedUnreported;

    public long cappedTotal;

    /** Kinds (bits by ordinal) of own-group alerts that are open but were capped. */
    public long cappedKinds;

    public IncidentBook() {
        Arrays.fill(kindLastSteps, -1);
    }

    /** What applying the book to a step's alerts did besides the alerts it sends. */
    public static final class Withheld {
        /** Alerts not sent: occurrences folded into an incident, and capped ones. */
        public final List<Alert> alerts = new ArrayList<>(0);

        public int folded;
        public int capped;
    }

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(IncidentBook other) {
        incidentId = other.incidentId;
        openingKind = other.openingKind;
        severity = other.severity;
        onsetStep = other.onsetStep;
        lastOccurrenceStep = other.lastOccurrenceStep;
        quietFromStep = other.quietFromStep;
        occurrences = other.occurrences;
        kindCounts = ArrayCopy.into(other.kindCounts, kindCounts);
        kindLastSteps = ArrayCopy.into(other.kindLastSteps, kindLastSteps);
        worst = other.worst;
        worstKind = other.worstKind;
        worstStep = other.worstStep;
        openMembers = other.openMembers;
        capped = other.capped;
        sentKinds = other.sentKinds;
        criticalKinds = other.criticalKinds;
        capWindowStartMillis = other.capWindowStartMillis;
        capWindowStartStep = other.capWindowStartStep;
        incidentsInCapWindow = other.incidentsInCapWindow;
        cappedUnreported = other.cappedUnreported;
        cappedTotal = other.cappedTotal;
        cappedKinds = other.cappedKinds;
    }

    public boolean isOpen() {
        return incidentId != null;
    }

    /**
     * The alerts to send for this step's {@code alerts} (the detectors', in order), and the
     * incident's RESOLVED if it fell quiet; what is not sent goes to {@code withheld}.
     */
    public List<Alert> apply(StepContext c, List<Alert> alerts, Withheld withheld) {
        List<Alert> out = alerts.isEmpty() ? alerts : new ArrayList<>(alerts.size());
        for (Alert a : alerts) {
            AlertKind kind = kindOf(a);
            if (kind != null && kind.episodic()) {
                episodic(c, a, kind, out, withheld);
            } else {
                own(c, a, kind, out, withheld);
            }
        }
        if (isOpen()
                && openMembers <= 0
                && c.step - quietFromStep >= c.thInt(Threshold.INCIDENT_WINDOW_STEPS)) {
            out = mutable(out);
            close(c, out);
        }
        return out;
    }

    /** Sends the incident's RESOLVED (unless it was capped) and forgets it. */
    private void close(StepContext c, List<Alert> out) {
        Alert r = capped ? null : resolved(c);
        clear();
        if (r != null) {
            out.add(sent(r));
        }
    }

    private static long bit(AlertKind kind) {
        return kind == null ? 0 : 1L << (kind.ordinal() & 63);
    }

    /**
     * Marks an alert raised outside a step (the live silence check, a run_end, a monitor error) as
     * its own incident: those kinds group with no other, and the cap never holds back a critical.
     */
    static Alert ownIncident(Alert a) {
        a.incidentId = a.alertId;
        a.occurrences = 1;
        return a;
    }

    private void own(StepContext c, Alert a, AlertKind kind, List<Alert> out, Withheld w) {
        long bit = bit(kind);
        ownIncident(a);
        if (Alert.OPEN.equals(a.status)) {
            if (overCap(c, a)) {
                cappedKinds |= bit;
                capped(w, a);
                return;
            }
            cappedKinds &= ~bit;
            countIncident();
            out.add(sent(a));
            return;
        }
        if ((cappedKinds & bit) != 0) {
            if (Alert.UPDATE.equals(a.status) && isCritical(a.severity)) {
                cappedKinds &= ~bit; // critical is never capped: the reader sees it open now
                a.status = Alert.OPEN;
                out.add(sent(a));
                return;
            }
            if (Alert.RESOLVED.equals(a.status)) {
                cappedKinds &= ~bit;
            }
            w.alerts.add(a);
            return;
        }
        out.add(sent(a));
    }

    private void episodic(StepContext c, Alert a, AlertKind kind, List<Alert> out, Withheld w) {
        boolean open = Alert.OPEN.equals(a.status);
        if (open
                && isOpen()
                && openMembers <= 0
                && c.step - lastOccurrenceStep > c.thInt(Threshold.INCIDENT_WINDOW_STEPS)) {
            // its conditions are over and this comes later than the window: a new episode
            close(c, out);
        }
        if (!isOpen()) {
            if (!open) {
                // the lifecycle of an alert whose incident is gone (a state from before incidents)
                a.incidentId = a.alertId;
                a.occurrences = 1;
                out.add(sent(a));
                return;
            }
            start(c, a, kind);
            a.incidentId = a.alertId;
            a.occurrences = 1;
            if (overCap(c, a)) {
                capped = true;
                capped(w, a);
                return;
            }
            countIncident();
            out.add(sent(a));
            return;
        }
        if (open) {
            occur(c, a, kind);
            a.incidentId = incidentId;
            a.occurrences = occurrences;
            if (escalates(a, kind) || (!capped && firstOfItsKind(kind))) {
                escalate(a, kind, out);
            } else if (!capped && Integer.bitCount(occurrences) == 1) {
                w.alerts.add(a);
                w.folded++;
                out.add(sent(update(c, a)));
            } else {
                w.alerts.add(a);
                w.folded++;
            }
            return;
        }
        a.incidentId = incidentId;
        a.occurrences = occurrences;
        boolean resolved = Alert.RESOLVED.equals(a.status);
        if (resolved) {
            openMembers = Math.max(0, openMembers - 1);
            quietFromStep = Math.max(quietFromStep, c.step);
        }
        long bit = bit(kind);
        if (!a.alertId.equals(incidentId) && (sentKinds & bit) != 0) {
            if (resolved) {
                sentKinds &= ~bit;
            }
            if (isCritical(a.severity)) {
                criticalKinds |= bit;
                severity = rank(a.severity) > rank(severity) ? a.severity : severity;
            }
            out.add(sent(a));
            return;
        }
        if (resolved) {
            w.alerts.add(a); // the incident resolves as a whole, once quiet
            w.folded++;
            return;
        }
        // an update
        if (a.alertId.equals(incidentId) && !capped) {
            severity = rank(a.severity) > rank(severity) ? a.severity : severity;
            if (isCritical(a.severity)) {
                criticalKinds |= bit;
            }
            out.add(sent(withIncidentFigures(a)));
        } else if (escalates(a, kind)) {
            a.status = Alert.OPEN; // its opening was folded: this is the reader's first sight of it
            escalate(a, kind, out);
        } else {
            w.alerts.add(a);
            w.folded++;
        }
    }

    /** More severe than the incident so far, or critical of a kind not yet critical in it. */
    private boolean escalates(Alert a, AlertKind kind) {
        return rank(a.severity) > rank(severity)
                || (isCritical(a.severity) && (criticalKinds & bit(kind)) == 0);
    }

    /**
     * The first occurrence of a kind other than the opening one (a warmup spike in a grad-explosion
     * incident): it brings its own diagnosis and fix, so it is sent once, as its own alert with the
     * incident's id; its repeats fold.
     */
    private boolean firstOfItsKind(AlertKind kind) {
        return !kind.name().equals(openingKind) && kindCounts[kind.ordinal()] == 1;
    }

    /** An escalating occurrence, or a kind's first: sent as its own alert. */
    private void escalate(Alert a, AlertKind kind, List<Alert> out) {
        severity = rank(a.severity) > rank(severity) ? a.severity : severity;
        sentKinds |= bit(kind);
        if (isCritical(a.severity)) {
            criticalKinds |= bit(kind);
        }
        if (capped) {
            capped = false; // now it is worth a page
            countIncident();
        }
        out.add(sent(withIncidentFigures(a)));
    }

    private void start(StepContext c, Alert a, AlertKind kind) {
        clear();
        incidentId = a.alertId;
        openingKind = a.kind;
        severity = a.severity;
        criticalKinds = isCritical(a.severity) ? bit(kind) : 0;
        onsetStep = a.onsetStep;
        occur(c, a, kind);
    }

    private void occur(StepContext c, Alert a, AlertKind kind) {
        occurrences++;
        openMembers++;
        lastOccurrenceStep = Math.max(lastOccurrenceStep, c.step);
        quietFromStep = Math.max(quietFromStep, c.step);
        int k = kind.ordinal();
        if (k < kindCounts.length) {
            kindCounts[k]++;
            kindLastSteps[k] = a.onsetStep;
        }
        double f = figure(a);
        if (!Double.isNaN(f) && (Double.isNaN(worst) || f > worst)) {
            worst = f;
            worstKind = a.kind;
            worstStep = a.onsetStep;
        }
    }

    private void clear() {
        incidentId = null;
        openingKind = null;
        severity = null;
        onsetStep = -1;
        lastOccurrenceStep = -1;
        quietFromStep = -1;
        occurrences = 0;
        Arrays.fill(kindCounts, 0);
        Arrays.fill(kindLastSteps, -1);
        worst = Double.NaN;
        worstKind = null;
        worstStep = -1;
        openMembers = 0;
        capped = false;
        sentKinds = 0;
        criticalKinds = 0;
    }

    /** The incident's update for a folded occurrence {@code a}: its count reached a power of 2. */
    private Alert update(StepContext c, Alert a) {
        Alert u = incidentAlert(c, Alert.UPDATE);
        u.message =
                "Step "
                        + c.display(a.step)
                        + ": "
                        + summary()
                        + " since step "
                        + c.display(onsetStep)
                        + worstText(c)
                        + ". Latest: "
                        + a.message;
        u.diagnosis = a.diagnosis;
        u.evidence = figures(evidenceOf(a)).build();
        u.suggestion = a.suggestion;
        return u;
    }

    private Alert resolved(StepContext c) {
        Alert r = incidentAlert(c, Alert.RESOLVED);
        r.message =
                "incident over: "
                        + summary()
                        + " from step "
                        + c.display(onsetStep)
                        + " to step "
                        + c.display(lastOccurrenceStep)
                        + worstText(c)
                        + "; quiet for "
                        + (c.step - quietFromStep)
                        + " steps";
        r.diagnosis = "condition cleared";
        r.evidence = figures(NamedValues.builder()).build();
        r.suggestion = Suggestions.none().build();
        return r;
    }

    private Alert incidentAlert(StepContext c, String status) {
        Alert u = new Alert();
        u.alertId = incidentId;
        u.incidentId = incidentId;
        u.runId = c.runId;
        u.kind = openingKind;
        u.severity = severity;
        u.status = status;
        u.occurrences = occurrences;
        u.step = c.step;
        u.displayStep = c.displayStep();
        u.onsetStep = onsetStep;
        u.timeMillis = c.timeMillis;
        return u;
    }

    private Alert withIncidentFigures(Alert a) {
        if (occurrences > 1) {
            a.evidence = figures(evidenceOf(a)).build();
        }
        return a;
    }

    private NamedValues.Builder figures(NamedValues.Builder b) {
        b.put("incident_occurrences", occurrences)
                .put("incident_onset_step", onsetStep)
                .put("occurrences_by_kind", byKind());
        if (!Double.isNaN(worst)) {
            b.put("incident_worst", worst)
                    .put("incident_worst_kind", worstKind)
                    .put("incident_worst_step", worstStep);
        }
        return b;
    }

    /** "GRAD_EXPLOSION 14 (last at step 1840), LOSS_SPIKE 2 (last at step 1200)". */
    private String byKind() {
        StringBuilder b = new StringBuilder();
        AlertKind[] kinds = AlertKind.values();
        for (int k = 0; k < kindCounts.length && k < kinds.length; k++) {
            if (kindCounts[k] > 0) {
                b.append(b.length() == 0 ? "" : ", ")
                        .append(kinds[k].name())
                        .append(' ')
                        .append(kindCounts[k])
                        .append(" (last at step ")
                        .append(kindLastSteps[k])
                        .append(')');
            }
        }
        return b.toString();
    }

    /** "14 grad-norm spikes and 2 loss spikes". */
    String summary() {
        List<String> parts = new ArrayList<>();
        AlertKind[] kinds = AlertKind.values();
        for (int k = 0; k < kindCounts.length && k < kinds.length; k++) {
            if (kindCounts[k] > 0) {
                parts.add(kindCounts[k] + " " + noun(kinds[k], kindCounts[k] > 1));
            }
        }
        if (parts.size() <= 1) {
            return parts.isEmpty() ? occurrences + " alerts" : parts.get(0);
        }
        return String.join(", ", parts.subList(0, parts.size() - 1))
                + " and "
                + parts.get(parts.size() - 1);
    }

    private String worstText(StepContext c) {
        if (Double.isNaN(worst)) {
            return "";
        }
        return Double.isInfinite(worst)
                ? ", worst non-finite (step " + c.display(worstStep) + ")"
                : ", worst "
                        + Numbers.fmt(worst)
                        + "x the median "
                        + (AlertKind.GRAD_EXPLOSION.name().equals(worstKind) ? "grad norm" : "loss")
                        + " (step "
                        + c.display(worstStep)
                        + ")";
    }

    private static String noun(AlertKind k, boolean plural) {
        String s =
                switch (k) {
                    case GRAD_EXPLOSION -> "grad-norm spike";
                    case LOSS_SPIKE -> "loss spike";
                    case WARMUP_SPIKE -> "warmup spike";
                    case NON_FINITE -> "non-finite step";
                    case DIVERGENCE -> "divergence";
                    default -> k.name() + " alert";
                };
        return plural ? s + "s" : s;
    }

    /**
     * How bad one occurrence is, comparable across the instability kinds: the grad norm or the loss
     * as a multiple of its running median; +infinity for a non-finite value; NaN when the evidence
     * says neither.
     */
    static double figure(Alert a) {
        if (AlertKind.NON_FINITE.name().equals(a.kind)) {
            return Double.POSITIVE_INFINITY;
        }
        Double ratio = number(a.evidence, "ratio_to_recent_median");
        if (ratio == null) {
            ratio = number(a.evidence, "rise_ratio");
        }
        if (ratio == null) {
            Double loss = number(a.evidence, "loss");
            Double median = number(a.evidence, "running_median");
            if (loss != null && median != null && median > 0) {
                ratio = loss / median;
            }
        }
        return ratio == null ? Double.NaN : ratio;
    }

    private static Double number(NamedValues v, String name) {
        if (v == null) {
            return null;
        }
        for (int i = 0; i < v.size(); i++) {
            if (v.name(i).equals(name) && v.value(i) instanceof Number n) {
                return n.doubleValue();
            }
        }
        return null;
    }

    /** Whether a new incident opened by {@code a} is over the cap (critical never is). */
    private boolean overCap(StepContext c, Alert a) {
        if (isCritical(a.severity)) {
            return false;
        }
        if (c.timeMillis != null) {
            long t = c.timeMillis;
            if (capWindowStartMillis < 0
                    || t < capWindowStartMillis
                    || t - capWindowStartMillis >= HOUR_MILLIS) {
                capWindowStartMillis = t;
                incidentsInCapWindow = 0;
            }
        } else if (capWindowStartStep < 0
                || c.step < capWindowStartStep
                || c.step - capWindowStartStep >= CAP_WINDOW_STEPS_WITHOUT_TIME) {
            capWindowStartStep = c.step;
            incidentsInCapWindow = 0;
        }
        return incidentsInCapWindow >= c.thInt(Threshold.MAX_INCIDENTS_PER_HOUR);
    }

    private void countIncident() {
        incidentsInCapWindow++;
    }

    private void capped(Withheld w, Alert a) {
        w.alerts.add(a);
        w.capped++;
        cappedUnreported++;
        cappedTotal++;
    }

    /** {@code a}, telling the reader of the incidents capped since the last alert sent. */
    private Alert sent(Alert a) {
        if (cappedUnreported > 0) {
            a.evidence =
                    evidenceOf(a)
                            .put("incidents_capped", cappedUnreported)
                            .put("incidents_capped_total", cappedTotal)
                            .build();
            cappedUnreported = 0;
        }
        return a;
    }

    private static NamedValues.Builder evidenceOf(Alert a) {
        NamedValues.Builder b = NamedValues.builder();
        return a.evidence == null ? b : b.putAll(a.evidence);
    }

    private static AlertKind kindOf(Alert a) {
        try {
            return AlertKind.valueOf(a.kind);
        } catch (IllegalArgumentException | NullPointerException ex) {
            return null;
        }
    }

    private static boolean isCritical(String severity) {
        return Severity.CRITICAL.wire().equals(severity);
    }

    /** info 0, warning 1, critical 2. */
    static int rank(String severity) {
        if (Severity.CRITICAL.wire().equals(severity)) {
            return 2;
        }
        return Severity.WARNING.wire().equals(severity) ? 1 : 0;
    }

    private static List<Alert> mutable(List<Alert> l) {
        return l instanceof ArrayList ? l : new ArrayList<>(l);
    }
}
