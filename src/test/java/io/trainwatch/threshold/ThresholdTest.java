package io.trainwatch.threshold;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every threshold has a meaningful range, and one check says what is wrong with a value, wherever
 * it comes from.
 */
class ThresholdTest {
    @Test
    void shouldKeepEveryDefaultInsideItsOwnRange() {
        for (Threshold t : Threshold.values()) {
            assertThat(t.problem(t.defaultValue())).as(t.key()).isNull();
            assertThat(Thresholds.DEFAULTS.get(t)).isEqualTo(t.defaultValue());
        }
    }

    @Test
    void shouldRefuseNonFiniteValuesForEveryThreshold() {
        for (Threshold t : Threshold.values()) {
            for (double v :
                    new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                assertThat(t.problem(v)).as(t.key() + " " + v).startsWith("must be ");
            }
        }
    }

    @Test
    void shouldRefuseNegativeAndZeroWhereTheyMeanNothing() {
        // the two cases: a negative MAD multiplier, and zero mismatching steps (an alert on
        // a perfect run)
        assertThat(Threshold.SPIKE_MAD_K.problem(-1))
                .isEqualTo("must be a finite number > 0, got -1");
        assertThat(Threshold.LR_MISMATCH_STEPS.problem(0))
                .isEqualTo("must be an integer from 1 to 1000000000, got 0");
        assertThat(Threshold.LR_MISMATCH_STEPS.problem(2.5))
                .isEqualTo("must be an integer from 1 to 1000000000, got 2.5");
        assertThat(Threshold.GRAD_EMA_ALPHA.problem(0))
                .isEqualTo("must be a number in (0, 1], got 0");
        assertThat(Threshold.GRAD_EMA_ALPHA.problem(1)).isNull();
        assertThat(Threshold.VANISHING_RATIO.problem(1))
                .isEqualTo("must be a number in (0, 1), got 1");
        assertThat(Threshold.GRAD_GROWTH_RATIO.problem(1))
                .isEqualTo("must be a finite number > 1, got 1");
        assertThat(Threshold.SPIKE_MIN_RISE_RELATIVE.problem(0)).isNull();
        assertThat(Threshold.SPIKE_MIN_POINTS.problem(33))
                .isEqualTo("must be an integer from 3 to 32, got 33");
        assertThat(Threshold.SPIKE_MAD_K.problem(Double.MIN_VALUE))
                .isNull(); // subnormal but positive: allowed, if odd
    }

    @Test
    void shouldKeepIntegerThresholdsWithinAnIntAndAStepSum() {
        for (Threshold t : Threshold.values()) {
            if (t.range().integer()) {
                assertThat(t.range().max())
                        .as(t.key())
                        .isLessThanOrEqualTo(Threshold.Range.MAX_COUNT);
                assertThat(t.range().min()).as(t.key()).isGreaterThanOrEqualTo(1);
            }
        }
    }

    @Test
    void shouldApplyOverridesAndRefuseUnknownOrOutOfRangeOnesNamingThem() {
        Thresholds th =
                Thresholds.DEFAULTS.with(Map.of("spike_mad_k", 6.0, "lr_mismatch_steps", 5.0));
        assertThat(th.get(Threshold.SPIKE_MAD_K)).isEqualTo(6);
        assertThat(th.getInt(Threshold.LR_MISMATCH_STEPS)).isEqualTo(5);
        assertThat(Thresholds.DEFAULTS.get(Threshold.SPIKE_MAD_K)).isEqualTo(8); // immutable
        assertThatThrownBy(() -> Thresholds.DEFAULTS.with(Map.of("spike_mad_k", -1.0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("spike_mad_k: must be a finite number > 0, got -1");
        assertThatThrownBy(() -> Thresholds.DEFAULTS.with(Map.of("spike_k", 3.0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "unknown threshold \"spike_k\"; known spike_* thresholds: spike_mad_k, ");
        assertThatThrownBy(() -> Thresholds.DEFAULTS.with(Map.of("k", 3.0)))
                .hasMessageStartingWith(
                        "unknown threshold \"k\"; known: non_finite_resolve_steps, ");
    }

    @Test
    void shouldNotBuildRunOverridesThatCannotApply() {
        // the monitor applies a run's overrides unchecked: one that cannot apply must not exist
        assertThatThrownBy(() -> ThresholdOverrides.of(Map.of("spike_mad_k", -1.0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("spike_mad_k: must be a finite number > 0, got -1");
        ThresholdOverrides o = new ThresholdOverrides();
        assertThat(o.set(Threshold.SPIKE_MAD_K, -1))
                .isEqualTo("must be a finite number > 0, got -1");
        assertThat(o.isEmpty()).isTrue();
        assertThat(o.set(Threshold.IDLE_TIMEOUT_MINUTES, 30)).isNull();
        assertThat(o.asMap()).containsExactly(Map.entry("idle_timeout_minutes", 30.0));
        assertThat(o.applyTo(Thresholds.DEFAULTS).getInt(Threshold.IDLE_TIMEOUT_MINUTES))
                .isEqualTo(30);
    }

    @Test
    void shouldParseCommandLineTextWithTheSameCheck() {
        assertThat(
                        Thresholds.DEFAULTS
                                .withText(Map.of("grad_ema_alpha", "0.1"))
                                .get(Threshold.GRAD_EMA_ALPHA))
                .isEqualTo(0.1);
        assertThatThrownBy(() -> Thresholds.DEFAULTS.withText(Map.of("grad_ema_alpha", "lots")))
                .hasMessage("grad_ema_alpha: must be a number in (0, 1], got \"lots\"");
        assertThatThrownBy(() -> Thresholds.DEFAULTS.withText(Map.of("lr_mismatch_steps", "0")))
                .hasMessage("lr_mismatch_steps: must be an integer from 1 to 1000000000, got 0");
        assertThatThrownBy(() -> Thresholds.DEFAULTS.withText(Map.of("spike_mad_k", "NaN")))
                .hasMessage("spike_mad_k: must be a finite number > 0, got NaN");
    }
}
