package io.trainwatch.detect;

import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;

import java.util.List;

/**
 * The starts of the suggestions several detectors give, one per action: the action and the numbers
 * that action always carries, in the same order wherever it is suggested. The caller puts the rest
 * (where to resume, the {@link TrainingFixes change}).
 */
final class Suggestions {
    private Suggestions() {}

    /** none: nothing to change in the training run. */
    static NamedValues.Builder none() {
        return NamedValues.builder().put("action", "none");
    }

    /** lower_lr: halve {@code currentLr}, the LR the run uses now. */
    static NamedValues.Builder halveLr(double currentLr) {
        return NamedValues.builder()
                .put("action", "lower_lr")
                .put("lr_factor", 0.5)
                .put("new_lr", Numbers.round3(currentLr * 0.5));
    }

    /**
     * {@code action} (rewind_and_skip, or inspect_batch when the batch is named): resume from
     * {@code rewindTo} without {@code batches}.
     */
    static NamedValues.Builder skipBatches(String action, long rewindTo, List<String> batches) {
        return NamedValues.builder()
                .put("action", action)
                .put("rewind_to_step", rewindTo)
                .put("skip_batches", batches);
    }
}
