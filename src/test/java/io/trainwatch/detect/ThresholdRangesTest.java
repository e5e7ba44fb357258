package io.trainwatch.detect;

import io.trainwatch.threshold.Threshold;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The threshold ranges that depend on the detectors' capacities name those capacities. */
class ThresholdRangesTest {
    @Test
    void shouldAllowNoMorePointsOrSpikesThanTheDetectorsCanHold() {
        assertThat(Threshold.Range.WINDOW_CAPACITY).isEqualTo(RobustWindow.CAPACITY);
        assertThat(Threshold.Range.REMEMBERED_SPIKES)
                .isEqualTo(SpikeDetector.MAX_REMEMBERED_SPIKES);
        assertThat(Threshold.SPIKE_MIN_POINTS.range().max()).isEqualTo(RobustWindow.CAPACITY);
        assertThat(Threshold.GRAD_MIN_POINTS.range().max()).isEqualTo(RobustWindow.CAPACITY);
        assertThat(Threshold.SPIKE_REPEAT_COUNT.range().max())
                .isEqualTo(SpikeDetector.MAX_REMEMBERED_SPIKES);
    }
}
