package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lightning's {@code "interval": "step"} with a {@code frequency} (spec fields {@code
 * batches_per_epoch}, {@code accumulate_grad_batches}): checked against LR traces recorded from
 * real Lightning (src/test/resources/schedule/lightning-frequency.json, see its note) and against
 * Lightning's loop transcribed.
 */
class SchedulerSteppingTest {

    @Test
    void shouldReproduceTheLrRealLightningSteppedWithAtEveryOptimizerStep() throws Exception {
        JsonNode recorded;
        try (InputStream in =
                SchedulerSteppingTest.class.getResourceAsStream(
                        "/schedule/lightning-frequency.json")) {
            recorded = new ObjectMapper().readTree(in);
        }
        int values = 0;
        for (JsonNode c : recorded.get("cases")) {
            DeclaredSchedule s = ScheduleSpec.parse(c.get("spec"));
            JsonNode lr = c.get("lr");
            assertThat(lr.size()).isGreaterThanOrEqualTo(10);
            for (int step = 0; step < lr.size(); step++) {
                assertThat(s.lr(0, step))
                        .as("%s at optimizer step %d", c.get("spec"), step)
                        .isEqualTo(lr.get(step).doubleValue());
                values++;
            }
        }
        assertThat(values).isEqualTo(175);
    }

    @Test
    void shouldHoldOneLrAcrossTheEpochBoundaryWithFrequencyThreeOverTenBatches() {
        // batch_idx restarts every epoch: steps after batches 2, 5, 8 of each epoch, none after
        // batch 9
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":0.5,\"base_lrs\":[1.0]},"
                                + "\"interval\":\"step\",\"frequency\":3,\"batches_per_epoch\":10}");
        long[] index = new long[14];
        for (int step = 0; step < index.length; step++) {
            index[step] = s.schedulerIndex(step);
        }
        assertThat(index).containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4);
        assertThat(s.stepEvery()).isEqualTo(3);
    }

    @Test
    void shouldStepAtEveryOptimizerStepWithFrequencyTwoAndAccumulationTwo() {
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"ExponentialLR\",\"params\":{\"gamma\":0.5,\"base_lrs\":[1.0]},"
                                + "\"frequency\":2,\"batches_per_epoch\":10,\"accumulate_grad_batches\":2}");
        for (long step = 0; step < 1000; step++) {
            assertThat(s.schedulerIndex(step)).isEqualTo(step);
        }
    }

    /**
     * Lightning 2.x's training epoch loop, transcribed: scheduler.step() calls before each
     * optimizer step.
     */
    private static long[] lightningLoop(long batches, long accumulate, long frequency, int epochs) {
        int perEpoch = (int) ((batches + accumulate - 1) / accumulate);
        long[] before = new long[perEpoch * epochs + 1];
        int step = 0;
        long calls = 0;
        for (int e = 0; e < epochs; e++) {
            for (long batchIdx = 0; batchIdx < batches; batchIdx++) {
                boolean optimizerSteps =
                        (batchIdx + 1) % accumulate == 0 || batchIdx == batches - 1;
                if (optimizerSteps) {
                    step++;
                    if ((batchIdx + 1) % frequency == 0) {
                        calls++;
                    }
                    before[step] = calls;
                }
            }
        }
        return before;
    }

    @Test
    void shouldAgreeWithLightningsLoopAndInvertForEveryShape() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            long b = 1 + rnd.nextInt(40);
            long a = 1 + rnd.nextInt(6);
            long f = 1 + rnd.nextInt(12);
            int epochs = 1 + rnd.nextInt(5);
            SchedulerStepping.LightningFrequency st =
                    new SchedulerStepping.LightningFrequency(b, a, f);
            long[] before = lightningLoop(b, a, f, epochs);
            for (int step = 0; step < before.length; step++) {
                assertThat(st.callsBefore(step))
                        .as("seed %d: B=%d A=%d F=%d step %d", seed, b, a, f, step)
                        .isEqualTo(before[step]);
            }
            for (long k = 0; k <= before[before.length - 1]; k++) {
                long first = st.firstStepAfter(k);
                assertThat(st.callsBefore(first))
                        .as("seed %d: B=%d A=%d F=%d call %d", seed, b, a, f, k)
                        .isGreaterThanOrEqualTo(k);
                if (first > 0) {
                    assertThat(st.callsBefore(first - 1)).isLessThan(k);
                }
            }
        }
    }

    @Test
    void shouldStayInsideALongAtTheLargestShapesAndSteps() {
        long max = SpecLimits.MAX_STEP_EVERY;
        for (SchedulerStepping.LightningFrequency st :
                new SchedulerStepping.LightningFrequency[] {
                    new SchedulerStepping.LightningFrequency(max, 1, 1),
                            new SchedulerStepping.LightningFrequency(max, max, max),
                    new SchedulerStepping.LightningFrequency(1, max, 1),
                            new SchedulerStepping.LightningFrequency(max - 1, 3, max)
                }) {
            long calls = st.callsBefore(SpecLimits.MAX_STEP);
            assertThat(calls).isBetween(0L, SpecLimits.MAX_STEP);
            assertThat(st.firstStepAfter(calls)).isBetween(0L, SpecLimits.MAX_STEP);
        }
    }

    @Test
    void shouldFindTheWarmupInOptimizerStepsUnderLightningFrequency() {
        // LinearLR warmup over 4 scheduler steps, frequency 3 over 10 batches: the calls follow
        // optimizer steps 2, 5, 8 and (batch_idx restarts) 12
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"LinearLR\",\"params\":{\"start_factor\":0.2,\"total_iters\":4,\"base_lrs\":[0.1]},"
                                + "\"frequency\":3,\"batches_per_epoch\":10}");
        assertThat(s.warmup().endStep()).isEqualTo(13);
        assertThat(s.warmup().peakLr()).isEqualTo(s.lr(0, 13));
        assertThat(s.lr(0, 12)).isLessThan(s.lr(0, 13));
        DeclaredSchedule never =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"LinearLR\",\"params\":{\"start_factor\":0.2,\"total_iters\":4,\"base_lrs\":[0.1]},"
                                + "\"frequency\":7,\"batches_per_epoch\":5}");
        assertThat(never.warmup()).isEqualTo(new DeclaredSchedule.Warmup(0, never.lr(0, 0)));
        assertThat(never.lr(0, 1_000_000)).isEqualTo(never.lr(0, 0));
    }
}
