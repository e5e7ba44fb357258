package io.trainwatch.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fleet sizes and the events they need, checked once where the settings are built. */
class BenchSettingsTest {
    @Test
    void shouldSortTheFleetSizesAndDropRepeats() {
        assertThat(settings(2_010_000, List.of(10_000, 1_000, 10_000)).fleet())
                .containsExactly(1_000, 10_000);
    }

    @Test
    void shouldLeaveTheFleetOffWhenNoSizeIsGiven() {
        assertThat(settings(2_000_000, List.of()).fleet()).isEmpty();
    }

    @Test
    void shouldAcceptExactlyAStartAndTheMinimumStepsPerRunOfTheLargestFleet() {
        assertThat(BenchSettings.minEventsForFleet(100_000)).isEqualTo(20_100_000);
        assertThat(settings(20_100_000, List.of(1_000, 100_000)).fleet())
                .containsExactly(1_000, 100_000);
    }

    @Test
    void shouldRefuseTooFewEventsForTheLargestFleetNamingTheFlagTheValueAndTheMinimum() {
        assertThatThrownBy(() -> settings(20_099_999, List.of(100_000, 1_000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "--events 20099999 is too few for --fleet 100000: each run needs its run_start and at least 200 steps"
                                + " (twice the bench runs' 100-step LR warm-up), so --events must be >= 20100000"
                                + " (the events of every fleet size), or leave 100000 out of --fleet");
    }

    @Test
    void shouldRefuseAFleetSizeBelowOne() {
        assertThatThrownBy(() -> settings(2_000_000, List.of(10, 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--fleet sizes must all be >= 1, got [10, 0]");
    }

    private static BenchSettings settings(long events, List<Integer> fleet) {
        return new BenchSettings(
                events, 10_000, 2, 2, 5_000, 0, "PT0.1S", true, true, 3, "PT10S", fleet);
    }
}
