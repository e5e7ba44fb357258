package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.Numbers;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.threshold.Threshold;

import java.util.List;

/**
 * SLOWDOWN (warning): the run's time per optimizer step rises to {@code slowdown_ratio} × its
 * running median (of the last 32 logged steps that were not slow) for {@code slowdown_steps} logged
 * steps in a row. Time per optimizer step is the step's {@code step_time_s} when the trainer
 * reports it, else Δtime / Δstep between consecutive logged steps (a run logging every k steps
 * averages over them). One long step — a data-loader stall, a checkpoint save, an evaluation —
 * breaks no streak and is not a slowdown. Resolves after as many logged steps in a row back below
 * the geometric middle (√ratio × the median), so a run hovering at the threshold does not flap. The
 * median learns only from steps that are not slow, so a slowdown cannot become its own baseline.
 * Without {@code time} or {@code step_time_s} a run's speed is unknown: no alert.
 */
public class SlowdownDetector {
    /** Times per step seen before the running median is trusted. */
    static final int MIN_POINTS = 8;

    public AlertTrack track = new AlertTrack();

    /** Seconds per optimizer step of the last logged steps that were not slow. */
    public RobustWindow secondsPerStep = new RobustWindow();

    public long prevStep = -1;
    public long prevTimeMillis = SilenceDetector.NONE;

    /** Slow logged steps in a row, their first step, and the sum of their times per step. */
    public int slowRun;

    public long slowOnsetStep = -1;
    public double slowSum;

    /** While open: logged steps in a row back to speed. */
    public int fastRun;

    /** Median time per step before the open slowdown, and the time per step when it opened. */
    public double beforeSeconds = Double.NaN;

    public double slowSeconds = Double.NaN;

    /** Last tokens / samples per step reported, NaN if never. */
    public double tokens = Double.NaN;

    public double samples = Double.NaN;

    public SlowdownDetector() {}

    /** Makes this a copy of {@code other} (see {@link RunState#copyFrom}). */
    void copyFrom(SlowdownDetector other) {
        track.copyFrom(other.track);
        secondsPerStep.copyFrom(other.secondsPerStep);
        prevStep = other.prevStep;
        prevTimeMillis = other.prevTimeMillis;
        slowRun = other.slowRun;
        slowOnsetStep = other.slowOnsetStep;
        slowSum = other.slowSum;
        fastRun = other.fastRun;
        beforeSeconds = other.beforeSeconds;
        slowSeconds = other.slowSeconds;
        tokens = other.tokens;
        samples = other.samples;
    }

    public void check(StepContext c, List<Alert> out) {
        TrainingEvent e = c.event;
        double t = secondsPerStep(c);
        if (e != null && e.tokens != null) {
            tokens = e.tokens;
        }
        if (e != null && e.samples != null) {
            samples = e.samples;
        }
        if (!(t >= 0)) {
            return;
        }
        double median = secondsPerStep.median();
        if (secondsPerStep.size() < MIN_POINTS || !(median > 0)) {
            secondsPerStep.add(t);
            return;
        }
        double ratio = c.th(Threshold.SLOWDOWN_RATIO);
        int needed = c.thInt(Threshold.SLOWDOWN_STEPS);
        if (track.isOpen()) {
            if (t < Math.sqrt(ratio) * beforeSeconds) {
                if (++fastRun >= needed) {
                    out.add(
                            track.resolve(
                                    c,
                                    AlertKind.SLOWDOWN,
                                    "Step "
                                            + c.displayStep()
                                            + ": back to "
                                            + Numbers.fmt(1 / t)
                                            + " steps/s ("
                                            + Numbers.fmt(1 / beforeSeconds)
                                            + " before the slowdown).",
                                    speeds(beforeSeconds, t).build()));
                    fastRun = 0;
                    slowRun = 0;
                    secondsPerStep.add(t);
                }
            } else {
                fastRun = 0;
            }
            return;
        }
        if (t < ratio * median) {
            slowRun = 0;
            secondsPerStep.add(t);
            return;
        }
        if (slowRun == 0) {
            slowOnsetStep = c.step;
            slowSum = 0;
        }
        slowRun++;
        slowSum += t;
        if (slowRun < needed) {
            return;
        }
        beforeSeconds = median;
        slowSeconds = slowSum / slowRun;
        fastRun = 0;
        StepContext at = c.withStep(slowOnsetStep);
        Alert a =
                track.open(
                        at,
                        AlertKind.SLOWDOWN,
                        Severity.WARNING,
                        "Step "
                                + at.displayStep()
                                + ": the run slowed from "
                                + Numbers.fmt(1 / beforeSeconds)
                                + " to "
                                + Numbers.fmt(1 / slowSeconds)
                                + " steps/s ("
                                + Numbers.fmt(slowSeconds / beforeSeconds)
                                + "x the time per step) for "
                                + slowRun
                                + " logged steps, through step "
                                + c.displayStep()
                                + throughput()
                                + ".",
                        "each optimizer step takes longer than it did: throttled or degraded hardware, a straggler rank, a starved data loader, or longer inputs",
                        speeds(beforeSeconds, slowSeconds)
                                .put("onset_step", slowOnsetStep)
                                .put("slow_logged_steps", slowRun)
                                .put("slowdown_ratio", Numbers.round3(slowSeconds / beforeSeconds))
                                .put(
                                        "measured_by",
                                        e != null && e.stepTimeS != null ? "step_time_s" : "time")
                                .build(),
                        NamedValues.builder()
                                .put("action", "check_throughput")
                                .put("change", TrainingFixes.CHECK_THROUGHPUT)
                                .build());
        a.step = c.step;
        a.displayStep = c.displayStep();
        out.add(a);
    }

    /**
     * This step's time per optimizer step in seconds: its step_time_s, else Δtime/Δstep since the
     * previous logged step (NaN for the first, after a resume, or without time).
     */
    private double secondsPerStep(StepContext c) {
        Long time = c.timeMillis;
        double t = Double.NaN;
        if (c.event != null && c.event.stepTimeS != null) {
            t = c.event.stepTimeS;
        } else if (time != null
                && prevTimeMillis != SilenceDetector.NONE
                && prevStep >= 0
                && c.step > prevStep
                && time >= prevTimeMillis) {
            t = (time - prevTimeMillis) / 1000.0 / (c.step - prevStep);
        }
        prevStep = c.step;
        prevTimeMillis = time == null ? SilenceDetector.NONE : time;
        return t;
    }

    private String throughput() {
        String s = "";
        if (tokens > 0) {
            s +=
                    "; tokens/s "
                            + Numbers.fmt(tokens / beforeSeconds)
                            + " -> "
                            + Numbers.fmt(tokens / slowSeconds);
        }
        if (samples > 0) {
            s +=
                    "; samples/s "
                            + Numbers.fmt(samples / beforeSeconds)
                            + " -> "
                            + Numbers.fmt(samples / slowSeconds);
        }
        return s;
    }

    private NamedValues.Builder speeds(double before, double now) {
        NamedValues.Builder b =
                NamedValues.builder()
                        .put("seconds_per_step_before", Numbers.round3(before))
                        .put("seconds_per_step_now", Numbers.round3(now))
                        .put("steps_per_s_before", Numbers.round3(1 / before))
                        .put("steps_per_s_now", Numbers.round3(1 / now));
        if (tokens > 0) {
            b.put("tokens_per_s_before", Numbers.round3(tokens / before))
                    .put("tokens_per_s_now", Numbers.round3(tokens / now));
        }
        if (samples > 0) {
            b.put("samples_per_s_before", Numbers.round3(samples / before))
                    .put("samples_per_s_now", Numbers.round3(samples / now));
        }
        return b;
    }
}
