package io.trainwatch.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/docker-compose.yml is valid for Docker Compose (checked with Debian's docker-compose,
 * which .ci/run installs: no Docker engine is needed to validate), pins every image, and takes its
 * secrets from the environment.
 */
class DockerComposeTest {
    static final Path COMPOSE = Path.of("docker/docker-compose.yml");

    @Test
    void shouldBeAValidComposeFile() throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
                        .redirectErrorStream(true);
        pb.environment()
                .putAll(
                        Map.of(
                                "POSTGRES_PASSWORD",
                                "test",
                                "GRAFANA_ADMIN_PASSWORD",
                                "test",
                                "GRAFANA_DB_PASSWORD",
                                "test",
                                "GRAFANA_ALERT_WEBHOOK_URL",
                                "http://receiver.invalid/hook"));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError(
                    "docker-compose is not installed (apt-get install -y docker-compose; .ci/run does it)",
                    e);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
    }

    @Test
    void shouldRefuseToStartWithoutItsSecrets() throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
                        .redirectErrorStream(true);
        pb.environment().remove("POSTGRES_PASSWORD");
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("POSTGRES_PASSWORD");
        assertThat(p.exitValue()).isNotZero();
    }

    @Test
    void shouldPinEveryImageAndRunTheTrainwatchJob() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile());
        Iterator<Map.Entry<String, JsonNode>> services = compose.get("services").fields();
        int n = 0;
        while (services.hasNext()) {
            var s = services.next();
            String image = s.getValue().path("image").asText();
            assertThat(image).as(s.getKey()).matches("[a-z0-9./_-]+:[0-9][A-Za-z0-9._-]*");
            n++;
        }
        assertThat(n).isEqualTo(6);
        assertThat(compose.path("services").path("jobmanager").path("command").asText())
                .contains(
                        "io.trainwatch.cli.FlinkEntryPoint", "run --bootstrap-servers kafka:9092");
    }

    @Test
    void shouldWriteToPostgresWithCredentialsFromTheEnvironment() throws Exception {
        JsonNode services =
                new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile()).path("services");
        assertThat(services.path("jobmanager").path("command").asText())
                .contains("--jdbc-url jdbc:postgresql://postgres:5432/trainwatch");
        for (String s : new String[] {"jobmanager", "taskmanager"}) {
            JsonNode env = services.path(s).path("environment");
            assertThat(env.path("TRAINWATCH_JDBC_USER").asText())
                    .as(s)
                    .startsWith("${POSTGRES_USER");
            assertThat(env.path("TRAINWATCH_JDBC_PASSWORD").asText())
                    .as(s)
                    .startsWith("${POSTGRES_PASSWORD:?");
        }
        assertThat(
                        services.path("jobmanager")
                                .path("depends_on")
                                .path("postgres")
                                .path("condition")
                                .asText())
                .isEqualTo("service_healthy");
        // `docker compose up` streams the demo runs into the stack, so the dashboards have data
        JsonNode demo = services.path("demo-producer");
        assertThat(demo.has("profiles")).isFalse();
        assertThat(demo.path("command").asText()).contains("demo --bootstrap-servers kafka:9092");
    }

    @Test
    void shouldRunTheJobJarOnFlinkAndTheCliJarForTheDemo() throws Exception {
        JsonNode services =
                new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile()).path("services");
        // Flink's own jars are in the image: the JobManager and TaskManager get the job jar only
        for (String s : new String[] {"jobmanager", "taskmanager"}) {
            assertThat(services.path(s).path("volumes").toString())
                    .as(s)
                    .contains(
                            "../target/trainwatch-job.jar:/opt/flink/usrlib/trainwatch-job.jar:ro")
                    .doesNotContain("target/trainwatch.jar");
        }
        // demo starts in-process servers the job jar leaves out
        assertThat(services.path("demo-producer").path("volumes").toString())
                .contains("../target/trainwatch.jar:/trainwatch.jar:ro");
        assertThat(services.path("demo-producer").path("command").asText())
                .contains("java -jar /trainwatch.jar demo");
    }

    @Test
    void shouldGiveTrainwatchOnlyFlagsItKnows() throws Exception {
        JsonNode services =
                new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile()).path("services");
        String job = services.path("jobmanager").path("command").asText().trim();
        String demo = services.path("demo-producer").path("command").asText().trim();
        for (String args :
                new String[] {
                    job.substring(job.indexOf("FlinkEntryPoint") + "FlinkEntryPoint".length()),
                    demo.substring(demo.indexOf("/trainwatch.jar") + "/trainwatch.jar".length())
                }) {
            String[] argv = args.trim().split("\\s+");
            // parsing fails on an unknown flag or a bad value, as the container's start would
            var parsed = io.trainwatch.cli.TrainwatchCli.commandLine().parseArgs(argv);
            assertThat(parsed.subcommand()).as(args).isNotNull();
            assertThat(parsed.subcommand().commandSpec().name()).isEqualTo(argv[0]);
        }
    }
}
