package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judges one run's events, one at a time: keeps the run's {@link RunState} up to date, asks every
 * detector about each step, and returns the alerts and the series point. Plain Java: the Flink operator
 * loads the state, calls {@link #onEvent}, and stores it back. Parsed schedules and per-run thresholds are
 * cached (they are rebuilt from the state's JSON after a restore).
 */
public final class RunMonitor {
    /** Warmup is found by walking the declared schedule from step 0 up to this many scheduler steps. */
    static final long WARMUP_SCAN_LIMIT = 200_000;
    private static final int CACHE_SIZE = 1024;
    private static final double SERIES_MEAN_ALPHA = 0.1;

    /** What one event produced; {@code series} is null for events that are not steps and for steps thinned out by --series-every. */
    public record Output(List<Alert> alerts, SeriesPoint series) {
    }

    private final Thresholds jobThresholds;
    private final SeriesSampler seriesSampler;
    private final boolean series;
    private final Map<String, DeclaredSchedule> schedules = lru();
    private final Map<String, Thresholds> runThresholds = lru();

    /** A monitor that emits a series point for every step. */
    public RunMonitor(Thresholds jobThresholds) {
        this(jobThresholds, 1);
    }

    /** @param seriesEvery N of {@code --series-every}: at most one series point per N steps of a run (see {@link SeriesSampler}) */
    public RunMonitor(Thresholds jobThresholds, long seriesEvery) {
        this(jobThresholds, seriesEvery, true);
    }

    /** @param series false: no series point is built (nothing consumes them), {@link Output#series()} is always null */
    public RunMonitor(Thresholds jobThresholds, long seriesEvery, boolean series) {
        this.jobThresholds = jobThresholds;
        this.seriesSampler = new SeriesSampler(seriesEvery);
        this.series = series;
    }

    public Output onEvent(RunState state, TrainingEvent e) {
        if (state.runId == null) {
            // once: the state is keyed by run, and storing a fresh reference per event into a long-lived object costs the GC
            state.runId = e.runId;
        }
        if (e.type == EventType.RUN_START) {
            startRun(state, e);
            return new Output(List.of(), null);
        }
        if (e.type == EventType.RUN_END) {
            state.ended = true;
            state.endStatus = e.status;
            return new Output(List.of(), null);
        }
        return onStep(state, e);
    }

    private void startRun(RunState state, TrainingEvent e) {
        state.schedule = e.schedule;
        state.thresholds = e.thresholds;
        state.gradClip = e.gradClip;
        state.gradAccumSteps = e.gradAccumSteps;
        state.stepsPerEpoch = e.stepsPerEpoch;
        state.ended = false;
        DeclaredSchedule s = schedule(state);
        if (s == null) {
            state.warmupEndStep = -1;
            state.peakLr = Double.NaN;
            return;
        }
        long every = s.stepEvery();
        long step = 0;
        double lr = level(s, 0);
        double next = level(s, every);
        if (next > lr) {
            while (step / every < WARMUP_SCAN_LIMIT && next > lr) {
                step += every;
                lr = next;
                next = level(s, step + every);
            }
        }
        state.warmupEndStep = step;
        state.peakLr = lr;
    }

    private static double level(DeclaredSchedule s, long step) {
        return s.adaptive() ? s.highestLr(0, step) : s.lr(0, step);
    }

    private Output onStep(RunState state, TrainingEvent e) {
        long step = e.step;
        boolean resumed = state.stepsSeen > 0 && step <= state.lastStep;
        if (resumed) {
            state.recordResume(step);
        }
        Thresholds th = thresholds(state);
        DeclaredSchedule schedule = schedule(state);
        double[] scheduled = null;
        boolean inWarmup;
        if (schedule != null) {
            scheduled = new double[schedule.groups()];
            for (int g = 0; g < scheduled.length; g++) {
                scheduled[g] = schedule.adaptive() ? schedule.highestLr(g, step) : schedule.lr(g, step);
            }
            inWarmup = step < state.warmupEndStep;
        } else {
            inWarmup = reportedLrRising(state, e);
        }
        double loss = e.loss == null ? Double.NaN : e.loss;
        StepContext c = new StepContext(e.runId, step, e.timeMillis, e, loss, e.gradNorm, e.lr, schedule, scheduled, inWarmup,
                state.warmupEndStep, th, state);
        List<Alert> alerts = new ArrayList<>(2);
        state.nonFinite.check(c, alerts);
        state.lrMismatch.check(c, alerts);
        state.spikes.check(c, alerts);
        state.gradExplosion.check(c, alerts);
        state.divergence.check(c, alerts);
        state.stall.check(c, alerts);
        state.vanishing.check(c, alerts);
        updateStatistics(state, e, th);
        if (!series) {
            return new Output(alerts, null);
        }
        boolean keep = seriesSampler.keep(state, step, resumed, !alerts.isEmpty() || c.isPossibleOnset());
        return new Output(alerts, keep ? series(state, e, scheduled) : null);
    }

    /** Without a declared schedule, warmup lasts while the reported LR keeps rising. */
    private static boolean reportedLrRising(RunState state, TrainingEvent e) {
        if (e.lr == null || e.lr.length == 0 || state.reportedLrStoppedRising) {
            return false;
        }
        boolean rising = Double.isNaN(state.lastLr0) || e.lr[0] > state.lastLr0 || (state.stepsSeen == 0);
        if (!rising && state.stepsSeen > 0) {
            state.reportedLrStoppedRising = true;
        }
        return rising && !state.reportedLrStoppedRising;
    }

    private static void updateStatistics(RunState state, TrainingEvent e, Thresholds th) {
        state.stepsSeen++;
        state.lastStep = e.step;
        state.maxStep = Math.max(state.maxStep, e.step);
        if (e.loss != null && Double.isFinite(e.loss)) {
            state.losses.add(e.loss);
            state.lossMean = Double.isNaN(state.lossMean) ? e.loss : state.lossMean + SERIES_MEAN_ALPHA * (e.loss - state.lossMean);
        }
        if (e.gradNorm != null && Double.isFinite(e.gradNorm)) {
            double g = e.gradNorm;
            LogEwma st = state.gradStats;
            int minPoints = th.getInt(Threshold.GRAD_MIN_POINTS);
            // ZClip-style: an outlier barely moves the baseline, so one spike (or an explosion) cannot hide itself
            st.add(g, th.get(Threshold.GRAD_EMA_ALPHA), minPoints, th.get(Threshold.GRAD_Z_THRESHOLD));
            state.gradLogs.add(Math.log(Math.max(g, 1e-30)));
        }
        if (e.lossScale != null && Double.isFinite(e.lossScale)) {
            if (state.lastLossScale != null && e.lossScale < state.lastLossScale) {
                state.lossScaleDrops++;
            }
            state.maxLossScale = Math.max(state.maxLossScale, e.lossScale);
            state.lastLossScale = e.lossScale;
        }
        if (e.lr != null && e.lr.length > 0) {
            state.lastLr0 = e.lr[0];
        }
    }

    private static SeriesPoint series(RunState state, TrainingEvent e, double[] scheduled) {
        SeriesPoint p = new SeriesPoint();
        p.runId = e.runId;
        p.step = e.step;
        p.timeMillis = e.timeMillis;
        p.actualLr = e.lr;
        p.scheduledLr = scheduled;
        p.loss = e.loss;
        p.lossMean = Double.isNaN(state.lossMean) ? null : state.lossMean;
        p.gradNorm = e.gradNorm;
        p.suggestedClip = state.gradStats.count >= 12 ? Numbers.round3(state.gradStats.upperQuantile(2)) : null;
        return p;
    }

    /** The run's parsed schedule: kept on the state itself (one LRU lookup per event touched two more entries' memory). */
    private DeclaredSchedule schedule(RunState state) {
        if (state.schedule == null) {
            return null;
        }
        if (state.parsedScheduleOf != state.schedule) {
            state.parsedSchedule = schedules.computeIfAbsent(state.schedule, ScheduleSpec::parse);
            state.parsedScheduleOf = state.schedule;
        }
        return state.parsedSchedule;
    }

    private Thresholds thresholds(RunState state) {
        if (state.thresholds == null) {
            return jobThresholds;
        }
        if (state.parsedThresholdsOf != state.thresholds) {
            state.parsedThresholds = runThresholds.computeIfAbsent(state.thresholds, jobThresholds::withJson);
            state.parsedThresholdsOf = state.thresholds;
        }
        return state.parsedThresholds;
    }

    private static <V> Map<String, V> lru() {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > CACHE_SIZE;
            }
        };
    }
}
