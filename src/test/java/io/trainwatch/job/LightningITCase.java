package io.trainwatch.job;

import io.trainwatch.PythonClient;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * trainwatch_client.lightning.TrainwatchCallback on real Lightning 2.6 (the torch2-tf5
 * environment), end to end: a real Kafka broker in-process, the live job, and
 * clients/python/tests/frameworks/lightning_runs.py training tiny models on CPU in several
 * scenarios (and a 2-process DDP run), each printing its truth: the LR the optimizer stepped with
 * and the loss Lightning logged at every optimizer step. Every reported value is checked against
 * that truth, and each scenario's alerts against what it should (and should not) raise.
 */
class LightningITCase {
    @RegisterExtension static final InProcessBroker broker = new InProcessBroker();
    static final ObjectMapper JSON =
            JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    static final String SCRIPT = "clients/python/tests/frameworks/lightning_runs.py";

    /**
     * The callback averages micro-batch losses in float32 (torch), the truth in float64 (Python)
     * from the same float32 values: measured up to 5.4e-8 relative with accumulation; without
     * averaging they are equal.
     */
    static final double LOSS_RELATIVE_TOLERANCE = 1e-6;

    static final Set<String> RUNS =
            Set.of(
                    "healthy",
                    "nan_batch",
                    "per_epoch",
                    "accumulation",
                    "frequency",
                    "frequency_accum",
                    "resume",
                    "bf16",
                    "fp16_scaler",
                    "unsupported",
                    "unsized_epoch",
                    "manual",
                    "exception",
                    "ddp");

    @Test
    void shouldReportRealLightningRunsExactlyAndCatchWhatGoesWrong() throws Exception {
        String name = "lightning";
        LiveJob job = broker.startJob("lightning");
        JobConfig cfg = job.config;
        try {
            String python = PythonClient.Frameworks.TORCH2_TF5.interpreter();
            List<String> common =
                    List.of(
                            SCRIPT,
                            "--bootstrap-servers",
                            cfg.bootstrapServers(),
                            "--topic",
                            cfg.eventsTopic(),
                            "--prefix",
                            "lit-");
            // both at once: the ddp run relaunches the script as a second process, so it runs in
            // its own invocation
            PythonClient.Running scenarios = PythonClient.start(python, common, Map.of());
            List<String> ddpArgs = new ArrayList<>(common);
            ddpArgs.addAll(List.of("--only", "ddp"));
            PythonClient.Running ddp = PythonClient.start(python, ddpArgs, Map.of());
            Map<String, JsonNode> truths = new LinkedHashMap<>();
            for (PythonClient.Running run : List.of(scenarios, ddp)) {
                PythonClient.Result r = run.await(Duration.ofSeconds(200));
                assertThat(r.exitCode())
                        .as("stdout:\n" + r.stdout() + "\nstderr:\n" + r.stderr())
                        .isZero();
                System.out.printf(
                        "lightning_runs.py%s: %.1f s%n",
                        run == ddp ? " --only ddp" : "", r.took().toMillis() / 1000.0);
                for (String line :
                        r.stdout().lines().filter(l -> l.startsWith("TRUTH ")).toList()) {
                    JsonNode t = JSON.readTree(line.substring(6));
                    truths.put(t.get("scenario").asText(), t);
                }
            }
            assertThat(truths.keySet()).containsExactlyInAnyOrderElementsOf(RUNS);

            long events = job.awaitEventsRead(Duration.ofSeconds(90));
            Map<String, List<JsonNode>> byRun = new LinkedHashMap<>();
            for (ConsumerRecord<String, String> rec : job.topics.readCommitted(cfg.eventsTopic())) {
                byRun.computeIfAbsent(rec.key(), k -> new ArrayList<>())
                        .add(JSON.readTree(rec.value()));
            }
            List<JsonNode> alerts = new ArrayList<>();
            for (ConsumerRecord<String, String> rec : job.topics.readCommitted(cfg.alertsTopic())) {
                alerts.add(JSON.readTree(rec.value()));
            }
            System.out.printf(
                    "lightning e2e: %d events, %d alerts (read_committed) %.1f s after the job started%n",
                    events, alerts.size(), job.secondsSinceStart());
            AlertLines.print(alerts, 20);
            assertThat(job.topics.readCommitted(cfg.deadLetterTopic()))
                    .as("every event the callback wrote is valid v1")
                    .isEmpty();

            for (JsonNode t : truths.values()) {
                String scenario = t.get("scenario").asText();
                String runId = t.get("run_id").asText();
                List<JsonNode> ev = byRun.getOrDefault(runId, List.of());
                List<JsonNode> starts =
                        ev.stream()
                                .filter(e -> e.get("type").asText().equals("run_start"))
                                .toList();
                List<JsonNode> ends =
                        ev.stream().filter(e -> e.get("type").asText().equals("run_end")).toList();
                List<JsonNode> steps =
                        ev.stream().filter(e -> e.get("type").asText().equals("step")).toList();
                double maxRel = checkStepsAgainstTruth(scenario, steps, t);
                System.out.printf(
                        "  %-16s %3d steps, %d run_start, run_end %s, loss max relative difference %.1e, LR exact, %.1f s of training%n",
                        scenario,
                        steps.size(),
                        starts.size(),
                        ends.stream().map(e -> e.get("status").asText()).toList(),
                        maxRel,
                        t.get("seconds").asDouble());
                assertThat(t.get("client_file").asText())
                        .as("the worktree's client, not an installed copy")
                        .startsWith(PythonClient.CLIENT_DIR.toString());
                assertThat(t.get("client_errors").asInt()).as(scenario).isZero();
                boolean resumed = scenario.equals("resume");
                assertThat(starts).as(scenario + " run_start per stream").hasSize(resumed ? 2 : 1);
                assertThat(ends)
                        .as(scenario)
                        .hasSize(resumed ? 2 : 1)
                        .allMatch(
                                e ->
                                        e.get("status")
                                                .asText()
                                                .equals(
                                                        scenario.equals("exception")
                                                                ? "failed"
                                                                : "completed"));

                List<JsonNode> ofRun =
                        alerts.stream()
                                .filter(a -> a.get("run_id").asText().equals(runId))
                                .toList();
                if (!scenario.equals("nan_batch")) {
                    assertThat(ofRun)
                            .as(scenario)
                            .noneMatch(a -> a.get("severity").asText().equals("critical"));
                }
                if (!scenario.equals("per_epoch")) {
                    assertThat(ofRun)
                            .as(scenario)
                            .noneMatch(a -> a.get("kind").asText().equals("LR_MISMATCH"));
                    assertThat(t.get("trainwatch_warnings").size())
                            .as(scenario + " warnings " + t.get("trainwatch_warnings"))
                            .isEqualTo(
                                    scenario.equals("unsupported")
                                                    || scenario.equals("unsized_epoch")
                                            ? 1
                                            : 0);
                }
            }

            // fp16: every step carries the GradScaler's scale; its start-up overflows are skipped
            // steps (no LR used), not NaNs
            List<JsonNode> fp16 =
                    byRun.get("lit-fp16_scaler").stream()
                            .filter(e -> e.get("type").asText().equals("step"))
                            .toList();
            long skipped = 0;
            for (JsonNode lr : truths.get("fp16_scaler").get("lr")) {
                skipped += lr.isNull() ? 1 : 0;
            }
            assertThat(skipped).as("real GradScaler overflow skips").isGreaterThanOrEqualTo(3);
            assertThat(fp16).allMatch(e -> e.has("loss_scale"));
            assertThat(
                            fp16.stream()
                                    .filter(e -> !Double.isFinite(e.get("grad_norm").asDouble()))
                                    .count())
                    .as("overflowing steps")
                    .isEqualTo(skipped);

            // declared as Lightning steps it: frequency counted in the batches of each epoch
            JsonNode frequency = byRun.get("lit-frequency").get(0).get("schedule");
            assertThat(frequency.get("batches_per_epoch").asInt()).isEqualTo(10);
            assertThat(frequency.get("frequency").asInt()).isEqualTo(3);
            assertThat(
                            byRun.get("lit-frequency_accum")
                                    .get(0)
                                    .get("schedule")
                                    .get("accumulate_grad_batches")
                                    .asInt())
                    .isEqualTo(2);

            JsonNode unsupported = truths.get("unsupported");
            assertThat(unsupported.get("trainwatch_warnings").get(0).asText())
                    .startsWith("trainwatch: no schedule declared");
            assertThat(byRun.get("lit-unsupported").get(0).has("schedule")).isFalse();
            assertThat(truths.get("unsized_epoch").get("trainwatch_warnings").get(0).asText())
                    .contains("unsized train loader");
            assertThat(byRun.get("lit-unsized_epoch").get(0).has("schedule")).isFalse();

            long bad = truths.get("nan_batch").get("bad_step").asLong();
            List<JsonNode> nonFinite =
                    alerts.stream()
                            .filter(
                                    a ->
                                            a.get("run_id").asText().equals("lit-nan_batch")
                                                    && a.get("kind").asText().equals("NON_FINITE")
                                                    && a.get("status").asText().equals("open"))
                            .toList();
            assertThat(nonFinite).hasSize(1);
            assertThat(nonFinite.get(0).get("step").asLong()).isEqualTo(bad);
            assertThat(nonFinite.get(0).get("severity").asText()).isEqualTo("critical");

            JsonNode perEpochTruth = truths.get("per_epoch");
            assertThat(perEpochTruth.get("trainwatch_warnings").get(0).asText())
                    .contains("sized in optimizer steps (80)");
            List<JsonNode> perEpoch =
                    alerts.stream()
                            .filter(
                                    a ->
                                            a.get("run_id").asText().equals("lit-per_epoch")
                                                    && a.get("kind").asText().equals("LR_MISMATCH")
                                                    && !a.get("status").asText().equals("resolved"))
                            .toList();
            assertThat(perEpoch).isNotEmpty();
            for (JsonNode a : perEpoch) {
                assertThat(a.get("evidence").get("hypothesis").asText())
                        .isEqualTo("stepped_per_epoch");
                assertThat(a.get("evidence").get("period_steps").asLong())
                        .isEqualTo(perEpochTruth.get("steps_per_epoch").asLong());
                assertThat(a.get("diagnosis").asText())
                        .startsWith(
                                "scheduler.step() is called once per epoch (every 16 optimizer steps)");
            }

            // manual optimization: one event per batch, the first optimizer's LR (the second one's
            // starts at 0.002)
            assertThat(truths.get("manual").get("global_step").asInt())
                    .isEqualTo(2 * truths.get("manual").get("lr").size());

            // ddp: one stream, the loss averaged over both ranks, not rank 0's own
            JsonNode ddpTruth = truths.get("ddp");
            assertThat(ddpTruth.get("world_size").asInt()).isEqualTo(2);
            List<JsonNode> ddpSteps =
                    byRun.get("lit-ddp").stream()
                            .filter(e -> e.get("type").asText().equals("step"))
                            .toList();
            // ranks="all": a stream per rank, each with its own loss (rank 0's is the one it
            // computed)
            for (int rank = 0; rank < 2; rank++) {
                List<JsonNode> ev = byRun.getOrDefault("lit-ddp-ranks/rank-" + rank, List.of());
                List<JsonNode> rankSteps =
                        ev.stream().filter(e -> e.get("type").asText().equals("step")).toList();
                assertThat(ev.stream().filter(e -> e.get("type").asText().equals("run_start")))
                        .as("rank " + rank)
                        .hasSize(1);
                assertThat(rankSteps).as("rank " + rank).hasSameSizeAs(ddpSteps);
                for (int i = 0; rank == 0 && i < rankSteps.size(); i++) {
                    assertThat(rankSteps.get(i).get("loss").asDouble())
                            .as("rank 0's own loss at %d", i)
                            .isCloseTo(
                                    ddpTruth.get("rank0_loss").get(i).asDouble(),
                                    org.assertj.core.data.Percentage.withPercentage(1e-4));
                }
            }
            assertThat(byRun.keySet().stream().filter(k -> k.startsWith("lit-ddp-ranks")))
                    .hasSize(2);
            int differsFromRank0 = 0;
            for (int i = 0; i < ddpSteps.size(); i++) {
                double own = ddpTruth.get("rank0_loss").get(i).asDouble();
                if (Math.abs(ddpSteps.get(i).get("loss").asDouble() - own)
                        > LOSS_RELATIVE_TOLERANCE * Math.abs(own)) {
                    differsFromRank0++;
                }
            }
            System.out.printf(
                    "  ddp: %d of %d reported losses differ from rank 0's own (they are the mean over 2 ranks)%n",
                    differsFromRank0, ddpSteps.size());
            assertThat(differsFromRank0).isEqualTo(ddpSteps.size());
            System.out.printf("LightningITCase: %.1f s%n", job.secondsSinceStart());
        } finally {
            job.close();
        }
    }

    /**
     * Reported step numbers 0..n-1 in order, the LR exactly the optimizer's, the loss Lightning's
     * logged one; the largest relative loss difference.
     */
    static double checkStepsAgainstTruth(String scenario, List<JsonNode> steps, JsonNode truth) {
        JsonNode lr = truth.get("lr");
        JsonNode loss = truth.get("loss");
        assertThat(steps).as(scenario + " one step event per optimizer step").hasSize(lr.size());
        assertThat(loss.size()).as(scenario).isEqualTo(lr.size());
        assertThat(lr.size()).as(scenario).isGreaterThanOrEqualTo(20);
        double maxRel = 0;
        for (int i = 0; i < steps.size(); i++) {
            JsonNode e = steps.get(i);
            assertThat(e.get("step").asLong()).as(scenario).isEqualTo(i);
            for (int g = 0; g < lr.get(i).size(); g++) {
                assertThat(e.get("lr").get(g).asDouble())
                        .as("%s lr at step %d", scenario, i)
                        .isEqualTo(lr.get(i).get(g).asDouble());
            }
            double want = loss.get(i).asDouble();
            double got = e.get("loss").asDouble();
            if (Double.isNaN(want)) {
                assertThat(got).as("%s loss at step %d", scenario, i).isNaN();
                continue;
            }
            double rel = Math.abs(got - want) / Math.max(Math.abs(want), Double.MIN_NORMAL);
            assertThat(rel)
                    .as("%s loss at step %d: %s vs Lightning's %s", scenario, i, got, want)
                    .isLessThanOrEqualTo(LOSS_RELATIVE_TOLERANCE);
            maxRel = Math.max(maxRel, rel);
        }
        return maxRel;
    }
}
