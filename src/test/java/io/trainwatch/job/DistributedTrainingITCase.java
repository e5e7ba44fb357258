package io.trainwatch.job;

import io.trainwatch.PythonClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Distributed training reaches trainwatch as one stream per run: two 2-process trainings under
 * torchrun (gloo, CPU, torch 2.x) — a plain PyTorch DistributedDataParallel loop with the Reporter,
 * and a Hugging Face Trainer with the HF callback (clients/python/tests/frameworks/ddp_runs.py) —
 * report to the in-process broker while the live job reads them. The events topic read back holds,
 * per run, one run_start, every step number once and one run_end, with the LRs the optimizer really
 * used and the loss averaged over the ranks (HF: what HF logs on rank 0).
 */
class DistributedTrainingITCase {
    @RegisterExtension static final InProcessBroker broker = new InProcessBroker();
    static final ObjectMapper JSON = new ObjectMapper();

    /** ddp_runs.py trains this many optimizer steps. */
    static final int STEPS = 30;

    @Test
    void shouldSendOneStreamPerRunFromTwoProcessTrainings() throws Exception {
        LiveJob job = broker.startJob("ddp");
        JobConfig cfg = job.config;
        Path out = Files.createTempDirectory("trainwatch-ddp");
        try {
            long trainingStarted = System.nanoTime();
            // both launches at once: 4 processes on 2 cores, still the shortest wall time
            Map<String, PythonClient.Running> running = new LinkedHashMap<>();
            for (String mode : List.of("torch", "hf")) {
                running.put(
                        mode,
                        PythonClient.start(
                                PythonClient.Frameworks.TORCH2_TF5.interpreter(),
                                List.of(
                                        "-m",
                                        "torch.distributed.run",
                                        "--standalone",
                                        "--nproc_per_node",
                                        "2",
                                        "clients/python/tests/frameworks/ddp_runs.py",
                                        "--mode",
                                        mode,
                                        "--bootstrap-servers",
                                        cfg.bootstrapServers(),
                                        "--topic",
                                        cfg.eventsTopic(),
                                        "--run-id",
                                        "ddp-" + mode,
                                        "--out-dir",
                                        out.toString()),
                                Map.of()));
            }
            for (Map.Entry<String, PythonClient.Running> e : running.entrySet()) {
                PythonClient.Result r = e.getValue().await(Duration.ofSeconds(150));
                assertThat(r.exitCode())
                        .as(
                                e.getKey()
                                        + " torchrun exited with "
                                        + r.exitCode()
                                        + "\nstderr:\n"
                                        + r.stderr())
                        .isZero();
                System.out.printf(
                        "torchrun --nproc_per_node 2 ddp_runs.py --mode %s: %.1f s%n",
                        e.getKey(), r.took().toMillis() / 1000.0);
            }
            double trainingSeconds = (System.nanoTime() - trainingStarted) / 1e9;
            JsonNode[] torch = {
                JSON.readTree(out.resolve("torch-rank-0.json").toFile()),
                JSON.readTree(out.resolve("torch-rank-1.json").toFile())
            };
            JsonNode[] hf = {
                JSON.readTree(out.resolve("hf-rank-0.json").toFile()),
                JSON.readTree(out.resolve("hf-rank-1.json").toFile())
            };

            Map<String, List<JsonNode>> streams = readEvents(cfg.eventsTopic());
            streams.forEach(
                    (run, events) ->
                            System.out.printf(
                                    "  %-20s %d events: %d run_start, %d steps, %d run_end%n",
                                    run,
                                    events.size(),
                                    count(events, "run_start"),
                                    count(events, "step"),
                                    count(events, "run_end")));
            // the HF callback on rank 1 built no Reporter; the plain Reporter on rank 1 is a no-op
            // unless ranks="all"
            assertThat(streams)
                    .containsOnlyKeys(
                            "ddp-torch", "ddp-torch-all/rank-0", "ddp-torch-all/rank-1", "ddp-hf");
            for (Map.Entry<String, List<JsonNode>> e : streams.entrySet()) {
                assertOneStream(e.getKey(), e.getValue());
            }

            // plain DDP: the LRs the optimizer used; rank 0's stream carries the loss averaged over
            // both ranks (reduce_loss)
            Map<Integer, JsonNode> one = steps(streams.get("ddp-torch"));
            for (int s = 0; s < STEPS; s++) {
                assertThat(lrs(one.get(s)))
                        .as("ddp-torch step %d lr", s)
                        .isEqualTo(doubles(torch[0].get("lrs").get(s)));
                assertThat(one.get(s).get("loss").asDouble())
                        .as("ddp-torch step %d loss", s)
                        .isCloseTo(torch[0].get("mean_loss").get(s).asDouble(), within(1e-6));
            }
            // ranks="all": each rank its own run id, its own loss
            for (int rank = 0; rank < 2; rank++) {
                Map<Integer, JsonNode> own = steps(streams.get("ddp-torch-all/rank-" + rank));
                for (int s = 0; s < STEPS; s++) {
                    assertThat(lrs(own.get(s))).isEqualTo(doubles(torch[rank].get("lrs").get(s)));
                    assertThat(own.get(s).get("loss").asDouble())
                            .as("rank %d step %d own loss", rank, s)
                            .isEqualTo(torch[rank].get("own_loss").get(s).asDouble());
                }
            }
            assertThat(torch[0].get("mean_loss").get(0).asDouble())
                    .as("the ranks train on different data")
                    .isNotEqualTo(torch[0].get("own_loss").get(0).asDouble());

            // HF Trainer: the loss HF logged on rank 0 (HF gathers it from every process and
            // averages), the LR each optimizer step used
            Map<Integer, JsonNode> hfSteps = steps(streams.get("ddp-hf"));
            assertThat(hf[0].get("is_world_process_zero").asBoolean()).isTrue();
            assertThat(hf[1].get("is_world_process_zero").asBoolean()).isFalse();
            assertThat(hf[0].get("client_errors").asInt()).isZero();
            assertThat(hf[0].get("declared_from").asText()).isEqualTo("scheduler");
            assertThat(hf[0].get("lr_steps")).hasSize(STEPS);
            for (int s = 0; s < STEPS; s++) {
                assertThat(hf[0].get("lr_steps").get(s).asInt()).isEqualTo(s);
                assertThat(lrs(hfSteps.get(s)))
                        .as("ddp-hf step %d lr", s)
                        .isEqualTo(doubles(hf[0].get("lrs").get(s)));
                double logged = hf[0].get("hf_logged_loss").get(String.valueOf(s)).asDouble();
                assertThat(hfSteps.get(s).get("loss").asDouble())
                        .as("ddp-hf step %d loss", s)
                        .isEqualTo(logged);
                assertThat(hf[1].get("hf_logged_loss").get(String.valueOf(s)).asDouble())
                        .as("rank 1 logs the same mean")
                        .isEqualTo(logged);
            }

            // the live job judged every event: nothing dead-lettered, and no LR_MISMATCH — the
            // declared schedules match the LRs used
            job.awaitEventsRead(Duration.ofSeconds(60));
            assertThat(job.topics.readCommitted(cfg.deadLetterTopic())).isEmpty();
            List<String> alerts = job.topics.values(cfg.alertsTopic());
            alerts.forEach(a -> System.out.println("  alert " + a));
            assertThat(alerts).noneMatch(a -> a.contains("\"LR_MISMATCH\""));

            double total = job.secondsSinceStart();
            System.out.printf(
                    "distributed: 2 torchrun launches (4 processes) trained in %.1f s; test %.1f s with the job%n",
                    trainingSeconds, total);
        } finally {
            job.close();
        }
    }

    /**
     * One run_start first, steps 0..STEPS-1 each once in order, one run_end last, every record
     * keyed by its run id.
     */
    static void assertOneStream(String run, List<JsonNode> events) {
        assertThat(events).allSatisfy(e -> assertThat(e.get("run_id").asText()).isEqualTo(run));
        assertThat(count(events, "run_start")).as(run + " run_start").isEqualTo(1);
        assertThat(count(events, "run_end")).as(run + " run_end").isEqualTo(1);
        assertThat(events.get(0).get("type").asText()).isEqualTo("run_start");
        assertThat(events.get(events.size() - 1).get("type").asText()).isEqualTo("run_end");
        assertThat(events.get(events.size() - 1).get("status").asText()).isEqualTo("completed");
        List<Integer> stepNumbers =
                events.stream()
                        .filter(e -> e.get("type").asText().equals("step"))
                        .map(e -> e.get("step").asInt())
                        .toList();
        assertThat(stepNumbers)
                .as(run + " step numbers, no duplicate")
                .isEqualTo(IntStream.range(0, STEPS).boxed().toList());
    }

    static long count(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asText().equals(type)).count();
    }

    static Map<Integer, JsonNode> steps(List<JsonNode> events) {
        Map<Integer, JsonNode> out = new TreeMap<>();
        events.stream()
                .filter(e -> e.get("type").asText().equals("step"))
                .forEach(e -> out.put(e.get("step").asInt(), e));
        return out;
    }

    static List<Double> lrs(JsonNode event) {
        return doubles(event.get("lr"));
    }

    static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    /**
     * Every record of the events topic, grouped by key in partition order (a run's records share a
     * partition).
     */
    static Map<String, List<JsonNode>> readEvents(String topic) throws Exception {
        Map<String, List<JsonNode>> byRun = new TreeMap<>();
        for (ConsumerRecord<String, String> r : broker.topics().readCommitted(topic)) {
            JsonNode e = JSON.readTree(r.value());
            assertThat(e.get("run_id").asText()).as("key = run_id").isEqualTo(r.key());
            byRun.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(e);
        }
        return byRun;
    }
}
