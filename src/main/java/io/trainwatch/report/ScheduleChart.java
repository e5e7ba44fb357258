package io.trainwatch.report;

import io.trainwatch.schedule.DeclaredSchedule;

/**
 * A declared schedule drawn over its first steps: one line per parameter group (adaptive: dashed
 * lowest and solid highest allowed).
 */
public final class ScheduleChart {
    private ScheduleChart() {}

    public static SvgLineChart of(DeclaredSchedule s, String title, long steps) {
        SvgLineChart chart =
                new SvgLineChart(
                        title + " (" + s.scheduler() + ")",
                        "optimizer step",
                        "learning rate",
                        steps);
        int[] lines = new int[s.groups() * (s.adaptive() ? 2 : 1)];
        for (int g = 0; g < s.groups(); g++) {
            if (s.adaptive()) {
                lines[2 * g] = chart.addSeries("group " + g + " lowest allowed", g, true);
                lines[2 * g + 1] = chart.addSeries("group " + g + " highest allowed", g, false);
            } else {
                lines[g] = chart.addSeries("group " + g, g, false);
            }
        }
        for (long step = 0; step < steps; step++) {
            for (int g = 0; g < s.groups(); g++) {
                if (s.adaptive()) {
                    chart.add(lines[2 * g], step, s.lowestLr(g, step));
                    chart.add(lines[2 * g + 1], step, s.highestLr(g, step));
                } else {
                    chart.add(lines[g], step, s.lr(g, step));
                }
            }
        }
        return chart;
    }
}
