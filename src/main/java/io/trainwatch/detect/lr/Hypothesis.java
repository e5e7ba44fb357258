package io.trainwatch.detect.lr;

import java.util.List;

/**
 * One wiring bug that can make the reported LR differ from the declared schedule. It evaluates the
 * declared schedule as the bug would run it (closed form, so any step is O(1)) and says how much of
 * the trace that explains.
 */
interface Hypothesis {
    /**
     * The readings of the trace under this bug (usually one, none when it cannot apply), each with
     * its fit.
     */
    List<Reading> readings(Trace t);
}
