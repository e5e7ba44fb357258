package io.trainwatch.detect;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The window keeps its values sorted incrementally: every statistic must equal the one from sorting
 * afresh.
 */
class RobustWindowTest {
    @Test
    void shouldMatchStatisticsComputedBySortingAfreshAsValuesComeAndGo() {
        SplittableRandom rnd = new SplittableRandom(11);
        RobustWindow w = new RobustWindow();
        double[] all = new double[2_000];
        for (int i = 0; i < all.length; i++) {
            // duplicates, signed zeros and wide ranges are the cases an incremental sort gets wrong
            double v =
                    switch (rnd.nextInt(5)) {
                        case 0 -> rnd.nextInt(4);
                        case 1 -> rnd.nextBoolean() ? 0.0 : -0.0;
                        case 2 -> rnd.nextGaussian() * 1e6;
                        default -> rnd.nextDouble();
                    };
            all[i] = v;
            w.add(v);
            double[] window =
                    Arrays.copyOfRange(all, Math.max(0, i + 1 - RobustWindow.CAPACITY), i + 1);
            Arrays.sort(window);
            assertThat(w.median()).as("step %d", i).isEqualTo(median(window));
            assertThat(w.quantile(0.9))
                    .as("step %d", i)
                    .isEqualTo(
                            window[
                                    Math.min(
                                            window.length - 1,
                                            (int) Math.floor(0.9 * window.length))]);
        }
    }

    @Test
    void shouldRebuildItsOrderAfterARestoreThatSetsOnlyTheStateFields() {
        RobustWindow w = new RobustWindow();
        for (int i = 0; i < 50; i++) {
            w.add((i * 37) % 11);
        }
        // what a state backend does on restore: a new instance, then the public fields
        RobustWindow restored = new RobustWindow();
        restored.values = w.values.clone();
        restored.count = w.count;
        restored.next = w.next;
        for (int i = 0; i < 40; i++) {
            w.add(i % 7 - 3);
            restored.add(i % 7 - 3);
            assertThat(restored.median()).isEqualTo(w.median());
            assertThat(restored.robustSigma()).isEqualTo(w.robustSigma());
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
