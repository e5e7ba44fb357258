package io.trainwatch.detect;

import io.trainwatch.event.Alert;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.trainwatch.detect.RunFixture.COSINE;
import static org.assertj.core.api.Assertions.assertThat;

/** LOSS_SPIKE and WARMUP_SPIKE: isolated against sustained spikes, and a warmup blow-up. */
class SpikeDetectorTest {
    @Test
    void shouldWarnOnIsolatedSpikeWithoutEscalating() {
        RunFixture r = new RunFixture("isolated").start(COSINE);
        r.steps(
                0,
                999,
                1,
                s -> s == 600 || s == 800 || s == 900 ? 4 * r.healthyLoss(s) : r.healthyLoss(s),
                r::healthyGrad,
                r::declared);
        Alert a = r.only("LOSS_SPIKE");
        assertThat(a.severity).isEqualTo("warning");
        assertThat(a.onsetStep).isEqualTo(600);
        assertThat(r.alerts)
                .noneMatch(x -> x.kind.equals("LOSS_SPIKE") && x.severity.equals("critical"));
    }

    @Test
    void shouldGoCriticalOnSustainedSpikesAndSuggestRewindAndSkip() {
        RunFixture r = new RunFixture("sustained").start(COSINE);
        r.steps(
                0,
                1200,
                1,
                s ->
                        (s >= 600 && s < 606) || (s >= 700 && s < 706) || (s >= 800 && s < 806)
                                ? 3 * r.healthyLoss(s)
                                : r.healthyLoss(s),
                r::healthyGrad,
                r::declared);
        Alert open = r.only("LOSS_SPIKE");
        assertThat(open.severity).isEqualTo("critical");
        assertThat(open.onsetStep).isEqualTo(600);
        Alert update =
                r.alerts.stream()
                        .filter(a -> a.kind.equals("LOSS_SPIKE") && a.status.equals("update"))
                        .findFirst()
                        .orElseThrow();
        var sug = RunFixture.json(update.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("rewind_and_skip");
        assertThat(sug.path("rewind_to_step").asLong()).isEqualTo(500);
        assertThat(sug.path("skip_batches")).hasSize(3);
    }

    /**
     * Bad batches at 600, 700 and 800 (a jump of 50x from the step before); after the first, the
     * damaged model's loss climbs step by step past the spike line: that is a spike of the
     * incident, but its batch is not to blame.
     */
    @Test
    void shouldNameOnlyBatchesThatJumpedAndAddEachNewOneToTheRewind() {
        RunFixture r = new RunFixture("bad-batches").start(COSINE);
        for (long s = 0; s <= 1000; s++) {
            double loss = r.healthyLoss(s);
            if (s == 600 || s == 700 || s == 800) {
                loss *= 50;
            } else if (s > 600 && s < 640) {
                loss *= 1 + 0.1 * Math.min(s - 600, 25); // the climb after the first
            }
            r.step(s, loss, r.healthyGrad(s), r.declared(s), "b" + s, null);
        }
        List<Alert> rewinds =
                r.alerts.stream()
                        .filter(a -> a.kind.equals("LOSS_SPIKE") && a.status.equals("update"))
                        .toList();
        assertThat(rewinds).extracting(a -> a.step).containsExactly(700L, 800L);
        var first = RunFixture.json(rewinds.get(0).suggestion);
        var refined = RunFixture.json(rewinds.get(1).suggestion);
        assertThat(first.path("skip_batches").toString()).isEqualTo("[\"b600\",\"b700\"]");
        assertThat(refined.path("skip_batches").toString())
                .isEqualTo("[\"b600\",\"b700\",\"b800\"]");
        // one rewind step and one LR factor for the incident: only the list grows
        assertThat(refined.path("rewind_to_step").asLong())
                .isEqualTo(first.path("rewind_to_step").asLong())
                .isEqualTo(500);
        assertThat(refined.path("lr_factor").asDouble())
                .isEqualTo(first.path("lr_factor").asDouble());
        assertThat(rewinds.get(1).severity).isEqualTo("critical");
    }

    @Test
    void shouldFlagWarmupBlowupAndSuggestLongerWarmup() {
        RunFixture r = new RunFixture("warmup").start(COSINE);
        r.steps(
                0,
                200,
                1,
                s -> s >= 60 && s < 120 ? 3 * r.healthyLoss(s) : r.healthyLoss(s),
                r::healthyGrad,
                r::declared);
        Alert a = r.only("WARMUP_SPIKE");
        assertThat(a.onsetStep).isEqualTo(60);
        var sug = RunFixture.json(a.suggestion);
        assertThat(sug.path("action").asText()).isEqualTo("extend_warmup");
        assertThat(sug.path("warmup_steps").asLong()).isGreaterThanOrEqualTo(200);
        assertThat(sug.path("new_lr").asDouble()).isEqualTo(5e-4);
    }
}
