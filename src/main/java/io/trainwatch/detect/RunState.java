package io.trainwatch.detect;

import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.threshold.ThresholdOverrides;
import io.trainwatch.threshold.Thresholds;

/**
 * Everything trainwatch remembers about one run: its declaration (schedule spec, clip,
 * accumulation), where it is (steps, resumes), shared robust statistics, and each detector's own
 * state. Bounded: fixed-size windows and counters only, so a 1,000,000-step run keeps the same few
 * KiB as a 100-step one. A Flink POJO, kept in keyed state by the monitor operator.
 */
public class RunState {
    public static final int MAX_RESUMES_REMEMBERED = 4;

    public String runId;

    // declaration (run_start)
    /**
     * The declared schedule (immutable, shared by the runs that declared the same spec), or null.
     */
    public DeclaredSchedule schedule;

    /** The run's own threshold overrides (checked when the run_start was read), or null. */
    public ThresholdOverrides thresholds;

    public Double gradClip;
    public Integer gradAccumSteps;
    public Long stepsPerEpoch;

    /**
     * The run's {@code step_base}: what its own logs add to the optimizer step (1 for HF), so that
     * alert messages name the step the user sees. 0 until a run_start says otherwise.
     */
    public int stepBase;

    /** First step after the declared warmup (0 = no warmup), -1 without a schedule. */
    public long warmupEndStep = -1;

    /** Declared LR of group 0 at the end of warmup (its peak), NaN without a schedule. */
    public double peakLr = Double.NaN;

    // progress
    public long stepsSeen;
    public long lastStep = -1;
    public long maxStep = -1;
    public long[] resumeSteps = new long[MAX_RESUMES_REMEMBERED];
    public int resumeCount;
    public boolean ended;

    /**
     * Processing time after which the run counts as idle and is forgotten (kept by the operator).
     */
    public long idleDeadlineMillis;

    /**
     * The idle timer last registered for this run, so one is registered per slot, not per event
     * (kept by the operator).
     */
    public long idleTimerMillis;

    /** The silence timer last registered for this run (kept by the operator), 0 if none. */
    public long silenceTimerMillis;

    public String endStatus;

    /**
     * Block of --series-every steps the last series point written fell in (-1: none yet); see
     * {@link SeriesSampler}.
     */
    public long seriesBlock = -1;

    // without a schedule, warmup is read from the reported LR
    public double lastLr0 = Double.NaN;
    public boolean reportedLrStoppedRising;
    // shared statistics (as of the previous step)
    public RobustWindow losses = new RobustWindow();
    public double lossMean = Double.NaN;

    /** log of the last grad norms (stored as logs: the statistics on them are in log space). */
    public RobustWindow gradLogs = new RobustWindow();

    public LogEwma gradStats = new LogEwma();

    /** The grad-norm level of the run's healthy steps, behind every suggested clip threshold. */
    public HealthyGradLevel healthyGrad = new HealthyGradLevel();

    public Double lastLossScale;
    public double maxLossScale;

    /**
     * Loss-scale reductions since the scale last grew, counted once it had settled (see
     * RunMonitor.LOSS_SCALE_SETTLED_STEPS).
     */
    public int lossScaleDrops;

    /** Reported steps in a row without a loss-scale reduction. */
    public int lossScaleSteadySteps;

    public boolean lossScaleSettled;

    /** Steps the GradScaler skipped (finite loss, overflowing gradients) without an alert. */
    public long gradScalerSkips;

    /** The run's alerts folded into incidents, and the cap on new ones (see IncidentBook). */
    public IncidentBook incidents = new IncidentBook();

    // detectors
    public NonFiniteDetector nonFinite = new NonFiniteDetector();
    public LrMismatchDetector lrMismatch = new LrMismatchDetector();
    public SpikeDetector spikes = new SpikeDetector();
    public GradExplosionDetector gradExplosion = new GradExplosionDetector();
    public DivergenceDetector divergence = new DivergenceDetector();
    public StallDetector stall = new StallDetector();
    public VanishingGradientDetector vanishing = new VanishingGradientDetector();
    public SilenceDetector silence = new SilenceDetector();
    public SlowdownDetector slowdown = new SlowdownDetector();

    // containment (see RunMonitor): errors of the monitor itself on this run, and the quarantine
    // they lead to
    /** Monitor errors since the run started. */
    public int monitorErrors;

    /**
     * Monitor errors not yet followed by {@link RunMonitor#ERRORS_FORGOTTEN_AFTER_EVENTS} cleanly
     * judged events.
     */
    public int recentMonitorErrors;

    public long eventsSinceMonitorError;

    /**
     * True once the monitor failed repeatedly on this run: its events are dead-lettered until a new
     * run_start.
     */
    public boolean quarantined;

    // the job's thresholds with the run's overrides applied, and the overrides applied: not state
    // (transient), a state restored or copied has none and they are built again
    transient Thresholds runThresholds;
    transient ThresholdOverrides runThresholdsOf;

    public RunState() {}

    /** A run's statistics and detectors as a new run has them: what a restart copies. */
    private static final RunState PRISTINE = new RunState();

    /**
     * Makes this state a deep copy of {@code other}, reusing this state's objects and arrays (no
     * allocation once their sizes match). StateCopyTest checks that every field, of every object in
     * the state, is copied.
     */
    public void copyFrom(RunState other) {
        copyRunFrom(other);
        copyStatisticsFrom(other);
    }

    /**
     * Copies what the run declared and where it is (the fields of this object, the resume steps),
     * not its statistics and detectors: a few dozen fields that lie together, cheap enough to save
     * before every event (see {@link RunMonitor#onEvent}).
     */
    void copyRunFrom(RunState other) {
        runId = other.runId;
        schedule = other.schedule;
        thresholds = other.thresholds;
        gradClip = other.gradClip;
        gradAccumSteps = other.gradAccumSteps;
        stepsPerEpoch = other.stepsPerEpoch;
        stepBase = other.stepBase;
        warmupEndStep = other.warmupEndStep;
        peakLr = other.peakLr;
        stepsSeen = other.stepsSeen;
        lastStep = other.lastStep;
        maxStep = other.maxStep;
        resumeSteps = ArrayCopy.into(other.resumeSteps, resumeSteps);
        resumeCount = other.resumeCount;
        ended = other.ended;
        idleDeadlineMillis = other.idleDeadlineMillis;
        idleTimerMillis = other.idleTimerMillis;
        silenceTimerMillis = other.silenceTimerMillis;
        endStatus = other.endStatus;
        seriesBlock = other.seriesBlock;
        monitorErrors = other.monitorErrors;
        recentMonitorErrors = other.recentMonitorErrors;
        eventsSinceMonitorError = other.eventsSinceMonitorError;
        quarantined = other.quarantined;
        runThresholds = other.runThresholds;
        runThresholdsOf = other.runThresholdsOf;
    }

    /** Copies the statistics and detectors (the bulk of the state), into this state's objects. */
    private void copyStatisticsFrom(RunState other) {
        lastLr0 = other.lastLr0;
        reportedLrStoppedRising = other.reportedLrStoppedRising;
        lossMean = other.lossMean;
        lastLossScale = other.lastLossScale;
        maxLossScale = other.maxLossScale;
        lossScaleDrops = other.lossScaleDrops;
        lossScaleSteadySteps = other.lossScaleSteadySteps;
        lossScaleSettled = other.lossScaleSettled;
        gradScalerSkips = other.gradScalerSkips;
        losses.copyFrom(other.losses);
        gradLogs.copyFrom(other.gradLogs);
        gradStats.copyFrom(other.gradStats);
        healthyGrad.copyFrom(other.healthyGrad);
        incidents.copyFrom(other.incidents);
        nonFinite.copyFrom(other.nonFinite);
        lrMismatch.copyFrom(other.lrMismatch);
        spikes.copyFrom(other.spikes);
        gradExplosion.copyFrom(other.gradExplosion);
        divergence.copyFrom(other.divergence);
        stall.copyFrom(other.stall);
        vanishing.copyFrom(other.vanishing);
        silence.copyFrom(other.silence);
        slowdown.copyFrom(other.slowdown);
    }

    /**
     * Starts the statistics and detectors over, as a new run has them, keeping what the run
     * declared and where it is: what follows an error of the monitor (the statistics it was
     * building may be half-changed, or be what made it fail).
     */
    void restartStatistics() {
        copyStatisticsFrom(PRISTINE);
    }

    /**
     * An incident that makes this step unhealthy is open: a grad explosion, a non-finite step, a
     * loss or warmup spike, divergence. Its steps do not feed {@link #healthyGrad}.
     */
    boolean instabilityOpen() {
        return gradExplosion.track.isOpen()
                || nonFinite.track.isOpen()
                || spikes.lossTrack.isOpen()
                || spikes.warmupTrack.isOpen()
                || divergence.track.isOpen();
    }

    /** Records a resume (the step went backwards); the last few are kept for the LR diagnosis. */
    void recordResume(long step) {
        resumeSteps[resumeCount % MAX_RESUMES_REMEMBERED] = step;
        resumeCount++;
    }
}
