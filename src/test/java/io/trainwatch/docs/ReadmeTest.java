package io.trainwatch.docs;

import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.Threshold;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README stays true to the code: every threshold with its default and range, every scheduler
 * name, the two commands in .ci/run.
 */
class ReadmeTest {
    @Test
    void shouldDocumentEveryThresholdWithItsDefaultAndRange() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (Threshold t : Threshold.values()) {
            String def =
                    t.defaultValue() == Math.rint(t.defaultValue())
                            ? Long.toString((long) t.defaultValue())
                            : Double.toString(t.defaultValue());
            assertThat(readme)
                    .as(t.key())
                    .contains("| `" + t.key() + "` | " + def + " | " + t.range().describe() + " |");
        }
    }

    @Test
    void shouldNameEverySchedulerAndRunTheReadmeTestCommandInCi() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String name : ScheduleSpec.schedulerNames()) {
            assertThat(readme).as(name).contains("`" + name + "`");
        }
        assertThat(readme).contains("mvn -B verify");
        assertThat(Files.readString(Path.of(".ci/run"))).contains("mvn -B verify");
    }
}
