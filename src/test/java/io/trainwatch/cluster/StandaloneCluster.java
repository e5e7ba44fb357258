package io.trainwatch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A standalone Flink session cluster as child processes, the way Flink's own scripts start one: a
 * JobManager ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code
 * TaskManagerRunner}), each its own JVM on {@code lib/*}, with the memory flags {@code
 * BashJavaUtils} computes from {@code config.yaml}, as {@code jobmanager.sh} and {@code
 * taskmanager.sh} do. Jobs are submitted, stopped and resumed with the Flink CLI ({@code
 * CliFrontend}) and watched through the REST API. Every process's output goes to a log file; {@link
 * #close()} kills every process this cluster started.
 */
final class StandaloneCluster implements AutoCloseable {
    static final int SLOTS_PER_TASK_MANAGER = 2;

    /**
     * Flink's defaults (10 s / 50 s) notice a TaskManager killed without a goodbye only after up to
     * 50 s; a dead TaskManager's refused heartbeat RPCs count too ({@code
     * heartbeat.rpc-failure-threshold}), so 2 s / 8 s find it within seconds.
     */
    static final String HEARTBEAT_INTERVAL = "2 s";

    static final String HEARTBEAT_TIMEOUT = "8 s";

    /**
     * What flink-dist's config.yaml passes every Flink JVM on Java 17 ({@code env.java.opts.all}).
     */
    static final List<String> JAVA_17_OPTIONS =
            List.of(
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    static final String JOB_MANAGER_MAIN =
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER_MAIN =
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String CLI_MAIN = "org.apache.flink.client.cli.CliFrontend";
    static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";

    /** A CLI command (submit, stop with a savepoint) on a busy 2-core machine. */
    static final Duration CLI_TIMEOUT = Duration.ofMinutes(3);

    private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
    private static final Pattern SUBMITTED = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Pattern SAVEPOINT = Pattern.compile("Savepoint completed\\. Path: (\\S+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path lib;
    private final Path conf;
    private final Path work;
    private final Path logs;
    private final int restPort;
    private final HttpClient http = HttpClient.newHttpClient();

    /** By name (jobmanager, tm-1, ...); a killed one stays until {@link #close()}. */
    private final Map<String, Process> processes = new LinkedHashMap<>();

    private ResourceParams taskManagerParams;
    private int taskManagersStarted;
    private int cliCalls;

    private StandaloneCluster(Path lib, Path conf, Path work, Path logs, int restPort) {
        // absolute: the processes run in their own working directories
        this.lib = lib.toAbsolutePath();
        this.conf = conf.toAbsolutePath();
        this.work = work.toAbsolutePath();
        this.logs = logs.toAbsolutePath();
        this.restPort = restPort;
    }

    /**
     * Writes {@code dir/conf/config.yaml} (free ports, 2 slots per TaskManager, fast heartbeats),
     * starts a JobManager and {@code taskManagers} TaskManagers; returns without waiting for them
     * (see {@link #awaitTaskManagers}). Logs go to {@code logs}; working directories under {@code
     * dir/work}.
     */
    static StandaloneCluster start(Path lib, Path dir, Path logs, int taskManagers)
            throws IOException, InterruptedException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(logs);
        int restPort = freePort();
        Map<String, String> c = new LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "localhost");
        c.put("jobmanager.rpc.port", Integer.toString(freePort()));
        c.put("jobmanager.bind-host", "localhost");
        c.put("taskmanager.bind-host", "localhost");
        c.put("taskmanager.host", "localhost");
        c.put("rest.address", "localhost");
        c.put("rest.bind-address", "localhost");
        c.put("rest.port", Integer.toString(restPort));
        // memory as small as a 2-core CI machine running three of these allows
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("taskmanager.memory.process.size", "1280m");
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(SLOTS_PER_TASK_MANAGER));
        // a TaskManager up before the JobManager retries after 1 s, not 10 s
        c.put("cluster.registration.error-delay", "1 s");
        c.put("heartbeat.interval", HEARTBEAT_INTERVAL);
        c.put("heartbeat.timeout", HEARTBEAT_TIMEOUT);
        c.put("jobmanager.execution.failover-strategy", "region");
        // the job sets its own (KafkaPipeline); this is the cluster's for jobs that do not
        c.put("restart-strategy.type", "exponential-delay");
        c.put("restart-strategy.exponential-delay.initial-backoff", "1 s");
        c.put("restart-strategy.exponential-delay.max-backoff", "10 s");
        // how long the REST API caches a job's state (default 3 s): the test times recovery by it
        c.put("web.refresh-interval", "200 ms");
        c.put("io.tmp.dirs", Files.createDirectories(work.resolve("tmp")).toString());
        c.put("env.java.opts.all", String.join(" ", JAVA_17_OPTIONS));
        StringBuilder yaml = new StringBuilder();
        c.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
        Files.writeString(conf.resolve("config.yaml"), yaml);
        Files.writeString(conf.resolve("log4j.properties"), log4j("INFO"));
        Files.writeString(conf.resolve("log4j-cli.properties"), log4j("WARN"));

        StandaloneCluster cluster = new StandaloneCluster(lib, conf, work, logs, restPort);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
        try {
            // ~1-3 s each: computed once, in parallel, and reused for every TaskManager
            CompletableFuture<ResourceParams> tm =
                    CompletableFuture.supplyAsync(() -> cluster.resourceParams("GET_TM"));
            ResourceParams jm = cluster.resourceParams("GET_JM");
            cluster.taskManagerParams = tm.join();
            cluster.launch("jobmanager", JOB_MANAGER_MAIN, jm, List.of());
            for (int i = 0; i < taskManagers; i++) {
                cluster.startTaskManager();
            }
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static String log4j(String level) {
        return String.join(
                "\n",
                "rootLogger.level = " + level,
                "rootLogger.appenderRef.console.ref = Console",
                "appender.console.type = Console",
                "appender.console.name = Console",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %t %c{1} - %m%n",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = WARN",
                "");
    }

    /**
     * The memory settings of a JobManager or TaskManager process as BashJavaUtils prints them: the
     * JVM's flags ({@code -Xmx…}) and the settings the entry point is given ({@code -D key=value}).
     */
    record ResourceParams(List<String> jvmFlags, List<String> dynamicProperties) {}

    /**
     * {@link ResourceParams} for a JobManager ({@code GET_JM}) or a TaskManager ({@code GET_TM}).
     */
    private ResourceParams resourceParams(String what) {
        try {
            List<String> out =
                    runJava(
                            what.toLowerCase(Locale.ROOT) + "-resources",
                            List.of(),
                            BASH_JAVA_UTILS,
                            List.of(what + "_RESOURCE_PARAMS", "--configDir", conf.toString()),
                            Duration.ofMinutes(1));
            List<String> results =
                    out.stream()
                            .filter(l -> l.startsWith(RESULT_PREFIX))
                            .map(l -> l.substring(RESULT_PREFIX.length()).trim())
                            .toList();
            if (results.size() != 2) {
                throw new IllegalStateException(
                        "BashJavaUtils " + what + " printed: " + String.join("\n", out));
            }
            return new ResourceParams(
                    List.of(results.get(0).split("\\s+")), List.of(results.get(1).split("\\s+")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts one more TaskManager; returns its resource id (tm-1, tm-2, ...), as REST names it. */
    synchronized String startTaskManager() throws IOException {
        String id = "tm-" + ++taskManagersStarted;
        launch(
                id,
                TASK_MANAGER_MAIN,
                taskManagerParams,
                List.of("-D", "taskmanager.resource-id=" + id));
        return id;
    }

    /** {@code kill -9}: the TaskManager's process dies at once, without telling anyone. */
    synchronized void killTaskManager(String id) throws InterruptedException {
        Process p = processes.get(id);
        if (p == null) {
            throw new IllegalArgumentException(
                    "no TaskManager " + id + " in " + processes.keySet());
        }
        p.destroyForcibly().waitFor();
    }

    private void launch(String name, String main, ResourceParams resources, List<String> extra)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(resources.jvmFlags());
        cmd.addAll(JAVA_17_OPTIONS);
        cmd.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        cmd.add("-Dlog.file=" + logs.resolve(name + ".log"));
        cmd.add("-cp");
        cmd.add(lib.resolve("*").toString());
        cmd.add(main);
        cmd.add("--configDir");
        cmd.add(conf.toString());
        cmd.addAll(resources.dynamicProperties());
        cmd.addAll(extra);
        Path dir = Files.createDirectories(work.resolve(name));
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(logs.resolve(name + ".log").toFile());
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        synchronized (this) {
            processes.put(name, pb.start());
        }
    }

    /**
     * Runs the Flink CLI ({@code flink <args>}) against this cluster; returns its output, or throws
     * with it when the command fails.
     */
    List<String> flink(String... args) throws IOException, InterruptedException {
        return runJava(
                "cli-" + ++cliCalls + "-" + args[0],
                List.of(
                        "-Dlog4j.configurationFile="
                                + conf.resolve("log4j-cli.properties").toUri()),
                CLI_MAIN,
                List.of(args),
                CLI_TIMEOUT);
    }

    /**
     * {@code flink run -d -c <main> <jar> <args>} (with {@code -s <savepoint>} unless null);
     * returns the job id.
     */
    String submit(Path jar, String main, String savepoint, List<String> programArgs)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("run", "-d"));
        if (savepoint != null) {
            args.addAll(List.of("-s", savepoint));
        }
        args.addAll(List.of("-c", main, jar.toAbsolutePath().toString()));
        args.addAll(programArgs);
        List<String> out = flink(args.toArray(String[]::new));
        return find(SUBMITTED, out, "a submitted job id");
    }

    /**
     * {@code flink stop --savepointPath <dir> <job>}: the job takes a savepoint and finishes;
     * returns the savepoint's path.
     */
    String stopWithSavepoint(String jobId, String savepointDir)
            throws IOException, InterruptedException {
        List<String> out = flink("stop", "--savepointPath", savepointDir, jobId);
        return find(SAVEPOINT, out, "a completed savepoint");
    }

    private static String find(Pattern pattern, List<String> output, String what) {
        for (String line : output) {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m.group(1);
            }
        }
        throw new IllegalStateException(
                "the Flink CLI printed no " + what + ":\n" + String.join("\n", output));
    }

    private List<String> runJava(
            String name, List<String> jvmArgs, String main, List<String> args, Duration timeout)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(JAVA_17_OPTIONS);
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(lib.resolve("*").toString());
        cmd.add(main);
        cmd.addAll(args);
        Path log = logs.resolve(name + ".log");
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .directory(Files.createDirectories(work.resolve("cli")).toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        Process p = pb.start();
        synchronized (this) {
            processes.put(name, p); // killed by close() should the test end meanwhile
        }
        try {
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<String> out = Files.readAllLines(log);
            if (!done || p.exitValue() != 0) {
                throw new IllegalStateException(
                        main
                                + " "
                                + String.join(" ", args)
                                + (done ? " failed (exit " + p.exitValue() + ")" : " timed out")
                                + ", output in "
                                + log
                                + ":\n"
                                + String.join(
                                        "\n",
                                        out.subList(Math.max(0, out.size() - 60), out.size())));
            }
            return out;
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** GET on the REST API; a connection refused (JobManager not up yet) is empty. */
    Optional<JsonNode> rest(String path) {
        try {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create("http://localhost:" + restPort + path))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Cancels a job through the REST API (cleanup, not what a test checks) and waits for it. */
    void cancel(String jobId) throws IOException, InterruptedException {
        http.send(
                HttpRequest.newBuilder(
                                URI.create(
                                        "http://localhost:"
                                                + restPort
                                                + "/jobs/"
                                                + jobId
                                                + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        await(
                "job " + jobId + " canceled",
                Duration.ofMinutes(1),
                () -> jobState(jobId).filter(s -> s.equals("CANCELED")));
    }

    /** Waits until exactly {@code count} TaskManagers with all their slots are registered. */
    void awaitTaskManagers(int count, Duration timeout) {
        await(
                count + " TaskManagers registered",
                timeout,
                () ->
                        rest("/overview")
                                .filter(
                                        o ->
                                                o.path("taskmanagers").asInt() == count
                                                        && o.path("slots-total").asInt()
                                                                == count * SLOTS_PER_TASK_MANAGER));
    }

    Optional<String> jobState(String jobId) {
        return rest("/jobs/" + jobId).map(j -> j.path("state").asText());
    }

    /** The job's vertices ({@code /jobs/<id>}: id, name, parallelism, tasks by state). */
    List<JsonNode> vertices(String jobId) {
        List<JsonNode> out = new ArrayList<>();
        rest("/jobs/" + jobId).ifPresent(j -> j.path("vertices").forEach(out::add));
        return out;
    }

    /** A vertex's subtasks (subtask, status, attempt, taskmanager-id). */
    List<JsonNode> subtasks(String jobId, String vertexId) {
        List<JsonNode> out = new ArrayList<>();
        rest("/jobs/" + jobId + "/vertices/" + vertexId)
                .ifPresent(v -> v.path("subtasks").forEach(out::add));
        return out;
    }

    /** Whether the job is RUNNING with every task of every vertex running. */
    boolean allTasksRunning(String jobId) {
        Optional<JsonNode> job = rest("/jobs/" + jobId);
        if (job.isEmpty() || !job.get().path("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode v : job.get().path("vertices")) {
            if (v.path("tasks").path("RUNNING").asInt() != v.path("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first checkpoint triggered after {@code millis} (epoch) that completed, from the job's
     * checkpoint history ({@code /jobs/<id>/checkpoints}); its {@code latest_ack_timestamp} is when
     * it completed.
     */
    Optional<JsonNode> firstCheckpointCompletedAfter(String jobId, long millis) {
        return rest("/jobs/" + jobId + "/checkpoints")
                .flatMap(
                        c -> {
                            JsonNode first = null;
                            for (JsonNode h : c.path("history")) {
                                if (h.path("status").asText().equals("COMPLETED")
                                        && h.path("trigger_timestamp").asLong() > millis
                                        && (first == null
                                                || h.path("id").asLong()
                                                        < first.path("id").asLong())) {
                                    first = h;
                                }
                            }
                            return Optional.ofNullable(first);
                        });
    }

    /** Polls {@code check} every 100 ms until it gives a value; throws after {@code timeout}. */
    static <T> T await(String what, Duration timeout, Supplier<Optional<T>> check) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> v = check.get();
            if (v.isPresent()) {
                return v.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            LockSupport.parkNanos(100_000_000);
        }
    }

    Path logs() {
        return logs;
    }

    /** Where the cluster's processes and the CLI run (their working directories). */
    Path work() {
        return work;
    }

    /** Kills every process this cluster started and waits for each to be gone. */
    @Override
    public synchronized void close() {
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
