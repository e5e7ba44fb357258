package io.trainwatch.report;

import java.time.Instant;

/**
 * One logged optimizer step of a run, as the per-step series holds it. A null field was not logged;
 * NaN and ±Infinity are values the trainer reported. LR arrays hold one value per param group
 * ({@code scheduledLr} is null without a declared schedule). Arrays are not copied: treat them as
 * read-only.
 */
public record StepPoint(
        long step,
        Instant time,
        double[] actualLr,
        double[] scheduledLr,
        Double loss,
        Double lossMean,
        Double gradNorm,
        Double suggestedClip) {}
