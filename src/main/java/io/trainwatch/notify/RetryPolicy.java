package io.trainwatch.notify;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Random;

/**
 * When to try a failed notification again. Timeouts, 5xx and 429 are retried: the receiver may
 * recover; any other status (4xx: our request is wrong, or the secret is) gives up at once. The
 * delay is exponential backoff with full jitter, {@code uniform(0, min(maxDelay, baseDelay ·
 * 2^(attempt−1)))}, so that many senders retrying one receiver spread out; a {@code Retry-After}
 * header (seconds or an HTTP-date) replaces it, the receiver knowing best. Once the next attempt
 * would start past {@code horizon} after the first one, the notification is given up.
 */
public final class RetryPolicy {
    /** The status to pass when the attempt timed out or the connection failed: no HTTP status. */
    public static final int TIMED_OUT = 0;

    private static final int TOO_MANY_REQUESTS = 429;
    // 2^30 × any useful base delay is past any useful horizon; a larger shift overflows
    private static final int MAX_DOUBLINGS = 30;

    private final Duration baseDelay;
    private final Duration maxDelay;
    private final Duration horizon;
    private final Random random;
    private final Clock clock;

    /** {@code clock} dates a Retry-After HTTP-date; {@code random} draws the jitter. */
    public RetryPolicy(
            Duration baseDelay, Duration maxDelay, Duration horizon, Random random, Clock clock) {
        if (baseDelay.isNegative() || baseDelay.isZero() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException(
                    "retry delays: need 0 < base delay <= max delay, got "
                            + baseDelay
                            + " and "
                            + maxDelay);
        }
        this.baseDelay = baseDelay;
        this.maxDelay = maxDelay;
        this.horizon = horizon;
        this.random = random;
        this.clock = clock;
    }

    /**
     * The wait before the next attempt, or empty to give up.
     *
     * @param attempt the attempt that just failed, 1 for the first
     * @param status its HTTP status, or {@link #TIMED_OUT}
     * @param retryAfter its Retry-After header, or null; ignored when unreadable
     * @param elapsed time since the first attempt started
     */
    public Optional<Duration> nextDelay(
            int attempt, int status, String retryAfter, Duration elapsed) {
        if (!retryable(status)) {
            return Optional.empty();
        }
        Duration delay = retryAfter(retryAfter).orElseGet(() -> jitteredBackoff(attempt));
        if (elapsed.plus(delay).compareTo(horizon) > 0) {
            return Optional.empty();
        }
        return Optional.of(delay);
    }

    /** Whether an attempt that ended so may succeed later: timeouts, 5xx and 429. */
    public static boolean retryable(int status) {
        return status == TIMED_OUT
                || status == TOO_MANY_REQUESTS
                || (status >= 500 && status <= 599);
    }

    private Duration jitteredBackoff(int attempt) {
        int doublings = Math.min(Math.max(attempt - 1, 0), MAX_DOUBLINGS);
        long capMillis = Math.min(maxDelay.toMillis(), baseDelay.toMillis() << doublings);
        return Duration.ofMillis((long) (random.nextDouble() * capMillis));
    }

    private Optional<Duration> retryAfter(String header) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.trim();
        if (value.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(value)));
            } catch (NumberFormatException tooLong) {
                return Optional.empty();
            }
        }
        try {
            ZonedDateTime date = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration until = Duration.between(clock.instant(), date.toInstant());
            return Optional.of(until.isNegative() ? Duration.ZERO : until);
        } catch (DateTimeParseException unreadable) {
            return Optional.empty();
        }
    }
}
