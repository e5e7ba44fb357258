package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The scheduler names a spec may use and how their arguments are checked, called directly
 * (ScheduleSpec covers the rest of a spec).
 */
class SchedulerCatalogTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode params(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Schedule build(String name, String params) {
        return SchedulerCatalog.build(
                name, "scheduler", params(params), "params", SchedulerCatalog.Context.TOP);
    }

    @Test
    void shouldKnowTheSchedulersOfEachFrameworkByTheirOwnNames() {
        assertThat(SchedulerCatalog.BUILDERS)
                .containsKeys(
                        "StepLR",
                        "CosineAnnealingWarmRestarts",
                        "OneCycleLR",
                        "SequentialLR",
                        "ReduceLROnPlateau", // PyTorch
                        "cosine",
                        "linear",
                        "constant_with_warmup", // Hugging Face lr_scheduler_type
                        "FactorScheduler",
                        "CosineScheduler", // MXNet
                        "WarmupMultiStepLR",
                        "YOLOv5LR", // detectron2, YOLOv5
                        "WarmupLR",
                        "WarmupDecayLR",
                        "WarmupCosineLR"); // DeepSpeed
    }

    @Test
    void shouldBuildTheScheduleTheArgumentsDescribe() {
        Schedule s = build("StepLR", "{\"step_size\":10,\"gamma\":0.5,\"base_lrs\":[0.1, 0.01]}");
        assertThat(s.groups()).isEqualTo(2);
        assertThat(s.lr(0, 9)).isEqualTo(0.1);
        assertThat(s.lr(0, 10)).isEqualTo(0.05);
        assertThat(s.lr(1, 20)).isCloseTo(0.0025, org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void shouldSuggestTheClosestNameForAnUnknownScheduler() {
        assertThatThrownBy(() -> build("CosineAnealingLR", "{\"T_max\":10,\"base_lrs\":[0.1]}"))
                .isInstanceOf(InvalidScheduleException.class)
                .hasMessageContaining("unknown scheduler \"CosineAnealingLR\"")
                .hasMessageContaining("did you mean \"CosineAnnealingLR\"?");
    }

    @Test
    void shouldNameTheArgumentItRefusesAndWhatIsAllowed() {
        assertThatThrownBy(() -> build("StepLR", "{\"step_size\":0,\"base_lrs\":[0.1]}"))
                .isInstanceOfSatisfying(
                        InvalidScheduleException.class,
                        e -> {
                            assertThat(e.field()).isEqualTo("params.step_size");
                            assertThat(e.reason()).isEqualTo("must be >= 1, got 0");
                        });
        assertThatThrownBy(
                        () ->
                                build(
                                        "StepLR",
                                        "{\"step_size\":10,\"gamma\":-0.5,\"base_lrs\":[0.1]}"))
                .hasMessageContaining("a negative gamma flips the LR's sign");
    }

    @Test
    void shouldRefuseAMisspeltArgumentInsteadOfFallingBackToADefault() {
        assertThatThrownBy(
                        () -> build("StepLR", "{\"step_size\":10,\"gama\":0.5,\"base_lrs\":[0.1]}"))
                .isInstanceOf(InvalidScheduleException.class)
                .hasMessageContaining("gama");
    }

    @Test
    void shouldAcceptTheRecordKeepingArgumentsOfTheGoldenFiles() {
        Schedule s =
                build(
                        "StepLR",
                        "{\"step_size\":10,\"base_lrs\":[0.1],\"verbose\":false,\"formula\":\"lr * gamma ** (epoch // step_size)\"}");
        assertThat(s.lr(0, 10)).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void shouldGiveAChildSchedulerItsParentsBaseLrsAndRefuseItsOwn() {
        SchedulerCatalog.Context child =
                new SchedulerCatalog.Context(new double[] {0.5}, false, true);
        Schedule s =
                SchedulerCatalog.build(
                        "ExponentialLR", "scheduler", params("{\"gamma\":0.5}"), "params", child);
        assertThat(s.lr(0, 1)).isEqualTo(0.25);
        assertThatThrownBy(
                        () ->
                                SchedulerCatalog.build(
                                        "ExponentialLR",
                                        "scheduler",
                                        params("{\"gamma\":0.5,\"base_lrs\":[1]}"),
                                        "params",
                                        child))
                .hasMessageContaining("belongs to the outer scheduler");
        assertThatThrownBy(
                        () ->
                                SchedulerCatalog.build(
                                        "ExponentialLR",
                                        "scheduler",
                                        params("{\"gamma\":0.5,\"last_epoch\":3}"),
                                        "params",
                                        child))
                .hasMessageContaining("must be -1 for a child scheduler");
    }
}
