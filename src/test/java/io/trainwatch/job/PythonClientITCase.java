package io.trainwatch.job;

import io.trainwatch.PythonClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Python client end to end on real PyTorch: a real Kafka broker in-process, the live job
 * (KafkaPipeline), and four real training runs (clients/python/examples/train_mlp.py: an MLP
 * trained on CPU for 300 optimizer steps, reported with trainwatch_client.Reporter) whose alerts
 * are read back read_committed — by this test and by the client's own Suggestions. Also: the
 * client's Python unit tests, and read_committed with both Kafka clients.
 */
class PythonClientITCase {
    @RegisterExtension static final InProcessBroker broker = new InProcessBroker();
    static final ObjectMapper JSON = new ObjectMapper();

    /** The script, its scenario and what it is asked to do besides training. */
    record Scenario(String name, String backend, String awaitAlert) {
        String runId() {
            return "py-" + name;
        }

        List<String> args(JobConfig cfg) {
            List<String> a =
                    new ArrayList<>(
                            List.of(
                                    "clients/python/examples/train_mlp.py",
                                    "--bootstrap-servers",
                                    cfg.bootstrapServers(),
                                    "--topic",
                                    cfg.eventsTopic(),
                                    "--alerts-topic",
                                    cfg.alertsTopic(),
                                    "--run-id",
                                    runId(),
                                    "--scenario",
                                    name,
                                    "--backend",
                                    backend));
            if (awaitAlert != null) {
                a.addAll(List.of("--await-alert", awaitAlert, "--await-seconds", "90"));
            }
            return a;
        }
    }

    // CI installs kafka-python only; where confluent-kafka is installed too, "auto" picks it, so
    // both clients run
    static final List<Scenario> SCENARIOS =
            List.of(
                    new Scenario("healthy", "kafka-python", null),
                    new Scenario("nan_batch", "kafka-python", "NON_FINITE"),
                    new Scenario("per_epoch", "auto", null),
                    new Scenario("accum_micro", "auto", "LR_MISMATCH"));

    @Test
    void shouldPassThePythonClientsOwnTests() throws Exception {
        List<String> args =
                List.of(
                        "-m",
                        "unittest",
                        "discover",
                        "-v",
                        "-s",
                        "clients/python/tests",
                        "-p",
                        "test_*.py");
        // torch 2.x with real transformers, Lightning and accelerate: every test runs
        PythonClient.Result full =
                PythonClient.start(PythonClient.Frameworks.TORCH2_TF5.interpreter(), args, Map.of())
                        .await(Duration.ofSeconds(120));
        assertThat(summary("torch2-tf5", full)).isEqualTo("OK");
        // Debian's torch 1.13: only the tests of real transformers schedulers may skip, for want of
        // transformers
        PythonClient.Result debian = PythonClient.run(args, Map.of(), Duration.ofSeconds(120));
        assertThat(summary(PythonClient.interpreter(), debian)).matches("OK( \\(skipped=\\d+\\))?");
        assertThat(debian.stderr().lines().filter(l -> l.contains("... skipped")))
                .allMatch(
                        l ->
                                l.contains("RealTransformersSchedulersTest")
                                        && l.contains("transformers and accelerate"));
    }

    /**
     * unittest's last line ("OK", "OK (skipped=2)", "FAILED (...)"), printed with the count of
     * tests run.
     */
    static String summary(String interpreter, PythonClient.Result r) {
        String last = r.stderr().strip().lines().reduce((a, b) -> b).orElse("");
        System.out.println(
                "python client unit tests ("
                        + interpreter
                        + "): "
                        + r.stderr()
                                .lines()
                                .filter(l -> l.startsWith("Ran "))
                                .findFirst()
                                .orElse("?")
                        + ", "
                        + last);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return last;
    }

    @Test
    void shouldCatchWhatGoesWrongInRealPyTorchTrainingRuns() throws Exception {
        LiveJob job = broker.startJob("pyclient");
        JobConfig cfg = job.config;
        try {
            Map<Scenario, PythonClient.Running> running = new LinkedHashMap<>();
            for (Scenario s : SCENARIOS) {
                running.put(s, PythonClient.start(s.args(cfg), Map.of()));
            }
            Map<String, JsonNode> summaries = new LinkedHashMap<>();
            for (Map.Entry<Scenario, PythonClient.Running> e : running.entrySet()) {
                PythonClient.Result r = e.getValue().await(Duration.ofSeconds(150));
                assertThat(r.exitCode())
                        .as(
                                e.getKey().name()
                                        + " exited with "
                                        + r.exitCode()
                                        + "\nstdout:\n"
                                        + r.stdout()
                                        + "\nstderr:\n"
                                        + r.stderr())
                        .isZero();
                JsonNode summary =
                        JSON.readTree(r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
                summaries.put(e.getKey().name(), summary);
                System.out.printf(
                        "python %-11s backend %-12s %d steps trained in %.1f s, %d events sent, %d delivered, %d dropped (process %.1f s)%n",
                        e.getKey().name(),
                        summary.get("backend").asText(),
                        summary.get("steps").asInt(),
                        summary.get("train_seconds").asDouble(),
                        summary.get("sent").asInt(),
                        summary.get("delivered").asInt(),
                        summary.get("dropped").asInt(),
                        r.took().toMillis() / 1000.0);
                assertThat(summary.get("steps").asInt()).isEqualTo(300);
                assertThat(summary.get("dropped").asInt()).isZero();
                assertThat(summary.get("failed").asInt()).isZero();
                assertThat(summary.get("delivered").asInt())
                        .isEqualTo(summary.get("sent").asInt())
                        .isEqualTo(302);
            }
            // every event the scripts sent is read, and the alerts it produced committed, once the
            // job's committed offsets reach the end
            assertThat(job.awaitEventsRead(Duration.ofSeconds(60))).isEqualTo(4 * 302);
            List<JsonNode> alerts = new ArrayList<>();
            for (String v : job.topics.values(cfg.alertsTopic())) {
                alerts.add(JSON.readTree(v));
            }
            System.out.printf(
                    "python client e2e: %d alerts (read_committed) %.1f s after the job started%n",
                    alerts.size(), job.secondsSinceStart());
            AlertLines.print(alerts, 15);
            assertThat(job.topics.values(cfg.deadLetterTopic()))
                    .as("every event the client wrote is valid v1")
                    .isEmpty();

            List<JsonNode> healthy = ofRun(alerts, "py-healthy");
            assertThat(healthy).noneMatch(a -> a.get("severity").asText().equals("critical"));
            assertThat(healthy).noneMatch(a -> a.get("kind").asText().equals("LR_MISMATCH"));

            JsonNode nanSummary = summaries.get("nan_batch");
            long badStep = nanSummary.get("bad_step").asLong();
            String badBatch = nanSummary.get("bad_batch").asText();
            List<JsonNode> nonFinite =
                    ofRun(alerts, "py-nan_batch").stream()
                            .filter(
                                    a ->
                                            a.get("kind").asText().equals("NON_FINITE")
                                                    && a.get("status").asText().equals("open"))
                            .toList();
            assertThat(nonFinite).hasSize(1);
            JsonNode nan = nonFinite.get(0);
            assertThat(nan.get("step").asLong()).isEqualTo(badStep);
            assertThat(nan.get("severity").asText()).isEqualTo("critical");
            assertThat(nan.get("diagnosis").asText())
                    .startsWith("suspect data: gradients were healthy right up to this step")
                    .contains("the batch of step " + badStep + " is " + badBatch);
            assertThat(nan.get("evidence").get("batch").get(0).asText()).isEqualTo(badBatch);
            assertThat(nan.get("suggestion").get("action").asText()).isEqualTo("inspect_batch");
            assertThat(nanSummary.get("awaited_alert").get("alert_id").asText())
                    .as("Suggestions (kafka-python) read the same alert")
                    .isEqualTo(nan.get("alert_id").asText());

            List<JsonNode> perEpoch = lrMismatches(alerts, "py-per_epoch");
            assertThat(perEpoch).isNotEmpty();
            assertThat(perEpoch.get(0).get("onset_step").asLong()).isLessThanOrEqualTo(10);
            for (JsonNode a : perEpoch) {
                assertThat(a.get("evidence").get("hypothesis").asText())
                        .isEqualTo("stepped_per_epoch");
                assertThat(a.get("evidence").get("period_steps").asLong()).isEqualTo(20);
                assertThat(a.get("diagnosis").asText())
                        .startsWith(
                                "scheduler.step() is called once per epoch (every 20 optimizer steps) instead of after every optimizer step");
            }

            List<JsonNode> accum = lrMismatches(alerts, "py-accum_micro");
            assertThat(accum).isNotEmpty();
            assertThat(accum.get(0).get("onset_step").asLong()).isLessThanOrEqualTo(10);
            JsonNode finalReading = accum.get(accum.size() - 1);
            assertThat(finalReading.get("evidence").get("hypothesis").asText())
                    .isEqualTo("stretched");
            assertThat(finalReading.get("evidence").get("stretch_factor").asLong()).isEqualTo(4);
            assertThat(finalReading.get("diagnosis").asText())
                    .startsWith(
                            "the schedule was sized on micro-batches: its total steps were not divided by gradient_accumulation_steps (4)");
            assertThat(summaries.get("accum_micro").get("awaited_alert").get("kind").asText())
                    .isEqualTo("LR_MISMATCH");
        } finally {
            job.close();
        }
    }

    @Test
    void shouldReadOnlyCommittedAlertsWithEitherKafkaClient() throws Exception {
        String topic = "readcommitted.alerts";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        List<String> backends = new ArrayList<>(List.of("kafka-python"));
        if (PythonClient.run(
                                List.of("-c", "import confluent_kafka"),
                                Map.of(),
                                Duration.ofSeconds(30))
                        .exitCode()
                == 0) {
            backends.add("confluent");
        }
        try (KafkaProducer<String, String> p =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                broker.bootstrapServers(),
                                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                                "readcommitted-test",
                                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class,
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                                StringSerializer.class))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "rc", alertJson("NON_FINITE", 7)));
            p.commitTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "rc", alertJson("DIVERGENCE", 40)));
            p.flush(); // written, not committed
            for (String backend : backends) {
                assertThat(watch(topic, backend))
                        .as(backend + " while a transaction is open")
                        .containsExactly("rc/NON_FINITE/7");
            }
            p.abortTransaction();
            p.beginTransaction();
            p.send(
                    new ProducerRecord<>(
                            topic,
                            "rc",
                            alertJson("DIVERGENCE", 40))); // what a restored job writes again
            p.commitTransaction();
            for (String backend : backends) {
                assertThat(watch(topic, backend))
                        .as(backend + " after an abort and the rewrite")
                        .containsExactly("rc/NON_FINITE/7", "rc/DIVERGENCE/40");
            }
        }
        System.out.println("read_committed checked with " + backends);
    }

    static String alertJson(String kind, long step) {
        return "{\"alert_id\":\"rc/"
                + kind
                + "/"
                + step
                + "\",\"run_id\":\"rc\",\"kind\":\""
                + kind
                + "\",\"severity\":\"critical\",\"status\":\"open\",\"step\":"
                + step
                + ",\"suggestion\":{\"action\":\"lower_lr\",\"lr_factor\":0.5}}";
    }

    /** The alert ids clients/python/examples/watch_alerts.py prints for run "rc" within 3 s. */
    static List<String> watch(String topic, String backend) throws Exception {
        PythonClient.Result r =
                PythonClient.run(
                        List.of(
                                "clients/python/examples/watch_alerts.py",
                                "--bootstrap-servers",
                                broker.bootstrapServers(),
                                "--run-id",
                                "rc",
                                "--topic",
                                topic,
                                "--backend",
                                backend,
                                "--seconds",
                                "3"),
                        Map.of(),
                        Duration.ofSeconds(60));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        List<String> ids = new ArrayList<>();
        for (String line : r.stdout().strip().lines().toList()) {
            ids.add(JSON.readTree(line).get("alert_id").asText());
        }
        return ids;
    }

    static List<JsonNode> ofRun(List<JsonNode> alerts, String runId) {
        return alerts.stream().filter(a -> a.get("run_id").asText().equals(runId)).toList();
    }

    /** A run's LR_MISMATCH openings and updates, in the order written. */
    static List<JsonNode> lrMismatches(List<JsonNode> alerts, String runId) {
        return ofRun(alerts, runId).stream()
                .filter(
                        a ->
                                a.get("kind").asText().equals("LR_MISMATCH")
                                        && !a.get("status").asText().equals("resolved"))
                .toList();
    }
}
