package io.trainwatch.cli;

import io.trainwatch.SharedData;
import io.trainwatch.event.JsonReader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ImportReplayCommandTest {
    @Test
    void shouldImportARealRunAndReplayItWithMalformedLinesCountedAndDeadLettered(@TempDir Path tmp)
            throws Exception {
        Path spec = tmp.resolve("schedule.json");
        Files.writeString(
                spec,
                "{\"scheduler\":\"linear\",\"params\":{\"num_warmup_steps\":5,\"num_training_steps\":60,\"base_lrs\":[2e-4]}}");
        Path events = tmp.resolve("events.jsonl");
        Path state =
                SharedData.dir()
                        .resolve(
                                "data/real-runs/hf-unsloth-llama31-fp16-nan-b/outputs__checkpoint-60__trainer_state.json");
        CliRunner.Result imported =
                CliRunner.run(
                        "import",
                        "--format",
                        "hf-trainer-state",
                        state.toString(),
                        "--schedule",
                        spec.toString(),
                        "--run-id",
                        "unsloth-b",
                        "--output",
                        events.toString());
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        assertThat(imported.out()).contains("60 records read, 61 events written");
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(events));
        // HF's global_step counts the steps done: the run_start says so
        assertThat(JsonReader.parse(lines.get(0)).path("step_base").asInt()).isEqualTo(1);
        lines.add("{\"type\":\"step\",\"run_id\":\"unsloth-b\",\"step\":-3,\"loss\":1}");
        lines.add("{broken");
        Files.write(events, lines);

        Path alerts = tmp.resolve("alerts.jsonl");
        CliRunner.Result r =
                CliRunner.run(
                        "replay",
                        "--input",
                        events.toString(),
                        "--output",
                        alerts.toString(),
                        "--series",
                        tmp.resolve("series.jsonl").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out())
                .contains(
                        "events read      63",
                        "accepted       61",
                        "dead-lettered  2",
                        "runs             1",
                        "NON_FINITE warning (open)");
        List<String> dead =
                Files.readAllLines(alerts.resolveSibling("alerts.jsonl.dead-letter.jsonl"));
        assertThat(dead).hasSize(2);
        assertThat(dead)
                .anySatisfy(
                        d ->
                                assertThat(JsonReader.parse(d).path("field").asText())
                                        .isEqualTo("step"));
        assertThat(Files.readAllLines(alerts))
                .anySatisfy(
                        a -> {
                            var n = JsonReader.parse(a);
                            assertThat(n.path("kind").asText()).isEqualTo("NON_FINITE");
                            // the second GradScaler overflow, an update of the incident the first
                            // (step 5) opened; trainer_state.json logs it at "step": 18
                            assertThat(n.path("occurrences").asInt()).isEqualTo(2);
                            assertThat(n.path("step").asLong()).isEqualTo(17);
                            assertThat(n.path("display_step").asLong()).isEqualTo(18);
                            assertThat(n.path("message").asText()).startsWith("Step 18: ");
                        });
        assertThat(Files.readAllLines(tmp.resolve("series.jsonl"))).hasSize(60);
    }

    @Test
    void shouldRefuseBadArgumentsWithOneLine(@TempDir Path tmp) {
        CliRunner.Result badFormat =
                CliRunner.run(
                        "import",
                        "--format",
                        "wandb",
                        tmp.resolve("x").toString(),
                        "--output",
                        tmp.resolve("o").toString());
        assertThat(badFormat.exitCode()).isEqualTo(2);
        assertThat(badFormat.err().trim())
                .startsWith(
                        "error: --format must be one of hf-trainer-state, yolov5-results, detectron2-metrics, modded-nanogpt-log");
        CliRunner.Result noInput =
                CliRunner.run(
                        "replay",
                        "--input",
                        tmp.resolve("missing").toString(),
                        "--output",
                        tmp.resolve("o").toString());
        assertThat(noInput.exitCode()).isEqualTo(2);
        assertThat(noInput.err()).contains("--input: no such file or folder");
        CliRunner.Result badThreshold =
                CliRunner.run(
                        "replay",
                        "--input",
                        tmp.toString(),
                        "--output",
                        tmp.resolve("o").toString(),
                        "--threshold",
                        "spike_k=3");
        assertThat(badThreshold.exitCode()).isEqualTo(2);
        assertThat(badThreshold.err()).contains("unknown threshold \"spike_k\"");
        CliRunner.Result outOfRange =
                CliRunner.run(
                        "replay",
                        "--input",
                        tmp.toString(),
                        "--output",
                        tmp.resolve("o").toString(),
                        "--threshold",
                        "lr_mismatch_steps=0");
        assertThat(outOfRange.exitCode()).isEqualTo(2);
        assertThat(outOfRange.err().trim())
                .isEqualTo(
                        "error: --threshold: lr_mismatch_steps: must be an integer from 1 to 1000000000, got 0");
    }

    /**
     * The reproduction: one run_start with a negative threshold made replay end "Job
     * execution failed".
     */
    @Test
    void shouldDeadLetterRunStartsWithBadThresholdsAndJudgeTheOtherRunsAsAlone(@TempDir Path tmp)
            throws Exception {
        String spec =
                "{\"scheduler\":\"linear\",\"params\":{\"num_warmup_steps\":5,\"num_training_steps\":400,\"base_lrs\":[0.001]}}";
        List<String> healthy = new java.util.ArrayList<>();
        healthy.add("{\"type\":\"run_start\",\"run_id\":\"good\",\"schedule\":" + spec + "}");
        for (int s = 0; s < 300; s++) {
            double loss =
                    s == 200 ? Double.NaN : 2.0 * Math.exp(-s / 100.0) + 0.5 + 0.01 * Math.sin(s);
            healthy.add(
                    "{\"type\":\"step\",\"run_id\":\"good\",\"step\":"
                            + s
                            + ",\"loss\":"
                            + (Double.isNaN(loss) ? "NaN" : loss)
                            + ",\"grad_norm\":1.0}");
        }
        List<String> mixed = new java.util.ArrayList<>(healthy);
        String[] bad = {
            "{\"spike_mad_k\":-1}",
            "{\"lr_mismatch_steps\":0}",
            "{\"grad_ema_alpha\":\"0.1\"}",
            "{\"spike_k\":3}",
            "{\"spike_min_points\":2.5}"
        };
        for (int i = 0; i < bad.length; i++) {
            mixed.add(
                    40 * (i + 1),
                    "{\"type\":\"run_start\",\"run_id\":\"bad-"
                            + i
                            + "\",\"schedule\":"
                            + spec
                            + ",\"thresholds\":"
                            + bad[i]
                            + "}");
            mixed.add(
                    40 * (i + 1) + 1,
                    "{\"type\":\"step\",\"run_id\":\"bad-" + i + "\",\"step\":0,\"loss\":NaN}");
        }
        Path alone = replay(tmp, "alone", healthy);
        Path both = replay(tmp, "mixed", mixed);
        List<String> goodAlerts =
                Files.readAllLines(both).stream()
                        .filter(a -> a.contains("\"run_id\":\"good\""))
                        .toList();
        assertThat(goodAlerts).isNotEmpty().isEqualTo(Files.readAllLines(alone));
        List<com.fasterxml.jackson.databind.JsonNode> dead =
                Files.readAllLines(both.resolveSibling(both.getFileName() + ".dead-letter.jsonl"))
                        .stream()
                        .map(JsonReader::parse)
                        .toList();
        assertThat(dead)
                .extracting(d -> d.path("field").asText())
                .containsExactlyInAnyOrder(
                        "thresholds.spike_mad_k",
                        "thresholds.lr_mismatch_steps",
                        "thresholds.grad_ema_alpha",
                        "thresholds.spike_k",
                        "thresholds.spike_min_points");
        assertThat(dead)
                .extracting(d -> d.path("reason").asText())
                .contains("thresholds.spike_mad_k: must be a finite number > 0, got -1");
    }

    private static Path replay(Path tmp, String name, List<String> lines) throws Exception {
        Path in = tmp.resolve(name + ".jsonl");
        Files.write(in, lines);
        Path out = tmp.resolve(name + "-alerts.jsonl");
        CliRunner.Result r =
                CliRunner.run("replay", "--input", in.toString(), "--output", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("events read      " + lines.size());
        return out;
    }
}
