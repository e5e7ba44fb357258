package io.trainwatch.schedule;

import io.trainwatch.PythonClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Python client's {@code spec_from_scheduler} against real torch, live:
 * clients/python/tests/scheduler_fidelity.py builds every torch scheduler class trainwatch supports
 * (several parameterisations each: fresh, mid-run, built with last_epoch, resumed from a
 * state_dict, per-epoch stepping and resumed global steps as the Reporter declares them), records
 * torch's own LRs and the spec the client derives; every LR must come back from the engine within
 * the golden tolerance (ReduceLROnPlateau: inside the range the engine allows). Run under Debian's
 * torch 1.13 (the default interpreter, {@code -Dtrainwatch.python} overrides it) and under torch
 * 2.x ({@link PythonClient.Frameworks#TORCH2_TF5}), whose schedulers built with last_epoch keep the
 * optimizer's LR where 1.13's advance it: the spec says which.
 */
class TorchSchedulerSpecITCase {
    /** Every torch.optim.lr_scheduler class the engine reproduces. */
    static final Set<String> TORCH_CLASSES =
            Set.of(
                    "StepLR",
                    "MultiStepLR",
                    "ExponentialLR",
                    "ConstantLR",
                    "LinearLR",
                    "PolynomialLR",
                    "CosineAnnealingLR",
                    "CosineAnnealingWarmRestarts",
                    "CyclicLR",
                    "OneCycleLR",
                    "LambdaLR",
                    "SequentialLR",
                    "ChainedScheduler",
                    "ReduceLROnPlateau");

    static Stream<Arguments> interpreters() {
        return Stream.of(
                Arguments.of(
                        "default interpreter",
                        (java.util.function.Supplier<String>) PythonClient::interpreter,
                        ""),
                Arguments.of(
                        "torch2-tf5",
                        (java.util.function.Supplier<String>)
                                PythonClient.Frameworks.TORCH2_TF5::interpreter,
                        "2."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("interpreters")
    void shouldMatchTorchForEverySchedulerSpecTheClientDerives(
            String label,
            java.util.function.Supplier<String> interpreter,
            String torchVersionPrefix)
            throws Exception {
        PythonClient.Result run =
                PythonClient.start(
                                interpreter.get(),
                                List.of("clients/python/tests/scheduler_fidelity.py"),
                                java.util.Map.of())
                        .await(Duration.ofSeconds(180));
        assertThat(run.exitCode()).as("scheduler_fidelity.py failed:\n" + run.stderr()).isZero();
        JsonNode root = new ObjectMapper().readTree(run.stdout());
        assertThat(root.get("torch_version").asText()).as(label).startsWith(torchVersionPrefix);

        Set<String> classes = new TreeSet<>();
        List<String> failures = new ArrayList<>();
        long values = 0;
        double maxRelative = 0;
        String worst = "";
        int cases = 0;
        for (JsonNode c : root.get("cases")) {
            cases++;
            String name = c.get("name").asText();
            classes.add(c.get("class").asText());
            DeclaredSchedule s;
            try {
                s = ScheduleSpec.parse(c.get("spec"));
            } catch (InvalidScheduleException e) {
                failures.add(name + ": spec rejected: " + e.getMessage() + " " + c.get("spec"));
                continue;
            }
            JsonNode lr = c.get("lr");
            if (s.groups() != lr.size()) {
                failures.add(name + ": " + s.groups() + " groups, torch has " + lr.size());
                continue;
            }
            long first = c.get("first_step").asLong();
            boolean adaptive = c.get("adaptive").asBoolean();
            assertThat(s.adaptive()).as(name).isEqualTo(adaptive);
            int caseFailures = 0;
            for (int g = 0; g < lr.size(); g++) {
                boolean moved = false;
                for (int i = 0; i < lr.get(g).size(); i++) {
                    double torch = lr.get(g).get(i).asDouble();
                    long step = first + i;
                    values++;
                    moved |= torch != lr.get(g).get(0).asDouble();
                    if (adaptive) {
                        double lo = s.lowestLr(g, step);
                        double hi = s.highestLr(g, step);
                        if (!(torch
                                                >= lo
                                                        - RecordedSchedules.ABS_TOLERANCE
                                                        - RecordedSchedules.REL_TOLERANCE * lo
                                        && torch
                                                <= hi
                                                        + RecordedSchedules.ABS_TOLERANCE
                                                        + RecordedSchedules.REL_TOLERANCE * hi)
                                && caseFailures++ < 3) {
                            failures.add(
                                    name
                                            + " group "
                                            + g
                                            + " step "
                                            + step
                                            + ": torch "
                                            + torch
                                            + " outside ["
                                            + lo
                                            + ", "
                                            + hi
                                            + "]");
                        }
                        continue;
                    }
                    double engine = s.lr(g, step);
                    double rel =
                            torch == 0
                                    ? Math.abs(engine)
                                    : Math.abs(engine - torch) / Math.abs(torch);
                    if (rel > maxRelative) {
                        maxRelative = rel;
                        worst = name + " group " + g + " step " + step;
                    }
                    if (!RecordedSchedules.withinTolerance(engine, torch) && caseFailures++ < 3) {
                        failures.add(
                                name
                                        + " group "
                                        + g
                                        + " step "
                                        + step
                                        + ": torch "
                                        + torch
                                        + ", engine "
                                        + engine
                                        + " (spec "
                                        + c.get("spec")
                                        + ")");
                    }
                }
                if (adaptive) {
                    assertThat(moved)
                            .as(name + ": the plateau case must really lower the LR")
                            .isTrue();
                }
            }
        }
        System.out.printf(
                "torch spec fidelity (torch %s): %d cases, %d LR values, %d classes %s, max relative error %.3g (%s), %d mismatches%n",
                root.get("torch_version").asText(),
                cases,
                values,
                classes.size(),
                classes,
                maxRelative,
                worst,
                failures.size());
        assertThat(failures).as("LRs where the client's spec and torch disagree").isEmpty();
        assertThat(classes).containsAll(TORCH_CLASSES);
        // a torch 2.x resume construction is declared as such (else the resume cases above would
        // only pass by luck)
        long kept = 0;
        for (JsonNode c : root.get("cases")) {
            kept += c.get("spec").path("params").has(ScheduleSpec.KEPT_LR_AT_LAST_EPOCH) ? 1 : 0;
        }
        assertThat(kept)
                .as(
                        "cases declaring kept_lr_at_last_epoch under torch "
                                + root.get("torch_version").asText())
                .isEqualTo(root.get("torch_version").asText().startsWith("1.") ? 0 : 10);
        // where transformers is installed, its own get_scheduler builds every lr_scheduler_type
        // trainwatch declares
        long realTransformers = 0;
        for (JsonNode c : root.get("cases")) {
            realTransformers += c.get("name").asText().startsWith("transformers_") ? 1 : 0;
        }
        assertThat(realTransformers)
                .as("cases built by real transformers")
                .isEqualTo(torchVersionPrefix.isEmpty() ? 0 : 10);
    }
}
