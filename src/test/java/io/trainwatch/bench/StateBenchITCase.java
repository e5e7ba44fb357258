package io.trainwatch.bench;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.JobConfig.StateBackend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code bench-state} on small fleets (1,000 and 4,000 runs, both backends): every event judged,
 * none dead-lettered; the heap backend's heap and checkpoint grow in proportion to the runs;
 * RocksDB keeps the state off the heap, in files on local disk, and checkpoints it. The README's
 * 10,000 vs 100,000 figures come from the same code at its default sizes.
 */
class StateBenchITCase {
    private static final int SMALL = 1_000;
    private static final int LARGE = 4_000;

    @Test
    void shouldMeasureBothBackendsAndShowTheHeapBackendGrowingLinearly() throws Exception {
        List<StateBench.Result> results =
                new StateBench(
                                new StateBench.Settings(
                                        List.of(StateBackend.HASHMAP, StateBackend.ROCKSDB),
                                        List.of(SMALL, LARGE),
                                        34,
                                        2))
                        .run();
        assertThat(results).hasSize(4);
        for (StateBench.Result r : results) {
            assertThat(r.events()).isEqualTo(r.runs() * 35L);
            assertThat(r.deadLetters()).as("dead letters of %s", r).isZero();
            assertThat(r.full().writtenBytes()).as("checkpoint of %s", r).isPositive();
            assertThat(r.afterStep().writtenBytes()).as("after-step of %s", r).isPositive();
        }
        StateBench.Result heapSmall = result(results, StateBackend.HASHMAP, SMALL);
        StateBench.Result heapLarge = result(results, StateBackend.HASHMAP, LARGE);
        StateBench.Result rocksLarge = result(results, StateBackend.ROCKSDB, LARGE);

        // a run's serialized state is the same size whatever the fleet: its checkpoint bytes per
        // run match
        double ckptSmall = heapSmall.perRun(heapSmall.full().writtenBytes());
        double ckptLarge = heapLarge.perRun(heapLarge.full().writtenBytes());
        assertThat(ckptLarge)
                .isBetween(1024.0, 64 * 1024.0)
                .isCloseTo(ckptSmall, within(ckptSmall * 0.15));
        // on the heap backend every checkpoint is a full copy
        assertThat(heapLarge.afterStep().writtenBytes())
                .isCloseTo(
                        heapLarge.full().writtenBytes(),
                        within(heapLarge.full().writtenBytes() / 10));
        // 4,000 runs of objects on the heap: megabytes a full GC cannot take back, per run about
        // what the small fleet took
        double heapPerRun = heapLarge.perRun(heapLarge.heapBytes());
        assertThat(heapPerRun).isBetween(1024.0, 64 * 1024.0);
        assertThat(heapPerRun)
                .isCloseTo(heapSmall.perRun(heapSmall.heapBytes()), within(heapPerRun * 0.5));
        // RocksDB holds the same runs in files, not on the heap
        assertThat(rocksLarge.heapBytes()).isLessThan(heapLarge.heapBytes() / 4);
        assertThat(rocksLarge.localBytes()).isGreaterThan(LARGE * 512L);
        assertThat(result(results, StateBackend.HASHMAP, SMALL).localBytes()).isZero();
    }

    private static StateBench.Result result(
            List<StateBench.Result> results, JobConfig.StateBackend backend, int runs) {
        return results.stream()
                .filter(r -> r.backend() == backend && r.runs() == runs)
                .findFirst()
                .orElseThrow();
    }
}
