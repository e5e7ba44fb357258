package io.trainwatch.notify;

import java.io.Serializable;
import java.time.Duration;

/**
 * How {@link NotificationDispatcher} delivers: requests in flight per target, the per-request
 * timeout, the retry backoff and horizon (see {@link RetryPolicy}), the Slack pace, the queue bound
 * per target, and whether to only print ({@code --dry-run}).
 */
public record DispatchSettings(
        int maxInFlightPerTarget,
        Duration requestTimeout,
        Duration baseDelay,
        Duration maxDelay,
        Duration horizon,
        Duration slackInterval,
        int maxQueuedPerTarget,
        boolean dryRun)
        implements Serializable {

    public static final int DEFAULT_MAX_IN_FLIGHT_PER_TARGET = 4;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_BASE_DELAY = Duration.ofMillis(500);
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(30);
    public static final Duration DEFAULT_HORIZON = Duration.ofMinutes(10);

    /** Slack incoming webhooks allow about one message per second per channel. */
    public static final Duration DEFAULT_SLACK_INTERVAL = Duration.ofSeconds(1);

    /** Bounds memory while a receiver is down: ~10k alerts is hours of a bad fleet. */
    public static final int DEFAULT_MAX_QUEUED_PER_TARGET = 10_000;

    public DispatchSettings {
        if (maxInFlightPerTarget < 1) {
            throw new IllegalArgumentException(
                    "maxInFlightPerTarget: must be at least 1, got " + maxInFlightPerTarget);
        }
        if (maxQueuedPerTarget < 1) {
            throw new IllegalArgumentException(
                    "maxQueuedPerTarget: must be at least 1, got " + maxQueuedPerTarget);
        }
        requirePositive("requestTimeout", requestTimeout);
        requirePositive("baseDelay", baseDelay);
        requirePositive("maxDelay", maxDelay);
        requirePositive("horizon", horizon);
        requirePositive("slackInterval", slackInterval);
        if (maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException(
                    "maxDelay: must not be below baseDelay " + baseDelay + ", got " + maxDelay);
        }
    }

    /** 4 in flight, 10 s timeout, 500 ms to 30 s backoff, 10 min horizon, 1 s Slack pace. */
    public static DispatchSettings defaults() {
        return new DispatchSettings(
                DEFAULT_MAX_IN_FLIGHT_PER_TARGET,
                DEFAULT_REQUEST_TIMEOUT,
                DEFAULT_BASE_DELAY,
                DEFAULT_MAX_DELAY,
                DEFAULT_HORIZON,
                DEFAULT_SLACK_INTERVAL,
                DEFAULT_MAX_QUEUED_PER_TARGET,
                false);
    }

    public DispatchSettings withMaxInFlightPerTarget(int value) {
        return new DispatchSettings(
                value,
                requestTimeout,
                baseDelay,
                maxDelay,
                horizon,
                slackInterval,
                maxQueuedPerTarget,
                dryRun);
    }

    public DispatchSettings withRequestTimeout(Duration value) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                value,
                baseDelay,
                maxDelay,
                horizon,
                slackInterval,
                maxQueuedPerTarget,
                dryRun);
    }

    /** The backoff range of {@link RetryPolicy}: base and max delay together, as they are bound. */
    public DispatchSettings withDelays(Duration base, Duration max) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                requestTimeout,
                base,
                max,
                horizon,
                slackInterval,
                maxQueuedPerTarget,
                dryRun);
    }

    public DispatchSettings withHorizon(Duration value) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                requestTimeout,
                baseDelay,
                maxDelay,
                value,
                slackInterval,
                maxQueuedPerTarget,
                dryRun);
    }

    public DispatchSettings withSlackInterval(Duration value) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                requestTimeout,
                baseDelay,
                maxDelay,
                horizon,
                value,
                maxQueuedPerTarget,
                dryRun);
    }

    public DispatchSettings withMaxQueuedPerTarget(int value) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                requestTimeout,
                baseDelay,
                maxDelay,
                horizon,
                slackInterval,
                value,
                dryRun);
    }

    public DispatchSettings withDryRun(boolean value) {
        return new DispatchSettings(
                maxInFlightPerTarget,
                requestTimeout,
                baseDelay,
                maxDelay,
                horizon,
                slackInterval,
                maxQueuedPerTarget,
                value);
    }

    private static void requirePositive(String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(
                    field + ": must be a positive duration, got " + value);
        }
    }
}
