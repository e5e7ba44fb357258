package io.trainwatch.docker;

import io.trainwatch.cli.TrainwatchCli;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/kubernetes/flink-deployment.yaml is a FlinkDeployment the Flink Kubernetes Operator
 * accepts, runs the slim job jar with flags trainwatch knows, keeps its state on object storage
 * with HA and savepoint upgrades, sets the heartbeats that decide recovery time, and takes every
 * secret from a Kubernetes Secret.
 *
 * <p>Checked structurally: Maven Central does not serve {@code
 * org.apache.flink:flink-kubernetes-operator} (the jar that carries the CRDs), so the fields and
 * enum values below are those of the operator's FlinkDeployment CRD, releases 1.11 to 1.15.
 */
class KubernetesManifestTest {
    static final Path MANIFEST = Path.of("deploy/kubernetes/flink-deployment.yaml");
    static final Path DOCKERFILE = Path.of("deploy/kubernetes/Dockerfile");
    static final String JOB_JAR_IN_IMAGE = "/opt/flink/usrlib/trainwatch-job.jar";

    // the CRD's fields (FlinkDeploymentSpec, JobSpec, JobManagerSpec/TaskManagerSpec, Resource)
    static final Set<String> SPEC_FIELDS =
            Set.of(
                    "job",
                    "restartNonce",
                    "flinkConfiguration",
                    "image",
                    "imagePullPolicy",
                    "serviceAccount",
                    "flinkVersion",
                    "ingress",
                    "podTemplate",
                    "jobManager",
                    "taskManager",
                    "logConfiguration",
                    "mode");
    static final Set<String> JOB_FIELDS =
            Set.of(
                    "jarURI",
                    "parallelism",
                    "entryClass",
                    "args",
                    "state",
                    "savepointTriggerNonce",
                    "initialSavepointPath",
                    "checkpointTriggerNonce",
                    "upgradeMode",
                    "allowNonRestoredState",
                    "savepointRedeployNonce",
                    "autoscalerResetNonce");
    static final Set<String> PROCESS_FIELDS = Set.of("resource", "replicas", "podTemplate");
    static final Set<String> RESOURCE_FIELDS = Set.of("cpu", "memory", "ephemeralStorage");
    static final Set<String> UPGRADE_MODES = Set.of("stateless", "last-state", "savepoint");
    static final Set<String> JOB_STATES = Set.of("running", "suspended");
    static final Set<String> IMAGE_PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");

    /** Schemes of object stores Flink has filesystem plugins for. */
    static final Pattern OBJECT_STORE =
            Pattern.compile("(s3|s3a|s3p|gs|abfss?|wasbs?|oss)://[a-z0-9][a-z0-9.-]*/\\S*");

    /** Names whose values are secrets: they come from a Secret, never inline. */
    static final Pattern SECRET_NAME = Pattern.compile("(?i).*(password|secret|token|key).*");

    /** A secret written into a value: {@code password=...} in a URL or JAAS line, URL userinfo. */
    static final Pattern SECRET_IN_VALUE =
            Pattern.compile("(?i).*((password|secret|token)\\s*=|://[^/@\\s]+:[^/@\\s]+@).*");

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static JsonNode manifest() throws IOException {
        return YAML.readTree(MANIFEST.toFile());
    }

    @Test
    void shouldFitTheOperatorsFlinkDeploymentSchema() throws Exception {
        JsonNode m = manifest();
        assertThat(m.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(m.path("kind").asText()).isEqualTo("FlinkDeployment");
        // the operator derives Services from the name: a DNS label of at most 45 characters
        assertThat(m.path("metadata").path("name").asText())
                .matches("[a-z]([-a-z0-9]{0,43}[a-z0-9])?");

        JsonNode spec = m.path("spec");
        assertThat(names(spec)).isSubsetOf(SPEC_FIELDS);
        assertThat(spec.path("flinkVersion").asText()).isEqualTo(operatorFlinkVersion());
        assertThat(spec.path("image").asText())
                .as("a pinned image tag")
                .matches("[a-z0-9./_-]+:[0-9][A-Za-z0-9._-]*");
        assertThat(spec.path("imagePullPolicy").asText()).isIn(IMAGE_PULL_POLICIES);
        if (spec.has("mode")) {
            assertThat(spec.path("mode").asText()).isIn("native", "standalone");
        }
        // operators before 1.13 type flinkConfiguration as map<string, string>: 2 must be "2"
        JsonNode conf = spec.path("flinkConfiguration");
        assertThat(conf.isObject()).isTrue();
        conf.fields()
                .forEachRemaining(
                        e -> assertThat(e.getValue().isTextual()).as(e.getKey()).isTrue());

        for (String process : new String[] {"jobManager", "taskManager"}) {
            JsonNode p = spec.path(process);
            assertThat(names(p)).as(process).isSubsetOf(PROCESS_FIELDS);
            JsonNode resource = p.path("resource");
            assertThat(names(resource)).as(process).isSubsetOf(RESOURCE_FIELDS);
            assertThat(resource.path("cpu").isNumber()).as(process + " cpu").isTrue();
            assertThat(resource.path("cpu").asDouble()).as(process + " cpu").isPositive();
            assertThat(resource.path("memory").isTextual()).as(process + " memory").isTrue();
            // the operator reads Flink's memory format (1600m = 1600 MiB) before Kubernetes'
            assertThat(MemorySize.parse(resource.path("memory").asText()).getMebiBytes())
                    .as(process + " memory")
                    .isGreaterThanOrEqualTo(1024);
        }

        JsonNode job = spec.path("job");
        assertThat(names(job)).isSubsetOf(JOB_FIELDS);
        assertThat(job.path("parallelism").isInt()).isTrue();
        assertThat(job.path("args").isArray()).isTrue();
        job.path("args").forEach(a -> assertThat(a.isTextual()).as(a.toString()).isTrue());
        assertThat(job.path("state").asText()).isIn(JOB_STATES);
        assertThat(job.path("upgradeMode").asText()).isIn(UPGRADE_MODES);
    }

    @Test
    void shouldRunTheSlimJobJarBakedIntoTheImage() throws Exception {
        JsonNode job = manifest().path("spec").path("job");
        assertThat(job.path("jarURI").asText()).isEqualTo("local://" + JOB_JAR_IN_IMAGE);
        assertThat(job.path("entryClass").asText()).isEqualTo("io.trainwatch.cli.FlinkEntryPoint");

        List<String> dockerfile = Files.readAllLines(DOCKERFILE);
        assertThat(dockerfile)
                .contains("FROM flink:" + projectFlinkVersion() + "-java17")
                .contains("COPY target/trainwatch-job.jar " + JOB_JAR_IN_IMAGE);
        // s3:// needs a filesystem plugin, and Flink loads those from plugins/ only
        assertThat(String.join("\n", dockerfile)).contains("/opt/flink/plugins/s3-fs-");
    }

    @Test
    void shouldGiveTheJobOnlyFlagsItKnowsMatchingTheClusterSettings() throws Exception {
        JsonNode spec = manifest().path("spec");
        List<String> args = args(spec);
        // parsing fails on an unknown flag or a bad value, as the JobManager's start would
        var parsed = TrainwatchCli.commandLine().parseArgs(args.toArray(String[]::new));
        assertThat(parsed.subcommand()).isNotNull();
        assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("run");
        // the job sets its parallelism from the flag, which wins over job.parallelism: the two must
        // say the same, or a rescale through the operator does nothing
        assertThat(flag(args, "--parallelism"))
                .isEqualTo(spec.path("job").path("parallelism").asText());
        assertThat(flag(args, "--checkpoint-dir"))
                .isEqualTo(
                        spec.path("flinkConfiguration")
                                .path("execution.checkpointing.dir")
                                .asText());
        assertThat(flag(args, "--transactional-id-prefix")).isNotBlank();
    }

    @Test
    void shouldKeepStateOnObjectStorageWithHaAndUpgradeThroughASavepoint() throws Exception {
        JsonNode spec = manifest().path("spec");
        JsonNode conf = spec.path("flinkConfiguration");
        assertThat(spec.path("job").path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(spec.path("job").path("state").asText()).isEqualTo("running");
        // the Flink 2.0 key and the older one the operator's validation reads, alike
        for (String[] keys :
                new String[][] {
                    {"execution.checkpointing.dir", "state.checkpoints.dir"},
                    {"execution.checkpointing.savepoint-dir", "state.savepoints.dir"}
                }) {
            assertThat(conf.path(keys[0]).asText()).as(keys[0]).matches(OBJECT_STORE);
            assertThat(conf.path(keys[1]).asText())
                    .as(keys[1])
                    .isEqualTo(conf.path(keys[0]).asText());
        }
        assertThat(conf.path("execution.checkpointing.savepoint-dir").asText())
                .isNotEqualTo(conf.path("execution.checkpointing.dir").asText());
        assertThat(conf.path("high-availability.type").asText()).isEqualTo("kubernetes");
        assertThat(conf.path("high-availability.storageDir").asText()).matches(OBJECT_STORE);
        assertThat(flag(args(spec), "--checkpoint-dir")).matches(OBJECT_STORE);
    }

    @Test
    void shouldSetFlinkOptionsFlinkKnowsWithValuesItParses() throws Exception {
        Map<String, ConfigOption<?>> options = flinkOptionsByKey();
        assertThat(options).containsKeys("heartbeat.timeout", "state.checkpoints.dir");
        JsonNode conf = manifest().path("spec").path("flinkConfiguration");
        Iterator<Map.Entry<String, JsonNode>> it = conf.fields();
        Configuration parsed = new Configuration();
        while (it.hasNext()) {
            var e = it.next();
            String key = e.getKey();
            if (key.startsWith("kubernetes.operator.")) {
                continue; // the operator's own settings
            }
            ConfigOption<?> option = options.get(key);
            assertThat(option)
                    .as(key + ": not an option of Flink " + projectFlinkVersion())
                    .isNotNull();
            Configuration one = Configuration.fromMap(Map.of(key, e.getValue().asText()));
            // throws on a value the option's type does not take
            assertThat(one.get(option)).as(key).isNotNull();
            parsed.addAll(one);
        }
        // what decides how fast a lost TaskManager is noticed (issue 15: ~22 s recovery with
        // Flink's 50 s timeout, ~9 s with 2 s / 8 s)
        assertThat(conf.has("heartbeat.interval")).isTrue();
        assertThat(conf.has("heartbeat.timeout")).isTrue();
        Duration interval = parsed.get(HeartbeatManagerOptions.HEARTBEAT_INTERVAL);
        Duration timeout = parsed.get(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT);
        assertThat(timeout).isLessThan(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT.defaultValue());
        assertThat(interval.multipliedBy(3)).isLessThanOrEqualTo(timeout);
        assertThat(parsed.get(RestartStrategyOptions.RESTART_STRATEGY))
                .isEqualTo("exponential-delay");
        assertThat(parsed.get(TaskManagerOptions.NUM_TASK_SLOTS)).isPositive();
    }

    @Test
    void shouldTakeEverySecretFromAKubernetesSecret() throws Exception {
        JsonNode m = manifest();
        assertThat(literalSecrets(m)).isEmpty();

        // every env:VAR the flags name, and the JDBC credentials, are set in the Flink container
        JsonNode spec = m.path("spec");
        Set<String> defined = new TreeSet<>();
        for (JsonNode c : spec.path("podTemplate").path("spec").path("containers")) {
            assertThat(c.path("name").asText())
                    .as("the container the operator merges the template into")
                    .isEqualTo("flink-main-container");
            c.path("env").forEach(e -> defined.add(e.path("name").asText()));
        }
        Set<String> referenced = new TreeSet<>();
        Matcher env =
                Pattern.compile("env:([A-Za-z_][A-Za-z0-9_]*)")
                        .matcher(String.join(" ", args(spec)));
        while (env.find()) {
            referenced.add(env.group(1));
        }
        assertThat(referenced).isNotEmpty();
        if (args(spec).contains("--jdbc-url")) {
            referenced.add("TRAINWATCH_JDBC_USER");
            referenced.add("TRAINWATCH_JDBC_PASSWORD");
        }
        assertThat(defined).containsAll(referenced);
    }

    @Test
    void shouldFindSecretsWrittenIntoTheManifest() throws Exception {
        ObjectNode m = (ObjectNode) manifest();
        ObjectNode spec = (ObjectNode) m.get("spec");
        ArrayNode env =
                (ArrayNode) spec.get("podTemplate").get("spec").get("containers").get(0).get("env");
        env.addObject().put("name", "TRAINWATCH_JDBC_PASSWORD").put("value", "hunter2");
        env.addObject()
                .put("name", "API_TOKEN")
                .putObject("valueFrom")
                .putObject("configMapKeyRef")
                .put("name", "settings")
                .put("key", "token");
        ((ObjectNode) spec.get("flinkConfiguration")).put("s3.secret-key", "abc");
        ((ArrayNode) spec.get("job").get("args"))
                .add("--kafka-property")
                .add(
                        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
                                + " required username=\"u\" password=\"p\";")
                .add("--notify")
                .add("webhook=https://user:pass@hooks.example.com/x");
        assertThat(literalSecrets(m))
                .hasSize(5)
                .anyMatch(s -> s.contains("TRAINWATCH_JDBC_PASSWORD"))
                .anyMatch(s -> s.contains("API_TOKEN"))
                .anyMatch(s -> s.contains("s3.secret-key"))
                .anyMatch(s -> s.contains("sasl.jaas.config"))
                .anyMatch(s -> s.contains("hooks.example.com"));
    }

    /**
     * Secrets written into the manifest: an env var with a secret's name not from a secretKeyRef, a
     * field with a secret's name holding a value, a value carrying a password or URL userinfo.
     */
    static List<String> literalSecrets(JsonNode manifest) {
        List<String> found = new ArrayList<>();
        walk(manifest, "", found);
        return found;
    }

    private static void walk(JsonNode n, String path, List<String> found) {
        if (n.isObject()) {
            if (n.has("name") && (n.has("value") || n.has("valueFrom"))) {
                String name = n.path("name").asText();
                if (SECRET_NAME.matcher(name).matches()
                        && (n.has("value") || !n.path("valueFrom").has("secretKeyRef"))) {
                    found.add(path + " env " + name + ": not from a secretKeyRef");
                }
            }
            n.fields()
                    .forEachRemaining(
                            e -> {
                                String key = e.getKey();
                                if (key.equals("secretKeyRef") || key.equals("configMapKeyRef")) {
                                    return; // names a Secret's key, holds no value
                                }
                                if (SECRET_NAME.matcher(key).matches()
                                        && e.getValue().isValueNode()) {
                                    found.add(path + "." + key + ": a literal value");
                                }
                                walk(e.getValue(), path + "." + key, found);
                            });
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                walk(n.get(i), path + "[" + i + "]", found);
            }
        } else if (n.isTextual() && SECRET_IN_VALUE.matcher(n.asText()).matches()) {
            found.add(path + ": " + n.asText().replaceAll("\\s.*", " ..."));
        }
    }

    /** Flink's options by key, deprecated and fallback keys included. */
    static Map<String, ConfigOption<?>> flinkOptionsByKey() throws IllegalAccessException {
        Map<String, ConfigOption<?>> byKey = new HashMap<>();
        for (Class<?> c :
                List.of(
                        CheckpointingOptions.class,
                        StateRecoveryOptions.class,
                        StateBackendOptions.class,
                        HighAvailabilityOptions.class,
                        HeartbeatManagerOptions.class,
                        RestartStrategyOptions.class,
                        TaskManagerOptions.class,
                        JobManagerOptions.class,
                        CoreOptions.class,
                        PipelineOptions.class)) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers())
                        && ConfigOption.class.isAssignableFrom(f.getType())) {
                    ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                    byKey.put(o.key(), o);
                    for (FallbackKey k : o.fallbackKeys()) {
                        byKey.putIfAbsent(k.getKey(), o);
                    }
                }
            }
        }
        return byKey;
    }

    static List<String> args(JsonNode spec) {
        List<String> args = new ArrayList<>();
        spec.path("job").path("args").forEach(a -> args.add(a.asText()));
        return args;
    }

    static String flag(List<String> args, String name) {
        int i = args.indexOf(name);
        assertThat(i).as(name).isNotNegative().isLessThan(args.size() - 1);
        return args.get(i + 1);
    }

    static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The project's Flink version, from pom.xml: 2.0.1. */
    static String projectFlinkVersion() throws IOException {
        Matcher m =
                Pattern.compile("<flink.version>([0-9.]+)</flink.version>")
                        .matcher(Files.readString(Path.of("pom.xml")));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /** The operator's name for it: v2_0. */
    static String operatorFlinkVersion() throws IOException {
        String[] v = projectFlinkVersion().split("\\.");
        return "v" + v[0] + "_" + v[1];
    }
}
