package io.trainwatch.event;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.threshold.ThresholdOverrides;

import java.util.Arrays;
import java.util.Objects;

/**
 * One event of format v1, validated, as the monitor judges it. A Flink POJO (public fields, no-arg
 * constructor), though the job does not carry it between operators: it carries the raw record and
 * parses it once, behind the keyBy. Optional numbers are boxed: {@code null} = not reported; a
 * reported value may be NaN or infinite (that is what NON_FINITE detects). Fields not used by a
 * type stay null.
 */
public class TrainingEvent {
    public EventType type;
    public String runId;

    /** Optimizer step (step, run_end); -1 when absent. */
    public long step = -1;

    /** Epoch milliseconds, from ISO-8601 or epoch ms; null when absent. */
    public Long timeMillis;

    // step
    public Double loss;
    public Double gradNorm;

    /** LR per param group, as the trainer reports it. */
    public double[] lr;

    public Double epoch;

    /** Batch ids of this step, if the trainer reports them (to name suspect data). */
    public String[] batch;

    public Double lossScale;

    /**
     * Optimizer steps the LR scheduler has not followed so far (HF/accelerate skip
     * lr_scheduler.step() when fp16 skips the optimizer step): the declared LR of this step is the
     * schedule's at {@code step - schedulerLag}. 0..step; null = 0.
     */
    public Long schedulerLag;

    /**
     * Seconds this optimizer step took, as the trainer measured it (averaged over the logging
     * interval when it logs every k steps); finite and > 0; null = not reported (time per step is
     * then read from {@link #timeMillis}).
     */
    public Double stepTimeS;

    /** Tokens per optimizer step (finite, >= 0), for tokens/s; null = not reported. */
    public Double tokens;

    /** Samples per optimizer step (finite, >= 0), for samples/s; null = not reported. */
    public Double samples;

    // run_start
    /** The declared schedule, parsed and checked once at ingest. */
    public DeclaredSchedule schedule;

    public Double gradClip;
    public Integer gradAccumSteps;
    public Long stepsPerEpoch;
    public String optimizer;

    /**
     * What the run's own logs add to the optimizer step to number it (0 or 1; HF's {@code
     * global_step} is step + 1): alerts name step + step_base to a person. Null = not given (0).
     */
    public Integer stepBase;

    /** Per-run threshold overrides, each already checked against its range. */
    public ThresholdOverrides thresholds;

    // run_end
    public String status;

    public TrainingEvent() {}

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TrainingEvent e)) {
            return false;
        }
        return step == e.step
                && type == e.type
                && Objects.equals(runId, e.runId)
                && Objects.equals(timeMillis, e.timeMillis)
                && Objects.equals(loss, e.loss)
                && Objects.equals(gradNorm, e.gradNorm)
                && Arrays.equals(lr, e.lr)
                && Objects.equals(epoch, e.epoch)
                && Arrays.equals(batch, e.batch)
                && Objects.equals(lossScale, e.lossScale)
                && Objects.equals(schedulerLag, e.schedulerLag)
                && Objects.equals(stepTimeS, e.stepTimeS)
                && Objects.equals(tokens, e.tokens)
                && Objects.equals(samples, e.samples)
                && Objects.equals(schedule, e.schedule)
                && Objects.equals(gradClip, e.gradClip)
                && Objects.equals(gradAccumSteps, e.gradAccumSteps)
                && Objects.equals(stepsPerEpoch, e.stepsPerEpoch)
                && Objects.equals(optimizer, e.optimizer)
                && Objects.equals(stepBase, e.stepBase)
                && Objects.equals(thresholds, e.thresholds)
                && Objects.equals(status, e.status);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, runId, step);
    }

    @Override
    public String toString() {
        return type
                + "{run="
                + runId
                + ", step="
                + step
                + ", loss="
                + loss
                + ", gradNorm="
                + gradNorm
                + ", lr="
                + Arrays.toString(lr)
                + "}";
    }
}
