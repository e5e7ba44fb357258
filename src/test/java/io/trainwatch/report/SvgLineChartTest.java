package io.trainwatch.report;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SvgLineChartTest {
    @Test
    void shouldLabelTicksWithRoundShortNumbers() {
        assertThat(SvgLineChart.tick(0.00015)).isEqualTo("1.5e-4");
        assertThat(SvgLineChart.tick(2e-5)).isEqualTo("2e-5");
        assertThat(SvgLineChart.tick(0.1 + 0.2)).isEqualTo("0.3");
        assertThat(SvgLineChart.tick(215000)).isEqualTo("215000");
        assertThat(SvgLineChart.tick(1.5e6)).isEqualTo("1.5e6");
        assertThat(SvgLineChart.tick(-1e-17)).isEqualTo("0");
        assertThat(SvgLineChart.niceStep(0.33)).isEqualTo(0.5);
        assertThat(SvgLineChart.niceStep(4000)).isEqualTo(5000);
    }

    @Test
    void shouldLeaveZerosOutOfALogAxisWithoutMarkersButMarkNaN() {
        SvgLineChart c = new SvgLineChart("lr", "step", "lr").logScale(true);
        int s = c.addSeries("scheduled", 0, true);
        c.add(s, 0, 0.0);
        for (int i = 1; i < 10; i++) {
            c.add(s, i, 1e-5 * i);
        }
        c.add(s, 10, Double.NaN);
        String svg = c.render();
        assertThat(svg).contains("(log scale)", ">1e-5</text>", ">2e-5</text>", ">5e-5</text>");
        assertThat(svg).contains("<title>scheduled is NaN at step 10</title>");
        assertThat(svg).doesNotContain("at step 0</title>");
    }

    @Test
    void shouldKeepMarkerPointsThroughTheStreamingReduction() {
        SvgLineChart c = new SvgLineChart("t", "step", "y", 1_000_000);
        c.addMarker(new SvgLineChart.Marker(123_457, "#c62828", "1", "spike", "alert"));
        int s = c.addSeries("y", 0, false);
        for (int i = 0; i < 1_000_000; i++) {
            c.add(s, i, i == 123_457 ? Double.POSITIVE_INFINITY : 1);
        }
        String svg = c.render();
        assertThat(svg)
                .contains("<title>y is Infinity at step 123457</title>", "<title>spike</title>");
    }
}
