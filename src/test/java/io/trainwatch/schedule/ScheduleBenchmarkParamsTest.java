package io.trainwatch.schedule;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark covers every example family, and each evaluates to a finite LR at step 10^9. */
class ScheduleBenchmarkParamsTest {
    @Test
    void shouldBenchmarkEveryExampleSpec() throws Exception {
        String[] params =
                ScheduleBenchmark.class.getField("example").getAnnotation(Param.class).value();
        var names =
                Files.readAllLines(Path.of("examples/schedules/index.txt")).stream()
                        .filter(l -> !l.isBlank())
                        .map(l -> l.replace(".json", ""))
                        .toList();
        assertThat(Arrays.asList(params)).containsExactlyInAnyOrderElementsOf(names);
        for (String p : params) {
            ScheduleBenchmark b = new ScheduleBenchmark();
            b.example = p;
            b.load();
            assertThat(b.lrAtStepOneBillion()).as(p).isFinite().isGreaterThanOrEqualTo(0);
        }
    }
}
