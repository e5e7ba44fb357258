package io.trainwatch.detect;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The healthy grad-norm level: what feeds it, what does not, and the threshold it gives. */
class HealthyGradLevelTest {
    private static final int MIN_POINTS = 12;
    private static final double GROWTH_RATIO = 10;
    private final Random noise = new Random(7);

    private double healthy() {
        return 9 * Math.exp(0.2 * noise.nextGaussian());
    }

    @Test
    void shouldGiveAThresholdJustAboveTheHealthyNorms() {
        HealthyGradLevel level = new HealthyGradLevel();
        for (int s = 0; s < 300; s++) {
            level.offer(s, healthy(), false, MIN_POINTS, GROWTH_RATIO);
        }
        // exp(0.2 * 2) = 1.49: about 13.4 for a level of 9
        assertThat(level.geometricMean()).isBetween(8.0, 10.0);
        assertThat(level.maxNorm(MIN_POINTS)).isBetween(11.0, 16.0);
        assertThat(level.lastHealthyStep).isEqualTo(299);
        assertThat(level.excluded).isLessThan(10);
    }

    /**
     * An LR too high from the start: the norms climb 4x-20x before the level can judge them (as in
     * the closed loop's faulty SGD runs). The level starts from the calm first norms only.
     */
    @Test
    void shouldStartFromTheCalmFirstNormsWhenTheRunClimbsBeforeItCanJudge() {
        double[] first = {2.17, 1.09, 2.3, 2.57, 2.53, 2.47, 2.07, 8.52, 15.5, 29.4, 39.3, 4.23};
        HealthyGradLevel level = new HealthyGradLevel();
        for (int s = 0; s < first.length; s++) {
            level.offer(s, first[s], false, MIN_POINTS, GROWTH_RATIO);
        }
        assertThat(level.trusted(MIN_POINTS)).isTrue();
        // the calm norms are 1-4: a threshold within 3x of them, not 40 (exp(mean + 2 std) of all)
        assertThat(level.maxNorm(MIN_POINTS)).isBetween(2.5, 8.0);
        assertThat(level.excluded).isEqualTo(4);
        // the rewind point is the last calm step, not one of the climb
        assertThat(level.lastHealthyStep).isEqualTo(11);
        assertThat(level.firstLogs).isNull();
    }

    @Test
    void shouldStayFrozenWhileAnIncidentIsOpenAndLeaveOutliers() {
        HealthyGradLevel level = new HealthyGradLevel();
        for (int s = 0; s < 200; s++) {
            level.offer(s, healthy(), false, MIN_POINTS, GROWTH_RATIO);
        }
        double before = level.maxNorm(MIN_POINTS);
        for (int s = 200; s < 260; s++) {
            level.offer(s, 9 * Math.pow(1.5, s - 199), true, MIN_POINTS, GROWTH_RATIO);
        }
        assertThat(level.maxNorm(MIN_POINTS)).isEqualTo(before);
        assertThat(level.frozen).isEqualTo(60);
        assertThat(level.lastHealthyStep).isEqualTo(199);
        // with no incident open, a norm 20x the level is an outlier: left out too
        level.offer(260, 180, false, MIN_POINTS, GROWTH_RATIO);
        assertThat(level.maxNorm(MIN_POINTS)).isEqualTo(before);
        assertThat(level.lastHealthyStep).isEqualTo(199);
    }

    @Test
    void shouldFollowALastingChangeSlowlyButNotAClimbPastHalfTheGrowthRatio() {
        HealthyGradLevel level = new HealthyGradLevel();
        for (int s = 0; s < 200; s++) {
            level.offer(s, healthy(), false, MIN_POINTS, GROWTH_RATIO);
        }
        // the run settles at a level 1.5x higher for good: followed
        for (int s = 200; s < 600; s++) {
            level.offer(s, 1.5 * healthy(), false, MIN_POINTS, GROWTH_RATIO);
        }
        assertThat(level.geometricMean()).isBetween(1.3 * 9, 1.7 * 9);
        // a climb of 2% a step, never an outlier on one step: held below sqrt(10) times its low
        for (int s = 600; s < 900; s++) {
            level.offer(s, 13.5 * Math.pow(1.02, s - 600), false, MIN_POINTS, GROWTH_RATIO);
        }
        assertThat(level.geometricMean()).isLessThan(Math.sqrt(GROWTH_RATIO) * 9 * 1.1);
        assertThat(level.excluded).isPositive();
    }

    @Test
    void shouldHaveNoNumberUntilItHasSeenEnoughHealthyNorms() {
        HealthyGradLevel level = new HealthyGradLevel();
        for (int s = 0; s < MIN_POINTS - 1; s++) {
            level.offer(s, healthy(), false, MIN_POINTS, GROWTH_RATIO);
        }
        assertThat(level.maxNorm(MIN_POINTS)).isNaN();
        assertThat(level.whyNoNumber(MIN_POINTS))
                .isEqualTo(
                        "no threshold: only 11 healthy grad norms before this (at least 12 are needed to tell the run's healthy level)");
        level.offer(MIN_POINTS, healthy(), false, MIN_POINTS, GROWTH_RATIO);
        assertThat(level.maxNorm(MIN_POINTS)).isFinite();
    }
}
