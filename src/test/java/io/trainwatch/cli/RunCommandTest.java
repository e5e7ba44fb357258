package io.trainwatch.cli;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.job.PostgresConfig;
import io.trainwatch.threshold.Threshold;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user sees when the live job cannot start (one line, no stack trace, no secret), and what
 * {@code run --dry-run} prints.
 */
class RunCommandTest {
    @Test
    void shouldSayClearlyWhenTheBrokerCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        CliRunner.Result r =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:" + closedPort,
                        "--kafka-property",
                        "sasl.jaas.config=secret-jaas-line",
                        "--kafka-property",
                        "reconnect.backoff.max.ms=200");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err())
                .startsWith("error: cannot reach Kafka at localhost:" + closedPort + " within 15 s")
                .doesNotContain("secret-jaas-line")
                .doesNotContain("\tat ");
    }

    @Test
    void shouldSayWhichTopicIsMissingWhenNotAllowedToCreateIt() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            CliRunner.Result r =
                    CliRunner.run(
                            "run",
                            "--bootstrap-servers",
                            kafka.bootstrapServers(),
                            "--no-create-topics");
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err().trim())
                    .isEqualTo(
                            "error: topic trainwatch.events does not exist (and --no-create-topics was given)");
        }
    }

    @Test
    void shouldRefuseCredentialsInTheJdbcUrlWithoutEchoingThem() {
        CliRunner.Result r =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--jdbc-url",
                        "jdbc:postgresql://db:5432/trainwatch?user=tw&password=hunter2");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo(
                        "error: --jdbc-url must not carry credentials (jdbc:postgresql://db:5432/trainwatch?user=tw&password=***):"
                                + " set TRAINWATCH_JDBC_USER and TRAINWATCH_JDBC_PASSWORD in the environment instead");
    }

    @Test
    void shouldSayClearlyWhenPostgresCannotBeReached(@TempDir Path tmp) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path events =
                Files.writeString(
                        tmp.resolve("events.jsonl"),
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":1.0}\n");
        String url = "jdbc:postgresql://localhost:" + closedPort + "/trainwatch";
        CliRunner.Result r =
                CliRunner.run(
                        "replay",
                        "--input",
                        events.toString(),
                        "--output",
                        tmp.resolve("a.jsonl").toString(),
                        "--jdbc-url",
                        url);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .startsWith("error: cannot connect to PostgreSQL at " + url + " as ")
                .contains("Connection to localhost:" + closedPort + " refused")
                .endsWith("; check --jdbc-url and TRAINWATCH_JDBC_USER / TRAINWATCH_JDBC_PASSWORD")
                .doesNotContain("\n")
                .doesNotContain("\tat ");
    }

    @Test
    void shouldRefuseSeriesEveryBelowOne(@TempDir Path tmp) throws Exception {
        Path events = Files.writeString(tmp.resolve("events.jsonl"), "{}\n");
        CliRunner.Result r =
                CliRunner.run(
                        "replay",
                        "--input",
                        events.toString(),
                        "--output",
                        tmp.resolve("a.jsonl").toString(),
                        "--series-every",
                        "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo("error: --series-every must be >= 1 (1 keeps every step), got 0");
        assertThat(
                        CliRunner.run(
                                        "run",
                                        "--bootstrap-servers",
                                        "localhost:1",
                                        "--series-every",
                                        "-5")
                                .err()
                                .trim())
                .isEqualTo("error: --series-every must be >= 1 (1 keeps every step), got -5");
    }

    @Test
    void shouldRefuseABadFlagValueWithExitCode2() {
        CliRunner.Result r =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--checkpoint-interval",
                        "soon");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo(
                        "error: --checkpoint-interval must be ISO-8601 (PT10S) or milliseconds, got \"soon\"");
    }

    @Test
    void shouldRefuseAnUnknownAlertsDeliveryNamingTheFlagTheValueAndWhatIsAllowed() {
        CliRunner.Result r =
                CliRunner.run(
                        "run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--alerts-delivery",
                        "at-most-once");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo(
                        "error: --alerts-delivery must be exactly-once or at-least-once, got \"at-most-once\"");
    }

    @Test
    void shouldPrintTheAlertsDeliveryOnADryRun() {
        CliRunner.Result byDefault =
                CliRunner.run("run", "--dry-run", "--bootstrap-servers", "localhost:1");
        assertThat(byDefault.exitCode()).as(byDefault.err()).isZero();
        assertThat(byDefault.out())
                .contains(
                        "\nalerts delivery          exactly-once (Kafka transactions committed at each checkpoint;"
                                + " read with isolation.level=read_committed)\n",
                        "\ntransactional id prefix  trainwatch\n");

        CliRunner.Result atLeastOnce =
                CliRunner.run(
                        "run",
                        "--dry-run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--alerts-delivery",
                        "At-Least-Once");
        assertThat(atLeastOnce.exitCode()).as(atLeastOnce.err()).isZero();
        assertThat(atLeastOnce.out())
                .contains(
                        "\nalerts delivery          at-least-once (written as raised, flushed at each checkpoint;"
                                + " duplicates after a restore)\n",
                        "\ntransactional id prefix  trainwatch (unused: no transactions)\n");
    }

    @Test
    void shouldPrintTheEffectiveConfigurationWithoutContactingKafkaOrPostgres() throws Exception {
        // something listens on both ports: a connection attempt, even one that never gets an
        // answer, would be queued there
        try (ServerSocketChannel kafka = listening();
                ServerSocketChannel postgres = listening()) {
            CliRunner.Result r =
                    CliRunner.run(
                            "run",
                            "--dry-run",
                            "--bootstrap-servers",
                            "localhost:" + port(kafka),
                            "--checkpoint-dir",
                            "s3://bucket/chk",
                            "--state-changelog",
                            "--from-checkpoint",
                            "s3://bucket/chk/abc/chk-7",
                            "--series-topic",
                            "tw.series",
                            "--starting-offsets",
                            "earliest",
                            "--checkpoint-interval",
                            "250",
                            "--stop-at-end",
                            "--kafka-property",
                            "sasl.jaas.config=secret-stuff",
                            "--kafka-property",
                            "security.protocol=SASL_SSL",
                            "--threshold",
                            "spike_mad_k=10",
                            "--jdbc-url",
                            "jdbc:postgresql://localhost:" + port(postgres) + "/trainwatch",
                            "--series-every",
                            "5");
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(kafka.accept()).as("a connection to the Kafka port").isNull();
            assertThat(postgres.accept()).as("a connection to the PostgreSQL port").isNull();
            assertThat(r.out())
                    .contains(
                            "\nbrokers                  localhost:" + port(kafka) + "\n",
                            "\nevents topic             trainwatch.events\n",
                            "\nalerts topic             trainwatch.alerts\n",
                            "\ndead-letter topic        trainwatch.dead-letter\n",
                            "\nseries topic             tw.series\n",
                            "\ngroup id                 trainwatch\n",
                            "\nstarting offsets         earliest\n",
                            "\nparallelism              2\n",
                            "\ncheckpoint interval      PT0.25S (250 ms)\n",
                            "\ncheckpoint storage       s3://bucket/chk\n",
                            "\nstate backend            hashmap, with changelog at s3://bucket/chk/changelog\n",
                            "\nrestore from             s3://bucket/chk/abc/chk-7 (claimed: the job takes the checkpoint over)\n",
                            "\nstop at end              yes",
                            "\ntransactional id prefix  trainwatch\n",
                            "\nPostgreSQL               jdbc:postgresql://localhost:"
                                    + port(postgres)
                                    + "/trainwatch as ",
                            "\nseries every             5 step(s)\n",
                            "\nkafka property           sasl.jaas.config=***\n",
                            "\nkafka property           security.protocol=SASL_SSL\n",
                            "\nthreshold                spike_mad_k = 10 (--threshold, default 8)\n",
                            "\nthreshold                grad_ema_alpha = 0.05 (default)\n",
                            "\nthreshold                idle_timeout_minutes = 1440 (default)\n");
            assertThat(r.out()).doesNotContain("secret-stuff");
            assertThat(r.out().lines().filter(l -> l.startsWith("threshold ")).count())
                    .isEqualTo(Threshold.values().length);
            assertThat(r.err()).doesNotContain("secret-stuff").doesNotContain("created topics");
        }
    }

    @Test
    void shouldPassAFileUriThroughAndMakeAPlainPathAnAbsoluteFileUri() {
        CliRunner.Result uri =
                CliRunner.run(
                        "run",
                        "--dry-run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--checkpoint-dir",
                        "file:///var/lib/trainwatch/chk",
                        "--state-changelog");
        assertThat(uri.exitCode()).as(uri.err()).isZero();
        assertThat(uri.out())
                .contains(
                        "\ncheckpoint storage       file:///var/lib/trainwatch/chk\n",
                        "\nstate backend            hashmap, with changelog at file:///var/lib/trainwatch/chk/changelog\n");

        String cwd = Path.of("").toAbsolutePath().toUri().toString().replaceAll("/$", "");
        assertThat(cwd).startsWith("file:///");
        CliRunner.Result plain =
                CliRunner.run(
                        "run",
                        "--dry-run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--checkpoint-dir",
                        "chk-relative",
                        "--state-changelog");
        assertThat(plain.exitCode()).as(plain.err()).isZero();
        assertThat(plain.out())
                .contains(
                        "\ncheckpoint storage       " + cwd + "/chk-relative\n",
                        "\nstate backend            hashmap, with changelog at "
                                + cwd
                                + "/chk-relative/changelog\n");

        CliRunner.Result rocksdb =
                CliRunner.run(
                        "run",
                        "--dry-run",
                        "--bootstrap-servers",
                        "localhost:1",
                        "--checkpoint-dir",
                        "s3://bucket/chk",
                        "--state-backend",
                        "RocksDB",
                        "--state-changelog");
        assertThat(rocksdb.exitCode()).as(rocksdb.err()).isZero();
        assertThat(rocksdb.out())
                .contains(
                        "\nstate backend            rocksdb (incremental checkpoints), with changelog at s3://bucket/chk/changelog\n");

        CliRunner.Result none =
                CliRunner.run("run", "--dry-run", "--bootstrap-servers", "localhost:1");
        assertThat(none.exitCode()).as(none.err()).isZero();
        assertThat(none.out())
                .contains(
                        "\ncheckpoint storage       in memory (JobManager)\n",
                        "\nstate backend            hashmap\n",
                        "\nrestore from             none\n",
                        "\nseries topic             off\n",
                        "\nPostgreSQL               off\n",
                        "\nkafka properties         none\n");
    }

    @Test
    void shouldNeverPrintThePostgresPasswordFromTheEnvironment(@TempDir Path tmp) throws Exception {
        // the credentials come only from the real environment, which a JVM cannot change for
        // itself: a second JVM, as a user runs it
        String password = "hunter2-from-the-environment";
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        ProcessBuilder pb =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                TrainwatchCli.class.getName(),
                                "run",
                                "--dry-run",
                                "--bootstrap-servers",
                                "localhost:1",
                                "--jdbc-url",
                                "jdbc:postgresql://db.example:5432/trainwatch")
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile());
        pb.environment().put(PostgresConfig.USER_ENV, "tw_writer");
        pb.environment().put(PostgresConfig.PASSWORD_ENV, password);
        Process p = pb.start();
        try {
            assertThat(p.waitFor(120, TimeUnit.SECONDS))
                    .as("the dry run ended within 120 s")
                    .isTrue();
        } finally {
            p.destroyForcibly();
        }
        String printed = Files.readString(out, StandardCharsets.UTF_8);
        String errors = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(errors).isZero();
        assertThat(printed)
                .contains(
                        "\nPostgreSQL               jdbc:postgresql://db.example:5432/trainwatch as tw_writer, password set (TRAINWATCH_JDBC_PASSWORD, not shown)\n");
        assertThat(printed + errors).doesNotContain(password).doesNotContain("hunter2");
    }

    @Test
    void shouldStillRefuseABadFlagValueOnADryRun() {
        assertRefusedOnADryRun(
                "error: --checkpoint-interval must be ISO-8601 (PT10S) or milliseconds, got \"soon\"",
                "--checkpoint-interval",
                "soon");
        assertRefusedOnADryRun("error: --parallelism must be >= 1, got 0", "--parallelism", "0");
        assertRefusedOnADryRun(
                "error: --state-changelog needs --checkpoint-dir (the changelog is written beside the checkpoints)",
                "--state-changelog");
        assertRefusedOnADryRun(
                "error: --state-backend must be hashmap or rocksdb, got \"forst\"",
                "--state-backend",
                "forst");
        assertRefusedOnADryRun(
                "error: --state-backend rocksdb needs --checkpoint-dir (its incremental checkpoints are files shared between checkpoints)",
                "--state-backend",
                "rocksdb");
        assertRefusedOnADryRun(
                "error: --checkpoint-dir must not be empty (a folder, or a URI such as s3://bucket/checkpoints)",
                "--checkpoint-dir",
                "");
        assertRefusedOnADryRun(
                "error: --from-checkpoint must not be empty (a retained chk-N folder)",
                "--from-checkpoint",
                " ");
        assertRefusedOnADryRun(
                "error: --alerts-delivery must be exactly-once or at-least-once, got \"at_least_once\"",
                "--alerts-delivery",
                "at_least_once");
    }

    private static void assertRefusedOnADryRun(String error, String... flags) {
        List<String> args =
                new java.util.ArrayList<>(
                        List.of("run", "--dry-run", "--bootstrap-servers", "localhost:1"));
        args.addAll(List.of(flags));
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err().trim()).isEqualTo(error);
        assertThat(r.out()).doesNotContain("checkpoint storage");
    }

    @Test
    void shouldNotContactKafkaOnADryRun() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        CliRunner.Result r =
                CliRunner.run("run", "--dry-run", "--bootstrap-servers", "localhost:" + closedPort);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("\nbrokers                  localhost:" + closedPort + "\n");
        // a real start waits up to 15 s for the brokers before saying it cannot reach them
        // (shouldSayClearlyWhenTheBrokerCannotBeReached)
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    private static ServerSocketChannel listening() throws Exception {
        ServerSocketChannel c = ServerSocketChannel.open();
        c.bind(new InetSocketAddress("localhost", 0));
        c.configureBlocking(false);
        return c;
    }

    private static int port(ServerSocketChannel c) throws Exception {
        return ((InetSocketAddress) c.getLocalAddress()).getPort();
    }
}
