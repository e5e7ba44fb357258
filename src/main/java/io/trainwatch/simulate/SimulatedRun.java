package io.trainwatch.simulate;

import java.util.List;

/**
 * A generated run: its v1 event lines (run_start first), the injected fault, and where the fault
 * first becomes observable (the earliest step any detector could act on): its optimizer step and
 * the index of that step event among the run's step events (steps repeat after a resume, indexes do
 * not); -1 if none. {@code faultStartEventIndex} is where the injected change begins (a gradient
 * climb before a NaN starts before the NaN is observable); alerts of the kinds the fault allows are
 * legitimate from there on.
 */
public record SimulatedRun(
        String runId,
        Fault fault,
        long onsetStep,
        int onsetEventIndex,
        int faultStartEventIndex,
        List<String> events,
        String description) {}
