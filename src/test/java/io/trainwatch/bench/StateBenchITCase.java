package io.trainwatch.bench;

import io.trainwatch.cli.TrainwatchCli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code bench-state} as a user runs it, in a JVM of its own (heap figures in a JVM shared with
 * other tests would count their garbage), on small fleets (1,000 and 4,000 runs, both backends):
 * every event judged, none dead-lettered; the heap backend's heap and checkpoint grow in proportion
 * to the runs; RocksDB keeps the state off the heap, in files on local disk, and checkpoints it.
 * The README's 10,000 vs 100,000 figures come from the same command at its default sizes.
 */
class StateBenchITCase {
    private static final Pattern RESULT =
            Pattern.compile(
                    "(?m)^(hashmap|rocksdb)\\s+([\\d,]+) runs  heap (-?[\\d.]+) MB \\((-?[\\d.]+) KB/run\\)"
                            + "(?:, RocksDB files ([\\d.]+) MB \\(([\\d.]+) KB/run\\))?;"
                            + " checkpoint of the loaded state ([\\d.]+) MB \\(([\\d.]+) KB/run\\) in ([\\d,]+) ms;"
                            + " after one step of every run it wrote ([\\d.]+) MB \\(([\\d.]+) KB/run\\) in ([\\d,]+) ms;"
                            + " ([\\d,]+) dead letters$");

    /** One printed result: per-run figures in KB. */
    record Row(
            double heapKb,
            double filesKb,
            double checkpointKb,
            double afterStepKb,
            long deadLetters) {}

    @Test
    void shouldMeasureBothBackendsAndShowTheHeapBackendGrowingLinearly(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        Process p =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                TrainwatchCli.class.getName(),
                                "bench-state",
                                "--runs",
                                "1000,4000",
                                "--steps",
                                "34")
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start();
        try {
            assertThat(p.waitFor(15, TimeUnit.MINUTES)).as("bench-state ended in 15 min").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String printed = Files.readString(out, StandardCharsets.UTF_8);
        System.out.print(printed);
        assertThat(p.exitValue())
                .as(printed + Files.readString(err, StandardCharsets.UTF_8))
                .isZero();

        Map<String, Row> rows = new HashMap<>();
        Matcher m = RESULT.matcher(printed);
        while (m.find()) {
            rows.put(
                    m.group(1) + "-" + m.group(2).replace(",", ""),
                    new Row(
                            Double.parseDouble(m.group(4)),
                            m.group(6) == null ? 0 : Double.parseDouble(m.group(6)),
                            Double.parseDouble(m.group(8)),
                            Double.parseDouble(m.group(11)),
                            Long.parseLong(m.group(13).replace(",", ""))));
        }
        assertThat(rows)
                .as(printed)
                .containsOnlyKeys("hashmap-1000", "hashmap-4000", "rocksdb-1000", "rocksdb-4000");
        rows.forEach((k, r) -> assertThat(r.deadLetters()).as("dead letters of %s", k).isZero());
        rows.forEach(
                (k, r) ->
                        assertThat(r.checkpointKb())
                                .as("checkpoint of %s", k)
                                .isBetween(1.0, 64.0));
        rows.forEach((k, r) -> assertThat(r.afterStepKb()).as("after-step of %s", k).isPositive());

        Row heapSmall = rows.get("hashmap-1000");
        Row heapLarge = rows.get("hashmap-4000");
        Row rocksLarge = rows.get("rocksdb-4000");
        // a run's serialized state is the same size whatever the fleet
        assertThat(heapLarge.checkpointKb())
                .isCloseTo(heapSmall.checkpointKb(), within(heapSmall.checkpointKb() * 0.15));
        // on the heap backend every checkpoint is a full copy
        assertThat(heapLarge.afterStepKb())
                .isCloseTo(heapLarge.checkpointKb(), within(heapLarge.checkpointKb() / 10));
        // 4,000 runs of objects on the heap: megabytes a full GC cannot take back, per run about
        // what the small fleet took
        assertThat(heapLarge.heapKb()).isBetween(1.0, 64.0);
        assertThat(heapSmall.heapKb())
                .isCloseTo(heapLarge.heapKb(), within(heapLarge.heapKb() * 0.5));
        // RocksDB holds the same runs in files, not on the heap
        assertThat(rocksLarge.heapKb()).isLessThan(heapLarge.heapKb() / 4);
        assertThat(rocksLarge.filesKb()).isGreaterThan(0.5);
        assertThat(printed)
                .contains("per run, smallest vs largest fleet (ratio 1.00 = linear in runs):");
    }
}
