package io.trainwatch.schedule;

import io.trainwatch.SharedData;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every case of every file in shared/golden/schedules, taken as a spec as it stands, must reproduce
 * every recorded LR within the golden tolerance. None is skipped.
 */
class GoldenSchedulesTest {
    @Test
    void shouldReproduceEveryGoldenValue() throws IOException {
        RecordedSchedules.Report r = RecordedSchedules.check(SharedData.goldenSchedules(), c -> c);
        System.out.printf(
                "golden schedules: %d files, %d cases, %d values checked, %d mismatches%n",
                r.files(), r.cases(), r.values(), r.failures().size());
        assertThat(r.files()).isPositive();
        assertThat(r.failures()).as("golden mismatches").isEmpty();
        assertThat(r.cases()).isEqualTo(r.casesInFiles());
        assertThat(r.values()).isEqualTo(r.valuesInFiles());
    }
}
