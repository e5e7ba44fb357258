package io.trainwatch.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained SVG line chart (no scripts, no external resources). Series are fed point by point
 * and downsampled on the fly to at most {@link #MAX_BUCKETS_PER_SERIES} buckets, keeping each
 * bucket's minimum and maximum so staircases and spikes stay visible at any run length.
 */
public final class SvgLineChart {
    static final int MAX_BUCKETS_PER_SERIES = 1500;
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    private static final int WIDTH = 960;
    private static final int HEIGHT = 420;
    private static final int LEFT = 90;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final long expectedPoints;
    private final List<Series> series = new ArrayList<>();

    /** @param expectedPoints how many points each series will get, to size the buckets */
    public SvgLineChart(String title, String xLabel, String yLabel, long expectedPoints) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.expectedPoints = Math.max(1, expectedPoints);
    }

    /** Adds a series drawn in palette colour {@code colorIndex}; returns its index for {@link #add}. */
    public int addSeries(String name, int colorIndex, boolean dashed) {
        long bucket = Math.max(1, (expectedPoints + MAX_BUCKETS_PER_SERIES - 1) / MAX_BUCKETS_PER_SERIES);
        series.add(new Series(name, COLORS[colorIndex % COLORS.length], dashed, bucket));
        return series.size() - 1;
    }

    public void add(int seriesIndex, double x, double y) {
        series.get(seriesIndex).add(x, y);
    }

    public String render() {
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            s.flush();
            for (double[] p : s.points) {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                if (Double.isFinite(p[1])) {
                    minY = Math.min(minY, p[1]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
        }
        if (!(minX <= maxX)) {
            minX = 0;
            maxX = 1;
        }
        if (!(minY <= maxY)) {
            minY = 0;
            maxY = 1;
        }
        if (minY > 0 && minY < maxY * 0.5) {
            minY = 0; // LR plots read best from zero unless the range is narrow
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (maxY == minY) {
            maxY = minY == 0 ? 1 : minY * 1.1;
            minY = minY == 0 ? 0 : minY * 0.9;
        }
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                WIDTH, HEIGHT, WIDTH, HEIGHT));
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", LEFT, escape(title)));
        // axes and ticks
        out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>%n", LEFT, TOP, plotW, plotH));
        for (int i = 0; i <= 5; i++) {
            double fy = minY + (maxY - minY) * i / 5;
            double py = TOP + plotH - plotH * i / 5;
            out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", LEFT, py, LEFT + plotW, py));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 6, py + 4, tick(fy)));
            double fx = minX + (maxX - minX) * i / 5;
            double px = LEFT + plotW * i / 5;
            out.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", px, TOP + (int) plotH + 18, maxX - minX >= 10 ? Long.toString(Math.round(fx)) : tick(fx)));
        }
        out.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", LEFT + plotW / 2, HEIGHT - 14, escape(xLabel)));
        out.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">%s</text>%n",
                TOP + plotH / 2, TOP + plotH / 2, escape(yLabel)));
        // series
        int legendX = LEFT + 10;
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (double[] p : s.points) {
                if (!Double.isFinite(p[1])) {
                    continue;
                }
                double px = LEFT + (p[0] - minX) / (maxX - minX) * plotW;
                double py = TOP + plotH - (p[1] - minY) / (maxY - minY) * plotH;
                pts.append(String.format(Locale.ROOT, "%.2f,%.2f ", px, py));
            }
            out.append(String.format(Locale.ROOT, "<polyline class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"%s\"/>%n",
                    escape(s.name), s.color, s.dashed ? " stroke-dasharray=\"5,3\"" : "", pts.toString().trim()));
            out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    legendX, TOP + 14, legendX + 18, TOP + 14, s.color));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", legendX + 22, TOP + 18, escape(s.name)));
            legendX += 30 + 7 * s.name.length();
        }
        out.append("</svg>\n");
        return out.toString();
    }

    private static String tick(double v) {
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        return a >= 1e4 || a < 1e-3 ? String.format(Locale.ROOT, "%.3g", v) : String.format(Locale.ROOT, "%.4g", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static final class Series {
        final String name;
        final String color;
        final boolean dashed;
        final long bucketSize;
        final List<double[]> points = new ArrayList<>();
        long inBucket;
        double firstX;
        double minX;
        double minY = Double.NaN;
        double maxX;
        double maxY = Double.NaN;
        double lastX;
        double lastY;

        Series(String name, String color, boolean dashed, long bucketSize) {
            this.name = name;
            this.color = color;
            this.dashed = dashed;
            this.bucketSize = bucketSize;
        }

        void add(double x, double y) {
            if (bucketSize == 1) {
                points.add(new double[]{x, y});
                return;
            }
            if (inBucket == 0) {
                firstX = x;
                minX = maxX = x;
                minY = maxY = y;
            } else {
                if (y < minY) {
                    minY = y;
                    minX = x;
                }
                if (y > maxY) {
                    maxY = y;
                    maxX = x;
                }
            }
            lastX = x;
            lastY = y;
            if (++inBucket == bucketSize) {
                flush();
            }
        }

        /** Emits the bucket's extremes in the order they occurred, plus its last point. */
        void flush() {
            if (inBucket == 0) {
                return;
            }
            if (minX <= maxX) {
                points.add(new double[]{minX, minY});
                points.add(new double[]{maxX, maxY});
            } else {
                points.add(new double[]{maxX, maxY});
                points.add(new double[]{minX, minY});
            }
            points.add(new double[]{lastX, lastY});
            inBucket = 0;
        }
    }
}
