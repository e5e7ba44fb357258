package io.trainwatch.detect;

/**
 * Thins the per-step series of long runs ({@code --series-every N}): at most one point per run in
 * each block of N optimizer steps ({@code [kN, (k+1)N)}, the first one logged in it), except that a
 * step is always kept when
 *
 * <ul>
 *   <li>an alert is emitted at it, or a detector marked it as a possible alert step (a spike is
 *       reported at its own step once judged a step or two later), so every alert can be drawn on
 *       the curve it is about;
 *   <li>it is the first step after a resume (the step went backwards), so a dashboard shows the
 *       rewind.
 * </ul>
 *
 * Blocks are aligned to multiples of N rather than counted from the last kept point, so sparse
 * logging does not drift and two runs keep the same steps. State: one long per run ({@link
 * RunState#seriesBlock}).
 */
public final class SeriesSampler {
    private final long every;

    /**
     * @param every N: 1 keeps every step
     */
    public SeriesSampler(long every) {
        if (every < 1) {
            throw new IllegalArgumentException("series-every must be >= 1, got " + every);
        }
        this.every = every;
    }

    public long every() {
        return every;
    }

    /**
     * Whether the series point of {@code step} is written; records the decision in {@code run}.
     *
     * @param resumed the step went backwards (or repeated): a resume from a checkpoint
     * @param flagged an alert was emitted at this step, or a detector marked it as a possible alert
     *     step
     */
    public boolean keep(RunState run, long step, boolean resumed, boolean flagged) {
        if (every == 1) {
            return true;
        }
        long block = Math.floorDiv(step, every);
        boolean keep = flagged || resumed || block != run.seriesBlock;
        if (keep) {
            run.seriesBlock = block;
        }
        return keep;
    }
}
