package io.trainwatch.detect;

import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.threshold.Threshold;
import io.trainwatch.threshold.Thresholds;

/**
 * What every detector needs to judge one step, computed once by {@link RunMonitor}: the step's
 * values, the declared schedule's expectation, where the warmup ends, the thresholds in force, and
 * the run's shared statistics as they were before this step.
 */
public final class StepContext {
    public final String runId;
    public final long step;
    public final Long timeMillis;
    public final TrainingEvent event;
    public final double loss;
    public final Double gradNorm;
    public final double[] lr;

    /** Null without a declared schedule. */
    public final DeclaredSchedule schedule;

    /**
     * Scheduled LR per group at this step (for an adaptive schedule, the highest allowed); null
     * without a schedule.
     */
    public final double[] scheduled;

    /** True while the LR is still ramping up (declared schedule, else the reported LR rising). */
    public final boolean inWarmup;

    /** First step after warmup, or -1 if unknown. */
    public final long warmupEndStep;

    public final Thresholds thresholds;
    public final RunState run;

    /**
     * Where the LR scheduler is: the step less the steps it skipped ({@code scheduler_lag}); the
     * schedule is read here.
     */
    public final long scheduleStep;

    StepContext(
            String runId,
            long step,
            Long timeMillis,
            TrainingEvent event,
            double loss,
            Double gradNorm,
            double[] lr,
            DeclaredSchedule schedule,
            double[] scheduled,
            boolean inWarmup,
            long warmupEndStep,
            Thresholds thresholds,
            RunState run) {
        this.runId = runId;
        this.step = step;
        this.timeMillis = timeMillis;
        this.event = event;
        this.loss = loss;
        this.gradNorm = gradNorm;
        this.lr = lr;
        this.schedule = schedule;
        this.scheduled = scheduled;
        this.inWarmup = inWarmup;
        this.warmupEndStep = warmupEndStep;
        this.thresholds = thresholds;
        this.run = run;
        this.scheduleStep =
                event == null || event.schedulerLag == null ? step : step - event.schedulerLag;
    }

    /**
     * A context for an alert about the run rather than one of its events (a silence found by a
     * timer, a run_end): at {@code step}, with no step values.
     */
    static StepContext at(
            String runId, long step, Long timeMillis, Thresholds thresholds, RunState run) {
        return new StepContext(
                runId,
                step,
                timeMillis,
                null,
                Double.NaN,
                null,
                null,
                null,
                null,
                false,
                run.warmupEndStep,
                thresholds,
                run);
    }

    /**
     * Set when a detector starts watching this step (a spike being judged, the first point of a
     * warmup rise or of a low-gradient streak): an alert may later be reported at it, so the series
     * keeps it whatever {@code --series-every} says. Only ever set on the context of the step
     * itself.
     */
    private boolean possibleOnset;

    /** This step may become an alert's step later (see {@link #possibleOnset}). */
    void markPossibleOnset() {
        possibleOnset = true;
    }

    boolean isPossibleOnset() {
        return possibleOnset;
    }

    /**
     * The same context reported at another step (a spike is reported at its own step when settled
     * later).
     */
    public StepContext withStep(long otherStep) {
        return otherStep == step
                ? this
                : new StepContext(
                        runId,
                        otherStep,
                        timeMillis,
                        event,
                        loss,
                        gradNorm,
                        lr,
                        schedule,
                        scheduled,
                        inWarmup,
                        warmupEndStep,
                        thresholds,
                        run);
    }

    // the run's robust statistics as of the previous step, computed at most once per step (several
    // detectors use them)
    private double lossMedian = Double.NaN;
    private double lossNoise = Double.NaN;
    private double gradLogMedian = Double.NaN;
    private double gradLogSigma = Double.NaN;

    /** Median of the last losses (RobustWindow). */
    public double lossMedian() {
        if (Double.isNaN(lossMedian)) {
            lossMedian = run.losses.median();
        }
        return lossMedian;
    }

    /** Step-to-step noise of the loss (RobustWindow#noiseSigma). */
    public double lossNoise() {
        if (Double.isNaN(lossNoise)) {
            lossNoise = run.losses.noiseSigma();
        }
        return lossNoise;
    }

    /** Median of the log of the last grad norms. */
    public double gradLogMedian() {
        if (Double.isNaN(gradLogMedian)) {
            gradLogMedian = run.gradLogs.median();
        }
        return gradLogMedian;
    }

    /** Robust sigma of the log of the last grad norms, floored at {@code floor}. */
    public double gradLogSigma(double floor) {
        if (Double.isNaN(gradLogSigma)) {
            gradLogSigma = run.gradLogs.robustSigma();
        }
        return Math.max(floor, gradLogSigma);
    }

    /**
     * {@code optimizerStep} as the run's own logs number it (plus the run's {@code step_base}): the
     * number every alert message, diagnosis and suggested change names. Evidence and suggestion
     * values stay optimizer steps.
     */
    public long display(long optimizerStep) {
        return optimizerStep + run.stepBase;
    }

    /** This step as the run's own logs number it (see {@link #display}). */
    public long displayStep() {
        return display(step);
    }

    public boolean lossFinite() {
        return Double.isFinite(loss);
    }

    public boolean gradFinite() {
        return gradNorm != null && Double.isFinite(gradNorm);
    }

    public double th(Threshold t) {
        return thresholds.get(t);
    }

    public int thInt(Threshold t) {
        return thresholds.getInt(t);
    }

    /** The LR in force (reported, else scheduled) for group 0, or NaN. */
    public double currentLr() {
        if (lr != null && lr.length > 0) {
            return lr[0];
        }
        return scheduled != null && scheduled.length > 0 ? scheduled[0] : Double.NaN;
    }
}
