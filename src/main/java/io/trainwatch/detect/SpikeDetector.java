package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.threshold.Threshold;

import java.util.ArrayList;
import java.util.List;

/**
 * WARMUP_SPIKE and LOSS_SPIKE: a loss {@code spike_mad_k} robust sigmas and {@code
 * spike_min_rise_relative} above the running median of the last 32 losses, sigma being the run's
 * step-to-step noise ({@link RobustWindow#noiseSigma}: unmoved by the loss's own trend, and wide
 * for heavy-tailed per-batch noise). Each spike is judged over the next {@link #JUDGE_POINTS}
 * logged steps: back down on either means isolated (a warning at most); still up on both means
 * sustained, and the points of one sustained episode count as one spike. During warmup a spike, or
 * a loss rising well above its recent low while the LR ramps, is the warmup signature: warmup too
 * short or peak LR too high. After warmup, repeated spikes with at least one sustained call for
 * rewinding ~100 steps before the first and skipping the offending batches.
 *
 * <p>A batch is named for skipping only when its loss jumped from the step before it (the same
 * spike test against the previous loss instead of the median): a loss that crossed the spike line
 * while climbing step by step after an earlier spike is the damaged model, not its batch. Once the
 * incident's rewind is suggested, each newly named batch refines it (same rewind step and LR
 * factor, one more batch), as long as every spike of the incident is still remembered.
 */
public class SpikeDetector {
    static final int MAX_REMEMBERED_SPIKES = 8;

    /** Steps to rewind before the first spike (checkpoint before the instability began). */
    static final long REWIND_BEFORE_STEPS = 100;

    /** Consecutive rising points that make a gradual warmup blow-up. */
    static final int WARMUP_RISE_POINTS = 2;

    /**
     * Losses seen before the warmup-rise rule applies: it compares with the run's own recent low,
     * not with spreads.
     */
    static final int WARMUP_RISE_MIN_POINTS = 4;

    /** Logged steps after a spike that decide isolated (back down on one of them) or sustained. */
    static final int JUDGE_POINTS = 2;

    public AlertTrack lossTrack = new AlertTrack();
    public AlertTrack warmupTrack = new AlertTrack();
    public long pendingStep = -1;
    public double pendingLoss;
    public double pendingMedian;
    public double pendingSigma;
    public double pendingLr;
    public boolean pendingWarmup;
    public String pendingBatch;
    public int pendingSeen;
    public boolean pendingRecovered;

    /** The pending spike's loss jumped from the previous step's: its batch is to blame. */
    public boolean pendingJump;

    /**
     * Level a sustained spike must come back under before a new spike can start (NaN: none
     * ongoing).
     */
    public double episodeBaseline = Double.NaN;

    public double episodeRecoverLevel = Double.NaN;
    public long[] spikeSteps = new long[MAX_REMEMBERED_SPIKES];
    public boolean[] spikeSustained = new boolean[MAX_REMEMBERED_SPIKES];
    public String[] spikeBatches = new String[MAX_REMEMBERED_SPIKES];
    public boolean[] spikeJumped = new boolean[MAX_REMEMBERED_SPIKES];

    /** The open incident's rewind step once suggested (kept on refinement), -1 before. */
    public long incidentRewindTo = -1;

    /** Batches the open incident's last skip suggestion named. */
    public int namedBatches;

    public int spikeNext;
    public long spikesTotal;
    public long lastSpikeStep = -1;
    public int warmupRiseStreak;
    public long warmupRiseOnset = -1;
    public int warmupCalm;

    public SpikeDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(SpikeDetector other) {
        lossTrack.copyFrom(other.lossTrack);
        warmupTrack.copyFrom(other.warmupTrack);
        pendingStep = other.pendingStep;
        pendingLoss = other.pendingLoss;
        pendingMedian = other.pendingMedian;
        pendingSigma = other.pendingSigma;
        pendingLr = other.pendingLr;
        pendingWarmup = other.pendingWarmup;
        pendingBatch = other.pendingBatch;
        pendingSeen = other.pendingSeen;
        pendingRecovered = other.pendingRecovered;
        pendingJump = other.pendingJump;
        episodeBaseline = other.episodeBaseline;
        episodeRecoverLevel = other.episodeRecoverLevel;
        spikeSteps = ArrayCopy.into(other.spikeSteps, spikeSteps);
        spikeSustained = ArrayCopy.into(other.spikeSustained, spikeSustained);
        spikeBatches = ArrayCopy.into(other.spikeBatches, spikeBatches);
        spikeJumped = ArrayCopy.into(other.spikeJumped, spikeJumped);
        incidentRewindTo = other.incidentRewindTo;
        namedBatches = other.namedBatches;
        spikeNext = other.spikeNext;
        spikesTotal = other.spikesTotal;
        lastSpikeStep = other.lastSpikeStep;
        warmupRiseStreak = other.warmupRiseStreak;
        warmupRiseOnset = other.warmupRiseOnset;
        warmupCalm = other.warmupCalm;
    }

    public void check(StepContext c, List<Alert> out) {
        if (!c.lossFinite()) {
            return;
        }
        RobustWindow w = c.run.losses;
        if (w.size() < c.thInt(Threshold.SPIKE_MIN_POINTS)) {
            // too few points for spreads, but a loss climbing well above its own recent low while
            // the LR ramps is
            // already the warmup signature
            if (c.inWarmup && w.size() >= WARMUP_RISE_MIN_POINTS) {
                checkWarmupRise(
                        c,
                        w,
                        c.loss > (1 + c.th(Threshold.WARMUP_RISE_RELATIVE)) * w.min()
                                && w.min() > 0
                                && c.loss
                                        > (1 + c.th(Threshold.WARMUP_RISE_RELATIVE))
                                                * c.lossMedian(),
                        c.lossMedian(),
                        out);
            }
            return;
        }
        double m = c.lossMedian();
        double l = c.loss;
        // the rise test is cheap; the noise is only needed for a loss that passes it
        boolean rises = l > m + c.th(Threshold.SPIKE_MIN_RISE_RELATIVE) * Math.abs(m);
        double sigma =
                rises || (c.inWarmup && l > (1 + c.th(Threshold.WARMUP_RISE_RELATIVE)) * w.min())
                        ? c.lossNoise()
                        : Double.NaN;
        boolean spike = rises && l > m + c.th(Threshold.SPIKE_MAD_K) * sigma;
        if (!Double.isNaN(episodeRecoverLevel)) {
            if (l <= episodeRecoverLevel) {
                episodeRecoverLevel = Double.NaN; // the sustained spike is over
            } else {
                spike = false; // still the same episode
            }
        }
        if (pendingStep >= 0) {
            pendingSeen++;
            pendingRecovered |= l <= pendingMedian + 0.5 * (pendingLoss - pendingMedian);
            if (pendingRecovered || pendingSeen >= JUDGE_POINTS) {
                if (!pendingRecovered) {
                    episodeRecoverLevel = pendingMedian + 0.5 * (pendingLoss - pendingMedian);
                }
                settle(c, pendingRecovered, out);
                pendingStep = -1;
            }
            spike = false; // a second spike while one is being judged belongs to it
        }
        if (spike) {
            pendingSeen = 0;
            pendingRecovered = false;
            pendingStep = c.step;
            c.markPossibleOnset(); // the spike is reported at this step once settled
            pendingLoss = l;
            pendingMedian = m;
            pendingSigma = sigma;
            pendingLr = c.currentLr();
            pendingWarmup = c.inWarmup;
            pendingBatch =
                    c.event != null && c.event.batch != null
                            ? String.join(",", c.event.batch)
                            : null;
            double prev = w.last();
            pendingJump =
                    !Double.isFinite(prev)
                            || (l > prev + c.th(Threshold.SPIKE_MAD_K) * sigma
                                    && l
                                            > prev
                                                    + c.th(Threshold.SPIKE_MIN_RISE_RELATIVE)
                                                            * Math.abs(prev));
        }
        // gradual blow-up while the LR ramps: no single outlier, but the loss climbs well above its
        // recent low
        checkWarmupRise(
                c,
                w,
                c.inWarmup
                        && l > (1 + c.th(Threshold.WARMUP_RISE_RELATIVE)) * w.min()
                        && w.min() > 0
                        && l > m + 3 * sigma,
                m,
                out);
        // resolutions
        if (warmupTrack.isOpen()) {
            boolean calm = !c.inWarmup && !spike && l <= m + 3 * c.lossNoise();
            warmupCalm = calm ? warmupCalm + 1 : 0;
            if (warmupCalm >= 3) {
                out.add(
                        warmupTrack.resolve(
                                c,
                                AlertKind.WARMUP_SPIKE,
                                "warmup over and the loss back within its usual range",
                                NamedValues.builder().put("loss", l).put("median", m).build()));
                warmupCalm = 0;
            }
        }
        if (lossTrack.isOpen()
                && !spike
                && pendingStep < 0
                && c.step - lastSpikeStep > c.th(Threshold.SPIKE_REPEAT_WINDOW_STEPS)) {
            incidentRewindTo = -1;
            namedBatches = 0;
            out.add(
                    lossTrack.resolve(
                            c,
                            AlertKind.LOSS_SPIKE,
                            "no loss spike for " + (c.step - lastSpikeStep) + " steps",
                            NamedValues.builder()
                                    .put("spikes_total", spikesTotal)
                                    .put("last_spike_step", lastSpikeStep)
                                    .build()));
        }
    }

    private void checkWarmupRise(
            StepContext c, RobustWindow w, boolean rising, double median, List<Alert> out) {
        warmupRiseStreak = rising ? warmupRiseStreak + 1 : 0;
        if (warmupRiseStreak == 1) {
            warmupRiseOnset = c.step;
            c.markPossibleOnset();
        }
        if (warmupRiseStreak >= WARMUP_RISE_POINTS && !warmupTrack.isOpen()) {
            openWarmup(
                    c,
                    c.loss,
                    w.min(),
                    median,
                    "rising "
                            + Numbers.fmt(c.loss / w.min())
                            + "x above its recent low "
                            + Numbers.fmt(w.min())
                            + " for "
                            + warmupRiseStreak
                            + " logged steps while the LR ramps up",
                    warmupRiseOnset,
                    c.currentLr(),
                    out);
        }
    }

    private void settle(StepContext c, boolean recovered, List<Alert> out) {
        double rise = pendingLoss / pendingMedian;
        if (pendingWarmup) {
            if (!warmupTrack.isOpen()) {
                openWarmup(
                        c,
                        pendingLoss,
                        Double.NaN,
                        pendingMedian,
                        "a spike to "
                                + Numbers.fmt(pendingLoss)
                                + " ("
                                + Numbers.fmt(rise)
                                + "x the running median "
                                + Numbers.fmt(pendingMedian)
                                + ")"
                                + (recovered ? ", recovered next step" : ", not recovered"),
                        pendingStep,
                        pendingLr,
                        out);
            }
            return;
        }
        int slot = spikeNext % MAX_REMEMBERED_SPIKES;
        spikeSteps[slot] = pendingStep;
        spikeSustained[slot] = !recovered;
        spikeBatches[slot] = pendingBatch;
        spikeJumped[slot] = pendingJump;
        spikeNext++;
        spikesTotal++;
        lastSpikeStep = pendingStep;
        long window = (long) c.th(Threshold.SPIKE_REPEAT_WINDOW_STEPS);
        int recent = 0;
        boolean anySustained = false;
        long firstRecent = pendingStep;
        List<String> skip = new ArrayList<>();
        for (int i = 0; i < Math.min(spikeNext, MAX_REMEMBERED_SPIKES); i++) {
            if (spikeSteps[i] >= pendingStep - window) {
                recent++;
                anySustained |= spikeSustained[i];
                firstRecent = Math.min(firstRecent, spikeSteps[i]);
                if (spikeJumped[i]) {
                    skip.add(spikeBatches[i] != null ? spikeBatches[i] : "step " + spikeSteps[i]);
                }
            }
        }
        long rewindTo =
                incidentRewindTo >= 0
                        ? incidentRewindTo
                        : Math.max(0, firstRecent - REWIND_BEFORE_STEPS);
        NamedValues evidence =
                NamedValues.builder()
                        .put("loss", pendingLoss)
                        .put("running_median", pendingMedian)
                        .put("robust_sigma", pendingSigma)
                        .put("rise_ratio", rise)
                        .put("recovered_within_" + JUDGE_POINTS + "_steps", recovered)
                        .put("spikes_in_window", recent)
                        .put("window_steps", window)
                        .put("spikes_total", spikesTotal)
                        .build();
        if (!lossTrack.isOpen()) {
            if (recovered) {
                out.add(
                        lossTrack.open(
                                at(c),
                                AlertKind.LOSS_SPIKE,
                                Severity.WARNING,
                                "Step "
                                        + c.display(pendingStep)
                                        + ": isolated loss spike to "
                                        + Numbers.fmt(pendingLoss)
                                        + " ("
                                        + Numbers.fmt(rise)
                                        + "x the running median "
                                        + Numbers.fmt(pendingMedian)
                                        + "), recovered within "
                                        + JUDGE_POINTS
                                        + " logged steps.",
                                "a one-step spike that recovered at once: usually one hard or bad batch, not an instability",
                                evidence,
                                NamedValues.builder()
                                        .put("action", "inspect_batch")
                                        .put(
                                                "skip_batches",
                                                List.of(
                                                        pendingBatch != null
                                                                ? pendingBatch
                                                                : "step " + pendingStep))
                                        .put(
                                                "change",
                                                TrainingFixes.watchIsolatedSpike(
                                                        c.display(pendingStep)))
                                        .build()));
            } else {
                incidentRewindTo = rewindTo;
                namedBatches = skip.size();
                out.add(
                        lossTrack.open(
                                at(c),
                                AlertKind.LOSS_SPIKE,
                                Severity.CRITICAL,
                                "Step "
                                        + c.display(pendingStep)
                                        + ": loss spiked to "
                                        + Numbers.fmt(pendingLoss)
                                        + " ("
                                        + Numbers.fmt(rise)
                                        + "x the running median "
                                        + Numbers.fmt(pendingMedian)
                                        + ") and is still up "
                                        + JUDGE_POINTS
                                        + " logged steps later.",
                                "a sustained loss spike after warmup: the optimizer was thrown into a worse region (a bad batch amplified by the LR, or an instability)",
                                evidence,
                                Suggestions.skipBatches("rewind_and_skip", rewindTo, skip)
                                        .put("lr_factor", 0.5)
                                        .put(
                                                "change",
                                                TrainingFixes.rewindPastTheSpike(
                                                        c.display(rewindTo)))
                                        .build()));
            }
            return;
        }
        if (lossTrack.updated) {
            // every spike of the incident still remembered: the list is whole
            if (skip.size() > namedBatches && spikeNext <= MAX_REMEMBERED_SPIKES) {
                namedBatches = skip.size();
                out.add(
                        lossTrack.refine(
                                at(c),
                                AlertKind.LOSS_SPIKE,
                                "Step "
                                        + c.display(pendingStep)
                                        + ": another loss spike on a batch of its own ("
                                        + skip.get(skip.size() - 1)
                                        + "), "
                                        + skip.size()
                                        + " batches to skip now.",
                                "repeated post-warmup loss spikes, each on a batch of its own: skip every one of them after the rewind",
                                evidence,
                                repeatedSpikesFix(c, rewindTo, skip)));
            }
            return;
        }
        if (recent >= c.thInt(Threshold.SPIKE_REPEAT_COUNT) && anySustained) {
            incidentRewindTo = rewindTo;
            namedBatches = skip.size();
            Alert a =
                    lossTrack.update(
                            at(c),
                            AlertKind.LOSS_SPIKE,
                            Severity.CRITICAL,
                            "Step "
                                    + c.display(pendingStep)
                                    + ": "
                                    + recent
                                    + " loss spikes within "
                                    + window
                                    + " steps, not all recovering: the run is unstable.",
                            "repeated post-warmup loss spikes: the run keeps being thrown out of its basin (the pattern large-model training fixes by rewinding and skipping the batches)",
                            evidence,
                            repeatedSpikesFix(c, rewindTo, skip));
            if (a != null) {
                out.add(a);
            }
        }
    }

    /**
     * Rewind-and-skip for repeated spikes: the same rewind step and LR factor for the incident's
     * update and its refinements, with the batches named so far.
     */
    private static NamedValues repeatedSpikesFix(StepContext c, long rewindTo, List<String> skip) {
        return Suggestions.skipBatches("rewind_and_skip", rewindTo, skip)
                .put("lr_factor", 0.7)
                .put(
                        "change",
                        TrainingFixes.rewindPastRepeatedSpikes(
                                c.display(rewindTo), REWIND_BEFORE_STEPS))
                .build();
    }

    private void openWarmup(
            StepContext c,
            double loss,
            double recentLow,
            double median,
            String what,
            long onset,
            double lrAtOnset,
            List<Alert> out) {
        RunState r = c.run;
        long warmup = r.warmupEndStep > 0 ? r.warmupEndStep : Math.max(onset, c.step);
        // the ramp must be much gentler, not just gentler: a quarter of the slope that blew up
        // (halving it left a warmup blow-up in 2 of 5 seeded runs of the closed-loop suite)
        long longer = Math.max(4 * warmup, warmup + 4 * Math.max(1, onset));
        double peak = Double.isFinite(r.peakLr) ? r.peakLr : lrAtOnset;
        double newPeak = Numbers.round3(peak * 0.5);
        StepContext at = c.withStep(onset);
        out.add(
                warmupTrack.open(
                        at,
                        AlertKind.WARMUP_SPIKE,
                        Severity.WARNING,
                        "Step " + c.display(onset) + " (warmup): loss " + what + ".",
                        "loss instability during warmup: the warmup is too short or the peak LR too high for this model at this point ("
                                + "LR "
                                + Numbers.fmt(lrAtOnset)
                                + " at onset, peak "
                                + Numbers.fmt(peak)
                                + ", warmup "
                                + (r.warmupEndStep > 0
                                        ? r.warmupEndStep + " steps"
                                        : "length unknown")
                                + ")",
                        NamedValues.builder()
                                .put("loss", loss)
                                .put("running_median", median)
                                .put("recent_low", recentLow)
                                .put("lr_at_onset", lrAtOnset)
                                .put("peak_lr", peak)
                                .put("warmup_steps", r.warmupEndStep)
                                .build(),
                        NamedValues.builder()
                                .put("action", "extend_warmup")
                                .put("warmup_steps", longer)
                                .put("lr_factor", 0.5)
                                .put("new_lr", newPeak)
                                .put(
                                        "change",
                                        TrainingFixes.extendWarmup(
                                                longer, newPeak, c.display(onset)))
                                .build()));
    }

    /** The spike is reported at its own step, not at the step that settled it. */
    private StepContext at(StepContext c) {
        return c.withStep(pendingStep);
    }
}
