package io.trainwatch.notify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {
    static final Clock NOW = Clock.fixed(Instant.parse("2026-12-02T07:00:00Z"), ZoneOffset.UTC);

    /** A Random whose nextDouble is always {@code fraction}: the jitter made visible. */
    static Random fixedJitter(double fraction) {
        return new Random() {
            @Override
            public double nextDouble() {
                return fraction;
            }
        };
    }

    static RetryPolicy policy(double jitter) {
        return new RetryPolicy(
                Duration.ofSeconds(1),
                Duration.ofSeconds(30),
                Duration.ofMinutes(5),
                fixedJitter(jitter),
                NOW);
    }

    @Test
    void shouldDoubleTheCapPerAttemptUpToTheMaxDelay() {
        RetryPolicy full = policy(1.0 - 1e-12);

        assertThat(full.nextDelay(1, 503, null, Duration.ZERO)).contains(Duration.ofMillis(999));
        assertThat(full.nextDelay(2, 503, null, Duration.ZERO)).contains(Duration.ofMillis(1999));
        assertThat(full.nextDelay(4, 503, null, Duration.ZERO)).contains(Duration.ofMillis(7999));
        assertThat(full.nextDelay(10, 503, null, Duration.ZERO)).contains(Duration.ofMillis(29999));
        assertThat(full.nextDelay(1000, 503, null, Duration.ZERO))
                .contains(Duration.ofMillis(29999));
    }

    @Test
    void shouldDrawFullJitterBetweenZeroAndTheCap() {
        assertThat(policy(0.0).nextDelay(3, 500, null, Duration.ZERO)).contains(Duration.ZERO);
        assertThat(policy(0.25).nextDelay(3, 500, null, Duration.ZERO))
                .contains(Duration.ofSeconds(1));
    }

    @ParameterizedTest
    @ValueSource(ints = {RetryPolicy.TIMED_OUT, 429, 500, 502, 503, 504, 599})
    void shouldRetryTimeoutsServerErrorsAndTooManyRequests(int status) {
        assertThat(policy(0.5).nextDelay(1, status, null, Duration.ZERO)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 301, 400, 401, 403, 404, 413, 422})
    void shouldGiveUpAtOnceOnOtherStatuses(int status) {
        assertThat(policy(0.5).nextDelay(1, status, null, Duration.ZERO)).isEmpty();
    }

    @Test
    void shouldHonourRetryAfterInSecondsAndAsHttpDate() {
        RetryPolicy p = policy(0.5);

        assertThat(p.nextDelay(1, 429, "120", Duration.ZERO)).contains(Duration.ofSeconds(120));
        assertThat(p.nextDelay(1, 503, "Wed, 02 Dec 2026 07:01:30 GMT", Duration.ZERO))
                .contains(Duration.ofSeconds(90));
        assertThat(p.nextDelay(1, 503, "Wed, 02 Dec 2026 06:00:00 GMT", Duration.ZERO))
                .contains(Duration.ZERO);
        // unreadable: the backoff decides
        assertThat(p.nextDelay(1, 429, "soon", Duration.ZERO)).contains(Duration.ofMillis(500));
    }

    @Test
    void shouldGiveUpOncePastTheHorizon() {
        RetryPolicy p = policy(0.5);

        assertThat(p.nextDelay(1, 503, "60", Duration.ofMinutes(4)))
                .contains(Duration.ofSeconds(60));
        assertThat(p.nextDelay(1, 503, "61", Duration.ofMinutes(4))).isEmpty();
        assertThat(p.nextDelay(1, 503, null, Duration.ofMinutes(5))).isEmpty();
    }
}
