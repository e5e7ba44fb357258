package io.trainwatch.report;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class DownsamplerTest {
    private static final int BUCKETS = 870;

    @Test
    void shouldKeepEveryAlertStepAndEachBucketsExtremesOfAMillionNoisyPoints() {
        int n = 1_000_000;
        double[] xs = new double[n];
        double[] ys = new double[n];
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < n; i++) {
            xs[i] = i;
            ys[i] = 2 + rnd.nextDouble();
        }
        ys[500_001] = 50; // a one-step spike
        Set<Double> alerts = Set.of(12_345.0, 678_901.0, 999_999.0);

        Downsampler.Reduced r = Downsampler.reduce(xs, ys, n, 0, n - 1, BUCKETS, alerts::contains);

        assertThat(r.size()).isLessThanOrEqualTo(4 * BUCKETS + alerts.size());
        assertThat(r.indexes()).contains(12_345, 678_901, 999_999, 500_001, 0, n - 1);
        assertThat(r.indexes()).isSorted();
        // one unbroken line: no gaps, no resumes
        assertThat(count(r.breakBefore())).isEqualTo(1);
        assertThat(r.breakBefore()[0]).isTrue();
    }

    @Test
    void shouldKeepEveryPointWhenThereAreFewerPointsThanPixels() {
        double[] xs = {0, 1, 2, 3, 4};
        double[] ys = {1, 2, 3, 2, 1};
        Downsampler.Reduced r = Downsampler.reduce(xs, ys, 5, 0, 4, BUCKETS, x -> false);
        assertThat(r.indexes()).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void shouldKeepNonFinitePointsAsGapsAndNeverJoinTheLineAcrossThem() {
        double[] xs = {0, 1, 2, 3, 4, 5, 6};
        double[] ys = {1, 2, Double.NaN, 3, Double.POSITIVE_INFINITY, 4, 5};
        Downsampler.Reduced r = Downsampler.reduce(xs, ys, 7, 0, 6, BUCKETS, x -> false);
        assertThat(r.indexes()).containsExactly(0, 1, 2, 3, 4, 5, 6);
        // the pen lifts at each non-finite point and after it
        assertThat(r.breakBefore()).containsExactly(true, false, true, true, true, true, false);
    }

    @Test
    void shouldCollapseABucketFullOfNaNsToItsFirstAndLastWithoutJoiningAcrossTheDroppedOnes() {
        int n = 10_000;
        double[] xs = new double[n];
        double[] ys = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i;
            ys[i] = i >= 4_000 && i < 4_008 && i % 2 == 0 ? Double.NaN : 1 + (i % 7) * 0.1;
        }
        // 10 buckets of 1,000 points: NaNs at 4000, 4002, 4004, 4006 fall into one bucket
        Downsampler.Reduced r = Downsampler.reduce(xs, ys, n, 0, n - 1, 10, x -> false);
        int[] kept = r.indexes();
        assertThat(Arrays.stream(kept).filter(i -> Double.isNaN(ys[i])))
                .containsExactly(4_000, 4_006);
        assertThat(kept.length).isLessThanOrEqualTo(4 * 10 + 2 + 4);
        for (int k = 1; k < kept.length; k++) {
            boolean nanBetween = false;
            for (int i = kept[k - 1]; i <= kept[k]; i++) {
                nanBetween |= Double.isNaN(ys[i]);
            }
            if (nanBetween) {
                assertThat(r.breakBefore()[k])
                        .as("segment %d..%d spans a NaN", kept[k - 1], kept[k])
                        .isTrue();
            }
        }
    }

    @Test
    void shouldKeepANonFiniteAlertPointEvenInsideAReducedBucket() {
        int n = 5_000;
        double[] xs = new double[n];
        double[] ys = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i;
            ys[i] = i % 3 == 0 ? Double.NaN : i % 5;
        }
        Downsampler.Reduced r =
                Downsampler.reduce(xs, ys, n, 0, n - 1, 5, x -> x == 2_499.0 || x == 2_501.0);
        assertThat(r.indexes()).contains(2_499, 2_501);
        assertThat(r.size()).isLessThan(60);
    }

    @Test
    void shouldStartANewPassWithItsOwnBucketsWhenTheStepGoesBack() {
        // steps 0..999, then a resume from 500 to 1499
        int n = 2_000;
        double[] xs = new double[n];
        double[] ys = new double[n];
        for (int i = 0; i < 1_000; i++) {
            xs[i] = i;
            ys[i] = 1.0 / (1 + i);
        }
        for (int i = 0; i < 1_000; i++) {
            xs[1_000 + i] = 500 + i;
            ys[1_000 + i] = 2.0 / (1 + i);
        }
        Downsampler.Reduced r = Downsampler.reduce(xs, ys, n, 0, 1_499, 100, x -> false);
        int resumeAt = Arrays.binarySearch(r.indexes(), 1_000);
        assertThat(resumeAt).as("the first point after the resume is kept").isPositive();
        assertThat(r.breakBefore()[resumeAt]).isTrue();
        assertThat(r.indexes()).contains(999, 1_999);
        assertThat(count(r.breakBefore())).isEqualTo(2);
    }

    private static int count(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) {
            c += f ? 1 : 0;
        }
        return c;
    }
}
