package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Thresholds;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.LongToDoubleFunction;

/** A named, deterministic run for detector tests: declare, step, and collect the alerts. */
final class RunFixture {
    /** HF cosine: 100 warmup steps, 3000 in all, peak 1e-3. */
    static final String COSINE =
            "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":100,\"num_training_steps\":3000,\"base_lrs\":[1e-3]}}";

    /** HF constant with 50 warmup steps, 1e-3. */
    static final String CONSTANT =
            "{\"scheduler\":\"constant_with_warmup\",\"params\":{\"num_warmup_steps\":50,\"base_lrs\":[1e-3]}}";

    final RunMonitor monitor;
    final RunState state = new RunState();
    final List<Alert> alerts = new ArrayList<>();

    /** The series points of the run, one per step (series every step). */
    final List<SeriesPoint> series = new ArrayList<>();

    /** Alerts the monitor did not send: folded into an open incident, or capped. */
    final List<Alert> withheld = new ArrayList<>();

    final Random noise = new Random(42);
    final String runId;
    DeclaredSchedule schedule;

    RunFixture(String runId) {
        this(runId, Thresholds.DEFAULTS);
    }

    RunFixture(String runId, Thresholds thresholds) {
        this.runId = runId;
        this.monitor = new RunMonitor(thresholds, 1, true);
    }

    RunFixture start(String spec, Double gradClip, Integer accum, Long stepsPerEpoch) {
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.RUN_START;
        e.runId = runId;
        e.schedule = spec == null ? null : ScheduleSpec.parse(spec);
        e.gradClip = gradClip;
        e.gradAccumSteps = accum;
        e.stepsPerEpoch = stepsPerEpoch;
        if (spec != null) {
            schedule = ScheduleSpec.parse(spec);
        }
        return feed(e);
    }

    RunFixture start(String spec) {
        return start(spec, null, null, null);
    }

    /**
     * Steps from..to (inclusive) every {@code every}: loss, grad norm (null = not reported), LR of
     * group 0 (null = not reported).
     */
    RunFixture steps(
            long from,
            long to,
            long every,
            LongToDoubleFunction loss,
            LongToDoubleFunction grad,
            LongToDoubleFunction lr) {
        for (long s = from; s <= to; s += every) {
            step(
                    s,
                    loss.applyAsDouble(s),
                    grad == null ? null : grad.applyAsDouble(s),
                    lr == null ? null : lr.applyAsDouble(s),
                    null,
                    null);
        }
        return this;
    }

    RunFixture step(long s, double loss, Double grad, Double lr, String batch, Double lossScale) {
        TrainingEvent e = stepEvent(runId, s, loss, grad, lr);
        e.batch = batch == null ? null : new String[] {batch};
        e.lossScale = lossScale;
        return feed(e);
    }

    /**
     * A step whose LR scheduler has skipped {@code lag} optimizer steps (fp16 overflow skips under
     * HF).
     */
    RunFixture lagged(long s, double loss, double grad, double lr, double lossScale, long lag) {
        TrainingEvent e = stepEvent(runId, s, loss, grad, lr);
        e.lossScale = lossScale;
        e.schedulerLag = lag;
        return feed(e);
    }

    /** A step event of a run: loss, grad norm and the LR of group 0 (null: not reported). */
    static TrainingEvent stepEvent(String runId, long s, double loss, Double grad, Double lr) {
        TrainingEvent e = new TrainingEvent();
        e.type = EventType.STEP;
        e.runId = runId;
        e.step = s;
        e.loss = loss;
        e.gradNorm = grad;
        e.lr = lr == null ? null : new double[] {lr};
        return e;
    }

    private RunFixture feed(TrainingEvent e) {
        RunMonitor.Output out = monitor.onEvent(state, e);
        alerts.addAll(out.alerts());
        withheld.addAll(out.withheldAlerts());
        if (out.series() != null) {
            series.add(out.series());
        }
        return this;
    }

    /** A healthy loss: decaying towards 1 with 2% multiplicative noise. */
    double healthyLoss(long s) {
        return (1 + 2 * Math.exp(-s / 300.0)) * Math.exp(0.02 * noise.nextGaussian());
    }

    double healthyGrad(long s) {
        return 0.8 * Math.exp(0.15 * noise.nextGaussian());
    }

    double declared(long s) {
        return schedule.lr(0, s);
    }

    List<Alert> opened(String kind) {
        return alerts.stream()
                .filter(a -> a.kind.equals(kind) && Alert.OPEN.equals(a.status))
                .toList();
    }

    Alert only(String kind) {
        List<Alert> a = opened(kind);
        if (a.size() != 1) {
            throw new AssertionError(
                    "expected one " + kind + " alert, got " + a + "; all alerts: " + alerts);
        }
        return a.get(0);
    }

    /** The latest word on the first alert of a kind: its update if it had one, else the opening. */
    Alert latest(String kind) {
        List<Alert> all = opened(kind);
        if (all.isEmpty()) {
            throw new AssertionError("no " + kind + " alert; all alerts: " + alerts);
        }
        Alert open = all.get(0);
        return sameAlertWithStatus(alerts, open, Alert.UPDATE).orElse(open);
    }

    /** The first of {@code alerts} that is {@code alert} (its id) with this status, if any. */
    static Optional<Alert> sameAlertWithStatus(List<Alert> alerts, Alert alert, String status) {
        return alerts.stream()
                .filter(a -> a.alertId.equals(alert.alertId) && status.equals(a.status))
                .findFirst();
    }

    /** Evidence or a suggestion as the alert's JSON holds it. */
    static com.fasterxml.jackson.databind.JsonNode json(NamedValues v) {
        return JsonReader.parse(JsonWriter.namedValues(v));
    }
}
