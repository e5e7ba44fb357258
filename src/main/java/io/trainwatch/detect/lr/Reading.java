package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.List;
import java.util.StringJoiner;

/**
 * One reading of an LR trace: which wiring bug, what the alert says about it, and how much of the
 * trace it explains.
 *
 * @param numbers name/value pairs that go into the alert's evidence and suggestion
 * @param declaredFactor a stretch by a factor the run itself declared (steps per epoch,
 *     accumulation): the most specific reading
 * @param tied signatures of every reading that explains the trace as well as this one (itself
 *     included)
 */
public record Reading(
        HypothesisKind kind,
        String summary,
        String diagnosis,
        String change,
        double fit,
        NamedValues numbers,
        boolean declaredFactor,
        List<String> tied) {

    Reading(
            HypothesisKind kind,
            String summary,
            String diagnosis,
            String change,
            double fit,
            NamedValues numbers) {
        this(kind, summary, diagnosis, change, fit, numbers, false, List.of());
    }

    Reading(
            HypothesisKind kind,
            String summary,
            String diagnosis,
            String change,
            double fit,
            NamedValues numbers,
            boolean declaredFactor) {
        this(kind, summary, diagnosis, change, fit, numbers, declaredFactor, List.of());
    }

    /**
     * What the alert says, kind and numbers: an update is worth sending only when this changes.
     * Kept in the monitor's state, so its form ({@code offset_behind[offset_steps, -3]}) must not
     * change.
     */
    public String signature() {
        StringJoiner s = new StringJoiner(", ", "[", "]");
        for (int i = 0; i < numbers.size(); i++) {
            s.add(numbers.name(i)).add(String.valueOf(numbers.value(i)));
        }
        return kind.hypothesis + s;
    }

    /** Lower is preferred among equally good readings. */
    int preference() {
        return declaredFactor ? -1 : kind.rank;
    }
}
