package io.trainwatch.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BenchTest {
    @Test
    void shouldPrintARatioToTwoDecimalsAndASmallOneToTwoSignificantDigits() {
        assertThat(Bench.ratio(0.2449)).isEqualTo("0.24");
        assertThat(Bench.ratio(1.125)).isEqualTo("1.13");
        assertThat(Bench.ratio(0.1)).isEqualTo("0.10");
        // a slow start under load: never 0.00, which reads as "the job did nothing"
        assertThat(Bench.ratio(0.0038)).isEqualTo("0.0038");
        assertThat(Bench.ratio(0.09949)).isEqualTo("0.099");
        assertThat(Bench.ratio(0.000012345)).isEqualTo("0.000012");
        assertThat(Bench.ratio(0)).isEqualTo("0.00");
        assertThat(Bench.ratio(Double.NaN)).isEqualTo("NaN");
    }
}
