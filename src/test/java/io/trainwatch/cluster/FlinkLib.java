package io.trainwatch.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The lib directory of a standalone Flink cluster, as flink-dist's would be, built from Maven
 * Central's module jars: {@code src/test/cluster/pom.xml} lists Flink's modules and log4j, and a
 * nested Maven ({@code dependency:copy-dependencies}) resolves them with their transitive
 * dependencies at the project's Flink and log4j versions. copy-dependencies of the project itself
 * cannot do it: it copies the project's own dependencies, the Kafka broker, PostgreSQL binaries and
 * test libraries among them. The nested Maven is the one running the build, with its local
 * repository, user settings and offline flag (failsafe passes them), so it works from a fresh ~/.m2
 * online and from a filled one offline. A lib already built for the same versions is reused.
 */
final class FlinkLib {
    /** What failsafe passes (see pom.xml); running the test elsewhere needs them too. */
    static final String FLINK_VERSION = "flink.version";

    static final String LOG4J_VERSION = "log4j.version";
    static final String MAVEN_HOME = "maven.home";
    static final String MAVEN_OFFLINE = "trainwatch.maven.offline";
    static final String MAVEN_REPO_LOCAL = "trainwatch.maven.repo.local";
    static final String MAVEN_SETTINGS = "trainwatch.maven.settings";

    static final Path POM = Path.of("src/test/cluster/pom.xml");

    /** A cold ~/.m2 downloads ~115 MB. */
    private static final long RESOLVE_TIMEOUT_MINUTES = 10;

    private FlinkLib() {}

    /** The lib directory under {@code dir} ({@code dir/lib}), built unless already there. */
    static Path resolve(Path dir) throws IOException, InterruptedException {
        String flink = required(FLINK_VERSION);
        String log4j = required(LOG4J_VERSION);
        Path lib = dir.resolve("lib");
        Path stamp = dir.resolve("lib.versions");
        String versions = "flink " + flink + ", log4j " + log4j;
        if (Files.isDirectory(lib)
                && Files.exists(stamp)
                && Files.readString(stamp).equals(versions)) {
            return lib;
        }
        deleteRecursively(lib);
        Files.deleteIfExists(stamp);
        Files.createDirectories(dir);

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(required(MAVEN_HOME), "bin", "mvn").toString());
        cmd.add("-B");
        cmd.add("-ntp"); // the log (lib-resolve.log) without download progress
        // failsafe passes "offline=true" or "offline=false" (see pom.xml)
        if ("offline=true".equals(System.getProperty(MAVEN_OFFLINE))) {
            cmd.add("-o");
        }
        String repo = System.getProperty(MAVEN_REPO_LOCAL);
        if (repo != null && !repo.isBlank()) {
            cmd.add("-Dmaven.repo.local=" + repo);
        }
        String settings = System.getProperty(MAVEN_SETTINGS);
        if (settings != null && Files.isRegularFile(Path.of(settings))) {
            cmd.add("-s"); // the user settings of the build (mirrors, proxies), -s or ~/.m2's
            cmd.add(settings);
        }
        cmd.add("-f");
        cmd.add(POM.toAbsolutePath().toString());
        cmd.add("-D" + FLINK_VERSION + "=" + flink);
        cmd.add("-D" + LOG4J_VERSION + "=" + log4j);
        cmd.add("-DoutputDirectory=" + lib.toAbsolutePath());
        cmd.add("dependency:copy-dependencies");
        Path log = dir.resolve("lib-resolve.log");
        System.out.println("Flink lib (" + versions + "): " + String.join(" ", cmd));
        Process mvn =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        try {
            if (!mvn.waitFor(RESOLVE_TIMEOUT_MINUTES, TimeUnit.MINUTES) || mvn.exitValue() != 0) {
                throw new IllegalStateException(
                        "resolving Flink's lib failed: "
                                + String.join(" ", cmd)
                                + "\n"
                                + Files.readString(log));
            }
        } finally {
            mvn.destroyForcibly().waitFor();
        }
        Files.writeString(stamp, versions);
        return lib;
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(
                    "system property " + property + " not set (failsafe sets it, see pom.xml)");
        }
        return v;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
