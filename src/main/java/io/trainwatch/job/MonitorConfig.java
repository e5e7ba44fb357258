package io.trainwatch.job;

import io.trainwatch.threshold.Thresholds;

import java.io.Serializable;

/**
 * How the monitor judges runs: the job's thresholds (a run's idle timeout among them, which a run
 * may override), {@code seriesEvery}, at most one series point per that many steps of a run
 * ({@value JobConfig#SERIES_EVERY}), and {@code series}, whether series points are built at all
 * (false when no output takes them: the monitor skips the work).
 */
public record MonitorConfig(Thresholds thresholds, int seriesEvery, boolean series)
        implements Serializable {
    public MonitorConfig {
        if (thresholds == null) {
            throw new IllegalArgumentException("thresholds must not be null");
        }
        if (seriesEvery < 1) {
            throw new IllegalArgumentException(
                    JobConfig.SERIES_EVERY
                            + " must be >= 1 (1 keeps every step), got "
                            + seriesEvery);
        }
    }
}
