package io.trainwatch.detect.lr;

import io.trainwatch.event.NamedValues;

import java.util.ArrayList;
import java.util.List;

/**
 * The scheduler started again from step 0 when the run resumed: actual(s) = declared(s - r), one
 * reading per resume.
 */
final class RestartedOnResume implements Hypothesis {
    @Override
    public List<Reading> readings(Trace t) {
        List<Reading> out = new ArrayList<>();
        long[] steps = t.steps();
        double[] actual = t.lrs();
        for (long firstAfter : t.resumeSteps()) {
            if (firstAfter <= 0) {
                continue;
            }
            // the first step logged after the resume is known; the step the scheduler restarted at
            // is at most one
            // logging interval before it
            int hits = -1;
            int considered = 0;
            long r = firstAfter;
            for (long back = 0;
                    back <= ConstantOffset.MAX_OFFSET_STEPS && back < firstAfter;
                    back++) {
                long candidate = firstAfter - back;
                int h = 0;
                int cnt = 0;
                for (int j = 0; j < steps.length; j++) {
                    if (steps[j] >= firstAfter) {
                        cnt++;
                        h += t.matches(actual[j], t.declaredAt(steps[j] - candidate)) ? 1 : 0;
                    }
                }
                if (h > hits) {
                    hits = h;
                    considered = cnt;
                    r = candidate;
                }
            }
            if (considered >= 2) {
                out.add(
                        new Reading(
                                HypothesisKind.RESTARTED_ON_RESUME,
                                "the schedule restarted from its beginning at step " + t.display(r),
                                "the scheduler started over from its first step when the run resumed at step "
                                        + t.display(r)
                                        + " (its state, last_epoch, was not restored)",
                                SchedulerFixes.restoreSchedulerState(r),
                                (double) hits / considered,
                                NamedValues.builder().put("resume_step", r).build()));
            }
        }
        return out;
    }
}
