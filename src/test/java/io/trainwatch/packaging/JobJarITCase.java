package io.trainwatch.packaging;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code target/trainwatch-job.jar}, the job for a Flink cluster (built by {@code mvn package}
 * beside the CLI jar), holds what a Flink distribution lacks and nothing a cluster brings itself,
 * and its entry point runs with Flink's jars alone beside it.
 *
 * <p>"Flink's jars" are resolved by a child Maven from a pom listing the modules of a Flink
 * distribution's lib/ at the project's Flink version, not filtered from this test's classpath: that
 * classpath also holds the connectors (org.apache.flink too), the broker and the test libraries,
 * and no filter on names tells Flink's own dependencies (kryo, commons-*, lz4, snappy...) from
 * ours. The child Maven uses this build's local repository and offline mode.
 */
class JobJarITCase {
    static final Path JOB_JAR = Path.of("target/trainwatch-job.jar");
    static final Path CLI_JAR = Path.of("target/trainwatch.jar");

    /** What a Flink 2.0 distribution has in lib/ (flink-dist bundles these modules), and log4j. */
    static final List<String> FLINK_DISTRIBUTION =
            List.of(
                    "org.apache.flink:flink-runtime:${flink.version}",
                    "org.apache.flink:flink-clients:${flink.version}",
                    "org.apache.flink:flink-streaming-java:${flink.version}",
                    "org.apache.flink:flink-connector-base:${flink.version}",
                    "org.apache.flink:flink-rpc-akka-loader:${flink.version}",
                    "org.apache.flink:flink-statebackend-changelog:${flink.version}",
                    "org.apache.flink:flink-dstl-dfs:${flink.version}",
                    "org.apache.logging.log4j:log4j-slf4j-impl:${log4j.version}",
                    "org.apache.logging.log4j:log4j-core:${log4j.version}",
                    "org.apache.logging.log4j:log4j-api:${log4j.version}");

    /** Must not be in the job jar: the cluster brings it, or it is not for a cluster at all. */
    static final List<String> FORBIDDEN =
            List.of(
                    "org/apache/flink/runtime/",
                    "org/apache/flink/streaming/api/environment/",
                    "org/apache/flink/api/common/",
                    "org/apache/flink/client/",
                    "org/apache/flink/connector/base/",
                    "org/apache/flink/state/changelog/",
                    "scala/",
                    "kafka/server/",
                    "kafka/log/",
                    "org/apache/kafka/raft/",
                    "org/apache/kafka/metadata/",
                    "org/apache/zookeeper/",
                    "io/zonky/",
                    "io/trainwatch/embedded/",
                    "org/apache/logging/log4j/",
                    "org/slf4j/",
                    "org/junit/",
                    "junit/",
                    "org/assertj/",
                    "com/tngtech/archunit/",
                    "org/openjdk/jmh/");

    static final List<String> REQUIRED =
            List.of(
                    "io/trainwatch/cli/FlinkEntryPoint.class",
                    "io/trainwatch/job/KafkaPipeline.class",
                    "org/apache/flink/connector/kafka/",
                    "org/apache/kafka/clients/",
                    "org/postgresql/Driver.class",
                    "org/apache/flink/connector/jdbc/",
                    "com/fasterxml/jackson/databind/",
                    "picocli/CommandLine.class",
                    "docker/postgres/init.sql");

    /**
     * Packages of the CLI only (demo, bench): they start the in-process broker and PostgreSQL,
     * which the job jar leaves out, so their references are not checked.
     */
    static final List<String> CLI_ONLY_PACKAGES =
            List.of("io.trainwatch.demo", "io.trainwatch.bench");

    @TempDir static Path work;

    static List<Path> flinkJars;

    @BeforeAll
    static void resolveFlinkDistribution() throws Exception {
        assertThat(JOB_JAR).as("mvn package builds it before failsafe runs").isRegularFile();
        flinkJars = flinkDistributionJars(work);
        long bytes = 0;
        for (Path jar : flinkJars) {
            bytes += Files.size(jar);
        }
        System.out.printf(
                Locale.ROOT,
                "Flink distribution's jars: %d (%.1f MB)%n",
                flinkJars.size(),
                bytes / 1e6);
    }

    @Test
    void shouldLeaveOutFlinkTheBrokerThePostgresBinariesLoggingAndTests() throws Exception {
        List<String> entries = entries(JOB_JAR);
        for (String prefix : FORBIDDEN) {
            assertThat(entries.stream().filter(e -> e.startsWith(prefix)).limit(5))
                    .as(prefix)
                    .isEmpty();
        }
        // kafka-clients keeps a version file under kafka/, the Scala broker its classes
        assertThat(entries.stream().filter(e -> e.startsWith("kafka/") && e.endsWith(".class")))
                .isEmpty();
        // zonky's binaries are a .txz archive at the jar's root
        assertThat(entries.stream().filter(e -> e.endsWith(".txz"))).isEmpty();
        // not one class of the Flink distribution's jars
        List<String> flinkClasses = new ArrayList<>();
        for (Path jar : flinkJars) {
            flinkClasses.addAll(entries(jar));
        }
        flinkClasses.removeIf(e -> !e.endsWith(".class") || e.startsWith("META-INF/"));
        assertThat(flinkClasses).hasSizeGreaterThan(10_000);
        Set<String> overlap = new TreeSet<>(entries);
        overlap.retainAll(new HashSet<>(flinkClasses));
        assertThat(overlap).as("classes a Flink distribution has").isEmpty();

        double jobMb = Files.size(JOB_JAR) / 1e6;
        double cliMb = Files.size(CLI_JAR) / 1e6;
        System.out.printf(
                Locale.ROOT,
                "trainwatch-job.jar %.1f MB (%d entries), trainwatch.jar %.1f MB%n",
                jobMb,
                entries.size(),
                cliMb);
        System.out.print(compressedSizeByPackage(JOB_JAR));
        assertThat(jobMb).isLessThan(cliMb / 3);
    }

    @Test
    void shouldBundleOurClassesTheConnectorsTheClientsAndTheDriver() throws Exception {
        List<String> entries = entries(JOB_JAR);
        for (String required : REQUIRED) {
            assertThat(entries).as(required).anyMatch(e -> e.startsWith(required));
        }
        try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("io.trainwatch.cli.FlinkEntryPoint");
        }
        // JDBC finds the driver through its service file
        try (ZipFile zip = new ZipFile(JOB_JAR.toFile())) {
            ZipEntry drivers = zip.getEntry("META-INF/services/java.sql.Driver");
            assertThat(drivers).isNotNull();
            assertThat(
                            new String(
                                    zip.getInputStream(drivers).readAllBytes(),
                                    StandardCharsets.UTF_8))
                    .contains("org.postgresql.Driver");
        }
    }

    @Test
    void shouldRunTheEntryPointWithOnlyFlinksJarsBesideIt() throws Exception {
        List<String> classpath = new ArrayList<>();
        classpath.add(JOB_JAR.toAbsolutePath().toString());
        flinkJars.forEach(j -> classpath.add(j.toString()));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb =
                new ProcessBuilder(
                                java.toString(),
                                "-cp",
                                String.join(File.pathSeparator, classpath),
                                "io.trainwatch.cli.FlinkEntryPoint",
                                "run",
                                "--bootstrap-servers",
                                "localhost:9092",
                                "--checkpoint-dir",
                                "s3://trainwatch/checkpoints",
                                "--dry-run")
                        .redirectErrorStream(true);
        // picocli registers every command (demo and bench too) before it runs one: a class missing
        // from the jar would fail here with NoClassDefFoundError
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(output).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output)
                .contains("every flag is valid")
                .contains("s3://trainwatch/checkpoints")
                .doesNotContain("Exception");
    }

    @Test
    void shouldNeedNoClassOutsideTheJarAndFlinkForTheJob() throws Exception {
        // every class our code names (superclasses, fields, calls, annotations), except in the
        // CLI-only packages, is in the job jar, a Flink distribution jar or the JDK: the classes
        // the
        // dry run above does not load are checked without running them
        List<URL> urls = new ArrayList<>();
        urls.add(JOB_JAR.toUri().toURL());
        for (Path jar : flinkJars) {
            urls.add(jar.toUri().toURL());
        }
        Map<String, String> missing = new TreeMap<>();
        int checked = 0;
        try (URLClassLoader cluster =
                        new URLClassLoader(
                                urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
                JarFile jar = new JarFile(JOB_JAR.toFile())) {
            var ours =
                    new ClassFileImporter()
                            .withImportOption(location -> location.contains("/io/trainwatch/"))
                            .importJar(jar);
            for (JavaClass c : ours) {
                if (!c.getPackageName().startsWith("io.trainwatch.")
                        || CLI_ONLY_PACKAGES.stream()
                                .anyMatch(p -> c.getPackageName().startsWith(p))) {
                    continue;
                }
                checked++;
                for (Dependency d : c.getDirectDependenciesFromSelf()) {
                    JavaClass target = d.getTargetClass().getBaseComponentType();
                    if (target.isPrimitive()) {
                        continue;
                    }
                    String resource = target.getName().replace('.', '/') + ".class";
                    if (cluster.getResource(resource) == null) {
                        missing.putIfAbsent(target.getName(), c.getName());
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(150);
        assertThat(missing).as("missing class <- referenced by").isEmpty();
    }

    /**
     * The jars of a Flink distribution at the project's version: {@code mvn
     * dependency:build-classpath} on a pom of the distribution's modules, with the outer build's
     * local repository and offline mode.
     */
    static List<Path> flinkDistributionJars(Path dir) throws IOException, InterruptedException {
        String flinkVersion = property("flink.version");
        String log4jVersion = property("log4j.version");
        String dependencies =
                FLINK_DISTRIBUTION.stream()
                        .map(
                                gav -> {
                                    String[] p =
                                            gav.replace("${flink.version}", flinkVersion)
                                                    .replace("${log4j.version}", log4jVersion)
                                                    .split(":");
                                    return "<dependency><groupId>"
                                            + p[0]
                                            + "</groupId><artifactId>"
                                            + p[1]
                                            + "</artifactId><version>"
                                            + p[2]
                                            + "</version></dependency>";
                                })
                        .collect(Collectors.joining("\n    "));
        Path pom = dir.resolve("pom.xml");
        Files.writeString(
                pom,
                "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
                        + "  <modelVersion>4.0.0</modelVersion>\n"
                        + "  <groupId>io.trainwatch.test</groupId>\n"
                        + "  <artifactId>flink-distribution</artifactId>\n"
                        + "  <version>1</version>\n"
                        + "  <packaging>pom</packaging>\n"
                        + "  <dependencies>\n    "
                        + dependencies
                        + "\n  </dependencies>\n"
                        + "</project>\n");
        Path out = dir.resolve("flink-classpath.txt");
        List<String> command = new ArrayList<>();
        command.add(Path.of(property("maven.home"), "bin", "mvn").toString());
        command.add("-B");
        command.add("-q");
        if ("offline=true".equals(System.getProperty("trainwatch.maven.offline"))) {
            command.add("-o");
        }
        String repo = System.getProperty("trainwatch.maven.repo.local");
        if (repo != null && !repo.isBlank()) {
            command.add("-Dmaven.repo.local=" + repo);
        }
        command.addAll(
                List.of(
                        "-f",
                        pom.toString(),
                        "org.apache.maven.plugins:maven-dependency-plugin:"
                                + property("trainwatch.dependency.plugin.version")
                                + ":build-classpath",
                        "-Dmdep.outputFile=" + out,
                        "-Dmdep.includeScope=runtime"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(log).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + log).isZero();
        List<Path> jars = new ArrayList<>();
        for (String entry : Files.readString(out).trim().split(File.pathSeparator)) {
            jars.add(Path.of(entry));
        }
        assertThat(jars)
                .anyMatch(j -> j.getFileName().toString().startsWith("flink-runtime-"))
                .anyMatch(j -> j.getFileName().toString().startsWith("log4j-core-"))
                .noneMatch(j -> j.getFileName().toString().startsWith("flink-connector-kafka"))
                .allMatch(Files::isRegularFile);
        return Collections.unmodifiableList(jars);
    }

    static String property(String name) {
        String v = System.getProperty(name);
        assertThat(v).as(name + " (set by failsafe in pom.xml)").isNotBlank();
        return v;
    }

    static List<String> entries(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).collect(Collectors.toList());
        }
    }

    /**
     * The jar's compressed bytes by package (three levels; other files by their top folder, e.g.
     * zstd's native libraries under linux/, win/, darwin/), largest first: what weighs.
     */
    static String compressedSizeByPackage(Path jar) throws IOException {
        Map<String, Long> bytes = new TreeMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            zip.stream()
                    .filter(e -> !e.isDirectory())
                    .forEach(
                            e -> {
                                List<String> parts = List.of(e.getName().split("/"));
                                int depth = e.getName().endsWith(".class") ? 3 : 1;
                                String key =
                                        parts.size() == 1
                                                ? "(root)"
                                                : String.join(
                                                        "/",
                                                        parts.subList(
                                                                0,
                                                                Math.min(depth, parts.size() - 1)));
                                bytes.merge(key, e.getCompressedSize(), Long::sum);
                            });
        }
        StringBuilder b = new StringBuilder();
        bytes.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(12)
                .forEach(
                        e ->
                                b.append(
                                        String.format(
                                                Locale.ROOT,
                                                "  %-28s %6.2f MB%n",
                                                e.getKey(),
                                                e.getValue() / 1e6)));
        return b.toString();
    }
}
