package io.trainwatch.detect;

import io.trainwatch.schedule.DeclaredSchedule;

/**
 * Everything trainwatch remembers about one run: its declaration (schedule spec, clip, accumulation),
 * where it is (steps, resumes), shared robust statistics, and each detector's own state. Bounded: fixed-size
 * windows and counters only, so a 1,000,000-step run keeps the same few KiB as a 100-step one. A Flink POJO,
 * kept in keyed state by the monitor operator.
 */
public class RunState {
    public static final int MAX_RESUMES_REMEMBERED = 4;

    public String runId;
    // declaration (run_start)
    public String schedule;
    public String thresholds;
    public Double gradClip;
    public Integer gradAccumSteps;
    public Long stepsPerEpoch;
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
    /** Processing time after which the run counts as idle and is forgotten (kept by the operator). */
    public long idleDeadlineMillis;
    /** The idle timer last registered for this run, so one is registered per slot, not per event (kept by the operator). */
    public long idleTimerMillis;
    public String endStatus;
    /** Block of --series-every steps the last series point written fell in (-1: none yet); see {@link SeriesSampler}. */
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
    public Double lastLossScale;
    public double maxLossScale;
    public int lossScaleDrops;
    // detectors
    public NonFiniteDetector nonFinite = new NonFiniteDetector();
    public LrMismatchDetector lrMismatch = new LrMismatchDetector();
    public SpikeDetector spikes = new SpikeDetector();
    public GradExplosionDetector gradExplosion = new GradExplosionDetector();
    public DivergenceDetector divergence = new DivergenceDetector();
    public StallDetector stall = new StallDetector();
    public VanishingGradientDetector vanishing = new VanishingGradientDetector();

    // what RunMonitor parsed from schedule and thresholds, and the very text it parsed: not state (transient), a state
    // restored or copied has none and they are looked up again
    transient DeclaredSchedule parsedSchedule;
    transient String parsedScheduleOf;
    transient Thresholds parsedThresholds;
    transient String parsedThresholdsOf;

    public RunState() {
    }

    /** Records a resume (the step went backwards); the last few are kept for the LR diagnosis. */
    void recordResume(long step) {
        resumeSteps[resumeCount % MAX_RESUMES_REMEMBERED] = step;
        resumeCount++;
    }
}
