package io.trainwatch.embedded;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node Kafka broker (KRaft: broker and controller in one process) started from the
 * Kafka jars, for the demo, the benchmark and the tests — no Docker. Data lives in a temporary
 * folder removed on close. {@link #stop()} and {@link #restart()} take the broker down and bring it
 * back on the same ports, log directories and cluster id, its topics, committed offsets and open
 * transactions kept (an outage, for fault-injection tests).
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final Properties config;
    private final Path dir;
    private final String bootstrapServers;

    /** Null while stopped. */
    private KafkaRaftServer server;

    private boolean closed;

    private EmbeddedKafka(Properties config, Path dir, String bootstrapServers) {
        this.config = config;
        this.dir = dir;
        this.bootstrapServers = bootstrapServers;
    }

    public static EmbeddedKafka start() throws IOException {
        Path dir = Files.createTempDirectory("trainwatch-kafka");
        int port = freePort();
        int controllerPort = freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
        p.put(
                "listeners",
                "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "2");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "2");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "2");
        // Flink's Kafka sink keeps transactions open for up to a checkpoint interval and more
        p.put("transaction.max.timeout.ms", "3600000");
        Path config = dir.resolve("server.properties");
        try (var w = Files.newBufferedWriter(config)) {
            p.store(w, "trainwatch embedded broker");
        }
        ByteArrayOutputStream formatLog = new ByteArrayOutputStream();
        int rc =
                kafka.tools.StorageTool.execute(
                        new String[] {
                            "format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()
                        },
                        new PrintStream(formatLog, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IOException(
                    "formatting the embedded broker's storage failed: "
                            + formatLog.toString(StandardCharsets.UTF_8));
        }
        EmbeddedKafka kafka = new EmbeddedKafka(p, dir, "localhost:" + port);
        try {
            kafka.startServer();
        } catch (IOException | RuntimeException e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Shuts the broker down (a controlled shutdown: clients see it gone, its logs are flushed) and
     * keeps its data for {@link #restart()}. Does nothing when already stopped.
     */
    public synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    /**
     * Starts the stopped broker again on the same ports, log directories and cluster id; returns
     * once it answers.
     */
    public synchronized void restart() throws IOException {
        if (closed) {
            throw new IllegalStateException(
                    "the embedded Kafka broker is closed (its data removed)");
        }
        if (server != null) {
            throw new IllegalStateException("the embedded Kafka broker is running");
        }
        startServer();
    }

    private synchronized void startServer() throws IOException {
        // a new server on the formatted log directories: the same cluster id and node, the metadata
        // log replayed
        server = new KafkaRaftServer(KafkaConfig.fromProps(config, false), Time.SYSTEM);
        server.startup();
        try (Admin admin =
                Admin.create(
                        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            stop();
            throw new IOException(
                    "the embedded Kafka broker did not come up: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        stop();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
