package io.trainwatch.schedule;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeclaredScheduleTest {
    private static final String COSINE_T20 =
            "\"scheduler\":\"CosineAnnealingLR\",\"params\":{\"T_max\":20,\"base_lrs\":[0.1]}";

    @Test
    void shouldExpectStaircaseWhenLightningIntervalIsEpoch() {
        DeclaredSchedule perEpoch =
                ScheduleSpec.parse(
                        "{" + COSINE_T20 + ",\"interval\":\"epoch\",\"steps_per_epoch\":50}");
        DeclaredSchedule perStep = ScheduleSpec.parse("{" + COSINE_T20 + "}");
        assertThat(perEpoch.stepEvery()).isEqualTo(50);
        for (long step = 0; step < 1000; step++) {
            assertThat(perEpoch.lr(0, step)).isEqualTo(perStep.lr(0, step / 50));
        }
        assertThat(perEpoch.lr(0, 49)).isEqualTo(perEpoch.lr(0, 0));
        assertThat(perEpoch.lr(0, 50)).isLessThan(perEpoch.lr(0, 49));
    }

    @Test
    void shouldStepEveryFrequencyIntervals() {
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{"
                                + COSINE_T20
                                + ",\"interval\":\"epoch\",\"frequency\":2,\"steps_per_epoch\":10}");
        assertThat(s.stepEvery()).isEqualTo(20);
        assertThat(
                        ScheduleSpec.parse(
                                        "{"
                                                + COSINE_T20
                                                + ",\"interval\":\"step\",\"frequency\":3}")
                                .stepEvery())
                .isEqualTo(3);
        // steps_per_epoch alone describes the data loader, not the stepping: still per step
        assertThat(ScheduleSpec.parse("{" + COSINE_T20 + ",\"steps_per_epoch\":10}").stepEvery())
                .isEqualTo(1);
    }

    @Test
    void shouldContinueFromLastEpochOnResume() {
        DeclaredSchedule fresh =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":30,\"base_lrs\":[0.1]}}");
        DeclaredSchedule resumed =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":30,\"base_lrs\":[0.1],\"last_epoch\":45}}");
        // torch runs its initial step on construction, so the first resumed step uses index
        // last_epoch + 1
        for (long step = 0; step < 100; step++) {
            assertThat(resumed.lr(0, step)).isEqualTo(fresh.lr(0, step + 46));
        }
        assertThat(resumed.schedulerIndex(0)).isEqualTo(46);
    }

    @Test
    void shouldBoundReduceLrOnPlateauWithoutPredictingIt() {
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"factor\":0.5,\"patience\":2,"
                                + "\"cooldown\":1,\"min_lr\":0.01,\"base_lrs\":[0.1]},\"interval\":\"epoch\",\"steps_per_epoch\":10}");
        assertThat(s.adaptive()).isTrue();
        assertThatThrownBy(() -> s.lr(0, 0))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("range");
        // drops possible after 3 bad epochs, then every cooldown + patience + 1 = 4 epochs, floored
        // at min_lr
        assertThat(s.lowestLr(0, 29)).isEqualTo(0.1);
        assertThat(s.lowestLr(0, 30)).isEqualTo(0.05);
        assertThat(s.lowestLr(0, 69)).isEqualTo(0.05);
        assertThat(s.lowestLr(0, 70)).isEqualTo(0.025);
        assertThat(s.lowestLr(0, 110)).isEqualTo(0.0125);
        assertThat(s.lowestLr(0, 1_000_000)).isEqualTo(0.01);
        assertThat(s.highestLr(0, 1_000_000)).isEqualTo(0.1);
    }

    @Test
    void shouldGiveFiniteValuesAtStepOneBillionForEveryExample() throws IOException {
        List<Path> examples;
        try (Stream<Path> s = Files.list(Path.of("examples/schedules"))) {
            examples = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(examples).hasSizeGreaterThanOrEqualTo(30);
        for (Path p : examples) {
            DeclaredSchedule s = ScheduleSpec.parse(Files.readString(p));
            for (long step : new long[] {0, 1, 999, 1_000_000_000L, Long.MAX_VALUE / 4}) {
                for (int g = 0; g < s.groups(); g++) {
                    double v = s.adaptive() ? s.lowestLr(g, step) : s.lr(g, step);
                    assertThat(v)
                            .as(p.getFileName() + " step " + step)
                            .isFinite()
                            .isGreaterThanOrEqualTo(0);
                }
            }
        }
    }

    @Test
    void shouldFindWarmRestartCycleAtHugeSteps() {
        // T_0 = 10, T_mult = 2: restarts at 10 * (2^k - 1); 10 * (2^26 - 1) = 671088630 starts a
        // cycle
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"CosineAnnealingWarmRestarts\",\"params\":{\"T_0\":10,\"T_mult\":2,\"base_lrs\":[1.0]}}");
        assertThat(s.lr(0, 671_088_630L)).isEqualTo(1.0);
        assertThat(s.lr(0, 671_088_629L)).isLessThan(1e-15);
    }

    @Test
    void shouldRejectNegativeOptimizerStep() {
        DeclaredSchedule s = ScheduleSpec.parse("{" + COSINE_T20 + "}");
        assertThatThrownBy(() -> s.lr(0, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("step must be >= 0");
    }

    /**
     * The warmup as a plain walk finds it: scheduler step by scheduler step while the LR of group 0
     * rises.
     */
    private static DeclaredSchedule.Warmup walked(DeclaredSchedule s, long maxCalls) {
        long every = s.stepEvery();
        long k = 0;
        double lr = s.adaptive() ? s.highestLr(0, 0) : s.lr(0, 0);
        while (k < maxCalls) {
            double next = s.adaptive() ? s.highestLr(0, (k + 1) * every) : s.lr(0, (k + 1) * every);
            if (!(next > lr)) {
                break;
            }
            lr = next;
            k++;
        }
        return new DeclaredSchedule.Warmup(k * every, lr);
    }

    @Test
    void shouldFindTheWarmupOfEveryExampleAndGoldenSpecAsAWalkDoes() throws IOException {
        int checked = 0;
        List<Path> specs = new java.util.ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("examples/schedules"))) {
            specs.addAll(files.filter(p -> p.toString().endsWith(".json")).sorted().toList());
        }
        for (Path f : specs) {
            DeclaredSchedule s = ScheduleSpec.parse(Files.readString(f));
            assertThat(s.warmup()).as(f.getFileName().toString()).isEqualTo(walked(s, 1_000_000));
            checked++;
        }
        com.fasterxml.jackson.databind.ObjectMapper json =
                new com.fasterxml.jackson.databind.ObjectMapper();
        try (Stream<Path> files =
                Files.list(io.trainwatch.SharedData.dir().resolve("golden/schedules"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                for (com.fasterxml.jackson.databind.JsonNode c :
                        json.readTree(f.toFile()).get("cases")) {
                    DeclaredSchedule s = ScheduleSpec.parse(c);
                    assertThat(s.warmup())
                            .as(f.getFileName() + "/" + c.get("name").asText())
                            .isEqualTo(walked(s, 1_000_000));
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(100);
    }

    @Test
    void shouldFindALongWarmupExactlyWithoutWalkingIt() {
        // 3,000,000 steps of linear warmup: past the exact walk, found by doubling and bisecting
        DeclaredSchedule s =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"linear\",\"params\":{\"num_warmup_steps\":3000000,"
                                + "\"num_training_steps\":9000000,\"base_lrs\":[0.001]}}");
        assertThat(s.warmup()).isEqualTo(new DeclaredSchedule.Warmup(3_000_000, 0.001));
        // per epoch of 1,000 steps: the warmup ends at an epoch boundary, in optimizer steps
        DeclaredSchedule perEpoch =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"LinearLR\",\"params\":{\"start_factor\":0.01,\"total_iters\":40000,"
                                + "\"base_lrs\":[0.1]},\"interval\":\"epoch\",\"steps_per_epoch\":1000}");
        assertThat(perEpoch.warmup().endStep()).isEqualTo(40_000L * 1000);
        assertThat(perEpoch.warmup().peakLr()).isEqualTo(perEpoch.lr(0, 40_000L * 1000));
        // still rising at the last step a schedule is evaluated at
        DeclaredSchedule endless =
                ScheduleSpec.parse(
                        "{\"scheduler\":\"LinearLR\",\"params\":{\"start_factor\":0.01,\"total_iters\":9007199254740992,"
                                + "\"base_lrs\":[0.1]}}");
        assertThat(endless.warmup().endStep()).isEqualTo(SpecLimits.MAX_STEP);
        // no warmup at all, and an adaptive schedule
        assertThat(
                        ScheduleSpec.parse(
                                        "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":5,\"base_lrs\":[0.1]}}")
                                .warmup())
                .isEqualTo(new DeclaredSchedule.Warmup(0, 0.1));
        assertThat(
                        ScheduleSpec.parse(
                                        "{\"scheduler\":\"ReduceLROnPlateau\",\"params\":{\"base_lrs\":[0.1]}}")
                                .warmup()
                                .endStep())
                .isZero();
    }
}
