package io.trainwatch.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The schedule math, detection, events and the report stay plain Java: no Flink type may leak in. */
class PureCoreTest {
    @Test
    void shouldKeepFlinkOutOfThePureCorePackages() throws IOException {
        for (String pkg : List.of("schedule", "event", "threshold", "detect", "report")) {
            Path dir = Path.of("src/main/java/io/trainwatch", pkg);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    assertThat(Files.readString(f)).as(f.toString()).doesNotContain("org.apache.flink");
                }
            }
        }
        assertThat(Path.of("src/main/java/io/trainwatch/schedule")).isDirectory();
    }
}
