package io.trainwatch;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates ../shared (golden schedules, real runs) for tests; the build passes it as
 * trainwatch.shared.dir.
 */
public final class SharedData {
    private SharedData() {}

    public static Path dir() {
        Path p =
                Path.of(System.getProperty("trainwatch.shared.dir", "../shared"))
                        .toAbsolutePath()
                        .normalize();
        if (!Files.isDirectory(p.resolve("golden"))) {
            throw new IllegalStateException(
                    "shared data not found at " + p + " (set -Dtrainwatch.shared.dir)");
        }
        return p;
    }

    public static Path goldenSchedules() {
        return dir().resolve("golden/schedules");
    }
}
