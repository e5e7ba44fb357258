package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.NamedValues;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import io.trainwatch.threshold.Thresholds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A run whose logs count steps from 1 ({@code step_base} 1, HF's global_step): alerts keep {@code
 * step} and every number of evidence and suggestion as 0-based optimizer steps, and name step + 1
 * wherever a person reads a step (message, diagnosis, the suggested change).
 */
class StepBaseTest {
    /** A step named in a text: "Step 500:", "at step 17", "resume from step 3". */
    private static final Pattern NAMED_STEP = Pattern.compile("([Ss]tep )(\\d+)");

    @Test
    void shouldNameHfsGlobalStepInTheTextsAndKeepTheOptimizerStepInTheNumbers() {
        RunFixture r = new RunFixture("hf-nan").start(COSINE);
        TrainingEvent hf = new TrainingEvent();
        hf.type = EventType.RUN_START;
        hf.runId = r.runId;
        hf.schedule = r.schedule;
        hf.stepBase = 1;
        r.monitor.onEvent(r.state, hf);
        r.steps(0, 499, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(500, Double.NaN, Double.NaN, r.declared(500), "shard-3/batch-1207", null);

        Alert a = r.only("NON_FINITE");
        assertThat(a.step).isEqualTo(500);
        assertThat(a.onsetStep).isEqualTo(500);
        assertThat(a.displayStep).isEqualTo(501);
        assertThat(a.alertId).isEqualTo("hf-nan/NON_FINITE/500");
        assertThat(a.message)
                .isEqualTo(
                        "Step 501: loss is NaN and grad norm is NaN with healthy gradients just before:"
                                + " suspect this step's batch (shard-3/batch-1207).");
        assertThat(a.diagnosis).contains("the batch of step 501 is shard-3/batch-1207");
        var suggestion = RunFixture.json(a.suggestion);
        assertThat(suggestion.path("rewind_to_step").asLong()).isEqualTo(499);
        assertThat(suggestion.path("change").asText())
                .isEqualTo(
                        "inspect the batch of step 501 (shard-3/batch-1207) for empty, corrupted or"
                                + " mislabelled samples; resume from step 500 skipping it");
        assertThat(JsonWriter.alert(a))
                .contains("\"step\":500,\"display_step\":501,\"onset_step\":500,");
    }

    @Test
    void shouldCountFromZeroWhenTheRunStartSaysNothingOrARunStartsAnew() {
        RunFixture r = new RunFixture("plain").start(COSINE);
        r.steps(0, 499, 1, r::healthyLoss, r::healthyGrad, r::declared);
        r.step(500, Double.NaN, Double.NaN, r.declared(500), null, null);
        Alert a = r.only("NON_FINITE");
        assertThat(a.displayStep).isEqualTo(500);
        assertThat(a.message).startsWith("Step 500: ");
        // each run_start declares the run anew: one without step_base counts from 0 again
        r.state.stepBase = 1;
        r.start(COSINE);
        assertThat(r.state.stepBase).isZero();
    }

    /**
     * Every fault of the scenario suite, replayed as sent and again with {@code step_base} 1: the
     * same alerts, with display_step = step + 1 and each step a text names one higher; nothing else
     * differs.
     */
    @Test
    void shouldChangeOnlyTheStepsTheTextsNameOnEveryKindOfAlert() throws Exception {
        int alerts = 0;
        int textsNamingSteps = 0;
        List<String> kinds = new ArrayList<>();
        for (Fault fault : Fault.values()) {
            for (long seed = 0; seed < 3; seed++) {
                SimulatedRun run =
                        RunSimulator.generate(9_100_000L + 100 * fault.ordinal() + seed, fault);
                List<Alert> zero = replay(run, null);
                List<Alert> one = replay(run, 1);
                assertThat(one).as(run.runId()).hasSameSizeAs(zero);
                for (int i = 0; i < zero.size(); i++) {
                    Alert z = zero.get(i);
                    Alert o = one.get(i);
                    String id = run.runId() + " " + z;
                    assertThat(z.displayStep).as(id).isEqualTo(z.step);
                    assertThat(o.displayStep).as(id).isEqualTo(o.step + 1);
                    assertThat(
                                    List.of(
                                            o.alertId,
                                            o.kind,
                                            o.severity,
                                            o.status,
                                            o.step,
                                            o.onsetStep))
                            .as(id)
                            .isEqualTo(
                                    List.of(
                                            z.alertId,
                                            z.kind,
                                            z.severity,
                                            z.status,
                                            z.step,
                                            z.onsetStep));
                    assertThat(o.evidence).as(id).isEqualTo(z.evidence);
                    assertThat(withoutChange(o.suggestion))
                            .as(id)
                            .isEqualTo(withoutChange(z.suggestion));
                    assertThat(o.message).as(id).isEqualTo(plusOne(z.message));
                    assertThat(o.diagnosis).as(id).isEqualTo(plusOne(z.diagnosis));
                    assertThat(change(o.suggestion))
                            .as(id)
                            .isEqualTo(plusOne(change(z.suggestion)));
                    alerts++;
                    textsNamingSteps += NAMED_STEP.matcher(z.message).find() ? 1 : 0;
                    if (!kinds.contains(z.kind)) {
                        kinds.add(z.kind);
                    }
                }
            }
        }
        assertThat(alerts).isGreaterThan(50);
        assertThat(textsNamingSteps).isPositive();
        assertThat(kinds)
                .contains(
                        "NON_FINITE",
                        "LR_MISMATCH",
                        "LOSS_SPIKE",
                        "WARMUP_SPIKE",
                        "GRAD_EXPLOSION",
                        "DIVERGENCE",
                        "STALL");
    }

    private static List<Alert> replay(SimulatedRun run, Integer stepBase) throws Exception {
        EventCodec codec = new EventCodec();
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        List<Alert> out = new ArrayList<>();
        for (String line : run.events()) {
            TrainingEvent e = codec.parse(line);
            if (e.type == EventType.RUN_START) {
                e.stepBase = stepBase;
            }
            out.addAll(monitor.onEvent(state, e).alerts());
        }
        return out;
    }

    /** {@code text} with every step it names one higher. */
    private static String plusOne(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = NAMED_STEP.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, m.group(1) + (Long.parseLong(m.group(2)) + 1));
        }
        return m.appendTail(b).toString();
    }

    private static String change(NamedValues v) {
        return v == null || !RunFixture.json(v).has("change")
                ? null
                : RunFixture.json(v).path("change").asText();
    }

    private static JsonNode withoutChange(NamedValues v) {
        if (v == null) {
            return null;
        }
        ObjectNode o = (ObjectNode) RunFixture.json(v);
        o.remove("change");
        return o;
    }
}
