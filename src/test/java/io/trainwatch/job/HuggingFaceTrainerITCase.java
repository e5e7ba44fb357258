package io.trainwatch.job;

import io.trainwatch.PythonClient;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Hugging Face callback (trainwatch_client.hf) on real transformers Trainer runs, end to end:
 * the in-process broker, the live job, and clients/python/tests/frameworks/hf_runs.py run in each
 * environment clients/python/install-frameworks.sh creates (torch 2.x with transformers 5.x; the
 * index cannot install 4.x, see the script). The script records what really happened (the LR the
 * torch optimizer used at each step, the loss HF logged); this test compares it with what the
 * callback sent (the events topic) and checks the alerts the job wrote (read_committed).
 */
class HuggingFaceTrainerITCase {
    @RegisterExtension static final InProcessBroker broker = new InProcessBroker();
    // the script writes NaN bare, as json.dumps does
    static final JsonMapper JSON =
            JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    @Test
    void shouldReportRealTrainerRunsAsTheyHappened() throws Exception {
        LiveJob job = broker.startJob("hf");
        JobConfig cfg = job.config;
        try {
            Map<String, PythonClient.Running> running = new LinkedHashMap<>();
            List<PythonClient.Frameworks> frameworks = List.of(PythonClient.Frameworks.values());
            for (PythonClient.Frameworks fw : frameworks) {
                String prefix = fw.dirName;
                running.put(
                        prefix,
                        PythonClient.start(
                                fw.interpreter(),
                                List.of(
                                        "clients/python/tests/frameworks/hf_runs.py",
                                        "--bootstrap-servers",
                                        cfg.bootstrapServers(),
                                        "--topic",
                                        cfg.eventsTopic(),
                                        "--prefix",
                                        prefix),
                                Map.of()));
            }
            Map<String, JsonNode> truths = new LinkedHashMap<>();
            for (Map.Entry<String, PythonClient.Running> e : running.entrySet()) {
                PythonClient.Result r = e.getValue().await(Duration.ofSeconds(200));
                // the crash scenario's exception is re-raised uncaught at the end, as a crashed
                // training script dies
                assertThat(r.exitCode())
                        .as(e.getKey() + " stdout:\n" + r.stdout() + "\nstderr:\n" + r.stderr())
                        .isEqualTo(1);
                assertThat(r.stderr())
                        .contains(
                                "RuntimeError: simulated crash in the forward of training call 12");
                for (String line :
                        r.stdout().lines().filter(l -> l.startsWith("SCENARIO ")).toList()) {
                    JsonNode s = JSON.readTree(line.substring("SCENARIO ".length()));
                    truths.put(s.get("run_id").asText(), s);
                }
                System.out.printf(
                        "hf_runs.py %s: %d scenarios in %.1f s%n",
                        e.getKey(),
                        truths.keySet().stream().filter(k -> k.startsWith(e.getKey())).count(),
                        r.took().toMillis() / 1000.0);
            }
            assertThat(truths).hasSize(frameworks.size() * 9);

            long events = job.awaitEventsRead(Duration.ofSeconds(60));
            Map<String, List<JsonNode>> sent = byRun(job.topics.values(cfg.eventsTopic()));
            Map<String, List<JsonNode>> alerts = byRun(job.topics.values(cfg.alertsTopic()));
            System.out.printf(
                    "hugging face e2e: %d events, %d alerts (read_committed) %.1f s after the job started%n",
                    events,
                    alerts.values().stream().mapToInt(List::size).sum(),
                    job.secondsSinceStart());
            assertThat(job.topics.values(cfg.deadLetterTopic()))
                    .as("every event the callback wrote is valid v1")
                    .isEmpty();

            for (JsonNode truth : truths.values()) {
                String runId = truth.get("run_id").asText();
                String scenario = truth.get("scenario").asText();
                List<JsonNode> ev = sent.getOrDefault(runId, List.of());
                List<JsonNode> steps = ev.stream().filter(e -> type(e, "step")).toList();
                List<JsonNode> starts = ev.stream().filter(e -> type(e, "run_start")).toList();
                List<JsonNode> ends = ev.stream().filter(e -> type(e, "run_end")).toList();
                List<JsonNode> runAlerts = alerts.getOrDefault(runId, List.of());
                System.out.printf(
                        "  %-22s transformers %-6s %3d steps sent, %d run_start, run_end %s, %d trainwatch warnings, %d client errors, %.1f s; alerts: %s%n",
                        runId,
                        truth.get("transformers").asText(),
                        steps.size(),
                        starts.size(),
                        ends.stream()
                                .map(e -> e.get("status").asText() + "@" + e.get("step").asLong())
                                .toList(),
                        truth.get("warnings").size(),
                        truth.get("client_errors").asInt(),
                        truth.get("seconds").asDouble(),
                        runAlerts.stream()
                                .map(
                                        a ->
                                                a.get("kind").asText()
                                                        + "/"
                                                        + a.get("severity").asText()
                                                        + "/"
                                                        + a.get("status").asText()
                                                        + "@"
                                                        + a.get("step").asLong())
                                .toList());
                assertThat(truth.get("client_errors").asInt()).as(runId).isZero();

                // every step sent carries the loss HF logged for it and the LR the optimizer really
                // used at it
                JsonNode loss = truth.get("loss");
                JsonNode lr = truth.get("lr");
                assertThat(steps).as(runId).isNotEmpty();
                for (JsonNode step : steps) {
                    String k = step.get("step").asText();
                    assertThat(loss.has(k)).as(runId + " step " + k + " was logged by HF").isTrue();
                    assertThat(sameDouble(step.get("loss").asDouble(), loss.get(k).asDouble()))
                            .as(runId + " loss at step " + k)
                            .isTrue();
                    assertThat(doubles(step.get("lr")))
                            .as(runId + " lr at step " + k)
                            .isEqualTo(doubles(lr.get(k)));
                }
                assertThat(steps.size())
                        .as(runId + ": one step event per HF log")
                        .isEqualTo(loss.size());

                boolean resume = scenario.equals("resume");
                assertThat(starts).as(runId).hasSize(resume ? 2 : 1);
                assertThat(ends).as(runId).hasSize(resume ? 2 : 1);
                assertThat(ends.get(ends.size() - 1).get("status").asText())
                        .as(runId)
                        .isEqualTo(scenario.equals("crash") ? "failed" : "completed");
                assertThat(starts.get(0).get("optimizer").asText()).as(runId).isEqualTo("AdamW");

                List<JsonNode> critical =
                        runAlerts.stream()
                                .filter(a -> a.get("severity").asText().equals("critical"))
                                .toList();
                List<JsonNode> lrMismatch =
                        runAlerts.stream()
                                .filter(a -> a.get("kind").asText().equals("LR_MISMATCH"))
                                .toList();
                switch (scenario) {
                    case "healthy",
                            "accumulation",
                            "logging_steps_5",
                            "resume",
                            "unsupported",
                            "crash" -> {
                        assertThat(critical).as(runId).isEmpty();
                        assertThat(lrMismatch).as(runId).isEmpty();
                    }
                    case "nan_batch" -> {
                        long nanStep = firstNaNStep(loss);
                        assertThat(nanStep)
                                .as("HF logged the NaN at the corrupted batch's step")
                                .isEqualTo(truth.get("expect").get("non_finite_step").asLong());
                        List<JsonNode> open =
                                runAlerts.stream()
                                        .filter(
                                                a ->
                                                        a.get("kind").asText().equals("NON_FINITE")
                                                                && a.get("status")
                                                                        .asText()
                                                                        .equals("open"))
                                        .toList();
                        assertThat(open).as(runId).hasSize(1);
                        assertThat(open.get(0).get("severity").asText()).isEqualTo("critical");
                        assertThat(open.get(0).get("step").asLong()).isEqualTo(nanStep);
                        // the alert names the step as trainer_state.json logs it: global_step,
                        // one more than the 0-based optimizer step (step_base 1)
                        long hfStep = firstNaNLogged(truth.get("hf_log_history"));
                        assertThat(hfStep).as("HF logs global_step").isEqualTo(nanStep + 1);
                        assertThat(starts.get(0).get("step_base").asInt()).isEqualTo(1);
                        assertThat(open.get(0).get("display_step").asLong()).isEqualTo(hfStep);
                        assertThat(open.get(0).get("message").asText())
                                .startsWith("Step " + hfStep + ": ");
                        assertThat(lrMismatch).as(runId).isEmpty();
                    }
                    case "per_epoch" -> {
                        long period = truth.get("expect").get("period_steps").asLong();
                        List<JsonNode> readings =
                                lrMismatch.stream()
                                        .filter(a -> !a.get("status").asText().equals("resolved"))
                                        .toList();
                        assertThat(readings).as(runId).isNotEmpty();
                        for (JsonNode a : readings) {
                            assertThat(a.get("evidence").get("hypothesis").asText())
                                    .isEqualTo("stepped_per_epoch");
                            assertThat(a.get("diagnosis").asText())
                                    .startsWith(
                                            "scheduler.step() is called once per epoch (every "
                                                    + period
                                                    + " optimizer steps) instead of after every optimizer step");
                        }
                    }
                    case "fp16_scaler" -> {
                        // what the client sends: the scale of every step, and how far the scheduler
                        // lags after the skips
                        JsonNode skipped = truth.get("skipped");
                        assertThat(skipped.size())
                                .as("real GradScaler overflow skips")
                                .isGreaterThanOrEqualTo(3);
                        JsonNode scale = truth.get("scale");
                        for (JsonNode step : steps) {
                            long s = step.get("step").asLong();
                            assertThat(step.get("loss_scale").asDouble())
                                    .as(runId + " loss_scale at " + s)
                                    .isEqualTo(scale.get(String.valueOf(s)).asDouble());
                            long lag = 0;
                            for (JsonNode k : skipped) {
                                lag += k.asLong() < s ? 1 : 0;
                            }
                            assertThat(step.path("scheduler_lag").asLong(0))
                                    .as(runId + " scheduler_lag at " + s)
                                    .isEqualTo(lag);
                        }
                        // ordinary overflow skips are not NaNs, and the LR is checked where the
                        // lagging scheduler is
                        assertThat(critical).as(runId).isEmpty();
                        assertThat(lrMismatch).as(runId).isEmpty();
                    }
                    default -> throw new AssertionError("unknown scenario " + scenario);
                }
                if (scenario.equals("unsupported")) {
                    assertThat(truth.get("warnings"))
                            .as(runId + ": exactly one warning")
                            .hasSize(1);
                    assertThat(starts.get(0).has("schedule")).isFalse();
                } else {
                    assertThat(truth.get("warnings")).as(runId).isEmpty();
                }
                if (scenario.equals("logging_steps_5")) {
                    assertThat(steps).allMatch(e -> (e.get("step").asLong() + 1) % 5 == 0);
                }
                if (scenario.equals("accumulation")) {
                    assertThat(starts.get(0).get("grad_accum_steps").asInt()).isEqualTo(4);
                    assertThat(starts.get(0).get("steps_per_epoch").asInt()).isEqualTo(4);
                }
                if (scenario.equals("crash")) {
                    assertThat(ends.get(0).get("step").asLong())
                            .isEqualTo(truth.get("expect").get("last_step").asLong());
                }
            }
        } finally {
            job.close();
        }
    }

    static boolean type(JsonNode e, String t) {
        return e.get("type").asText().equals(t);
    }

    /** The same float: HF's logged value and what the callback sent, or both NaN. */
    static boolean sameDouble(double a, double b) {
        return Double.compare(a, b) == 0 || (Double.isNaN(a) && Double.isNaN(b));
    }

    static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    static long firstNaNStep(JsonNode loss) {
        for (Iterator<Map.Entry<String, JsonNode>> it = loss.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (Double.isNaN(e.getValue().asDouble())) {
                return Long.parseLong(e.getKey());
            }
        }
        return -1;
    }

    /**
     * The step of HF's first logged NaN loss, from log_history's [step, loss] pairs; -1 if none.
     */
    static long firstNaNLogged(JsonNode history) {
        for (JsonNode h : history) {
            if (Double.isNaN(h.get(1).asDouble())) {
                return h.get(0).asLong();
            }
        }
        return -1;
    }

    static Map<String, List<JsonNode>> byRun(List<String> values) throws Exception {
        Map<String, List<JsonNode>> out = new LinkedHashMap<>();
        for (String v : values) {
            JsonNode n = JSON.readTree(v);
            out.computeIfAbsent(n.get("run_id").asText(), k -> new ArrayList<>()).add(n);
        }
        return out;
    }
}
