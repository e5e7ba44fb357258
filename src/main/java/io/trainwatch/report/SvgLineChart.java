package io.trainwatch.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A self-contained SVG line chart (no scripts, no external resources): solid or dashed series, a
 * linear or log y axis, vertical markers at chosen x values with a tooltip each (SVG {@code
 * <title>}, shown on hover by any browser), and NaN/Infinity values drawn as markers on the plot's
 * edge instead of stretching the scale.
 *
 * <p>At render time every series is reduced to what the plot's pixels can show ({@link
 * Downsampler}: first, last, lowest and highest point per pixel column; points at marker x values
 * and non-finite points are never dropped). Series fed from a generator too long to hold in memory
 * (a schedule over 10^9 steps) are also reduced while they stream, when {@code expectedPoints} is
 * given: each run of points is cut into at most {@link #MAX_BUCKETS_PER_SERIES} buckets that keep
 * their minimum, maximum and last point. Markers must be added before the points for their x to
 * survive that streaming reduction.
 */
public final class SvgLineChart {
    static final int MAX_BUCKETS_PER_SERIES = 1500;
    private static final MathContext TICK_DIGITS = new MathContext(4);
    private static final String[] COLORS = {
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"
    };
    private static final int WIDTH = 960;
    private static final int HEIGHT = 420;
    private static final int LEFT = 90;
    private static final int RIGHT = 20;
    private static final int BOTTOM = 60;
    private static final int LEGEND_ROW_PX = 16;

    /**
     * Approximate width of one 12px sans-serif character, to lay out the legend without measuring
     * text.
     */
    private static final int CHAR_PX = 7;

    /**
     * A vertical marker at {@code x} (an alert at a step): a dashed line and a numbered badge with
     * a tooltip.
     */
    public record Marker(double x, String color, String label, String tooltip, String cssClass) {}

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final long bucketSize;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private final Set<Double> markerXs = new HashSet<>();
    private boolean logScale;
    private String emptyText = "no data";
    private double fixedMinX = Double.NaN;
    private double fixedMaxX = Double.NaN;

    /**
     * @param expectedPoints how many points each series will get, to size the streaming buckets
     */
    public SvgLineChart(String title, String xLabel, String yLabel, long expectedPoints) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.bucketSize =
                Math.max(
                        1,
                        (Math.max(1, expectedPoints) + MAX_BUCKETS_PER_SERIES - 1)
                                / MAX_BUCKETS_PER_SERIES);
    }

    /** A chart that holds every point until {@link #render()} (for data already in memory). */
    public SvgLineChart(String title, String xLabel, String yLabel) {
        this(title, xLabel, yLabel, 1);
    }

    /** Draws the y axis in log10; values &lt;= 0 are left out of the line (and are not markers). */
    public SvgLineChart logScale(boolean on) {
        this.logScale = on;
        return this;
    }

    /**
     * Fixes the x axis (charts of one run share it, so their markers line up); by default it spans
     * the data.
     */
    public SvgLineChart xRange(double min, double max) {
        this.fixedMinX = min;
        this.fixedMaxX = max;
        return this;
    }

    /** What the chart says when no series has a point. */
    public SvgLineChart emptyText(String text) {
        this.emptyText = text;
        return this;
    }

    /**
     * Adds a series drawn in palette colour {@code colorIndex}; returns its index for {@link #add}.
     */
    public int addSeries(String name, int colorIndex, boolean dashed) {
        series.add(
                new Series(
                        name,
                        COLORS[Math.floorMod(colorIndex, COLORS.length)],
                        dashed,
                        bucketSize,
                        markerXs));
        return series.size() - 1;
    }

    public void add(int seriesIndex, double x, double y) {
        series.get(seriesIndex).add(x, y);
    }

    /** Adds a vertical marker; points of every series at its x are kept by the downsampling. */
    public void addMarker(Marker marker) {
        markers.add(marker);
        markerXs.add(marker.x());
    }

    public String render() {
        for (Series s : series) {
            s.flush();
        }
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        boolean anyPoint = false;
        for (Series s : series) {
            s.project(logScale);
            for (int i = 0; i < s.n; i++) {
                anyPoint = true;
                minX = Math.min(minX, s.xs[i]);
                maxX = Math.max(maxX, s.xs[i]);
                double y = s.plotted[i];
                if (Double.isFinite(y)) {
                    minY = Math.min(minY, y);
                    maxY = Math.max(maxY, y);
                }
            }
        }
        for (Marker m : markers) {
            minX = Math.min(minX, m.x());
            maxX = Math.max(maxX, m.x());
        }
        if (fixedMinX <= fixedMaxX) {
            minX = fixedMinX;
            maxX = fixedMaxX;
        }
        if (!(minX <= maxX)) {
            minX = 0;
            maxX = 1;
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (!(minY <= maxY)) {
            minY = 0;
            maxY = 1;
        }
        if (!logScale && minY > 0 && minY < maxY * 0.5) {
            minY = 0; // LR plots read best from zero unless the range is narrow
        }
        if (maxY == minY) {
            if (logScale) {
                minY -= 0.5;
                maxY += 0.5;
            } else {
                maxY = minY == 0 ? 1 : minY + Math.abs(minY) * 0.1;
                minY = minY == 0 ? 0 : minY - Math.abs(minY) * 0.1;
            }
        }
        if (logScale) {
            if (maxY - minY >= 1) {
                // whole decades
                minY = Math.floor(minY);
                maxY = Math.ceil(maxY);
            }
        } else {
            // round numbers at both ends, so the ticks are round numbers too
            double step = niceStep((maxY - minY) / 5);
            minY = Math.floor(minY / step + 1e-9) * step;
            maxY = Math.ceil(maxY / step - 1e-9) * step;
        }

        int[] legendX = new int[series.size()];
        int[] legendRow = new int[series.size()];
        int rows = layoutLegend(legendX, legendRow);
        int top = 36 + LEGEND_ROW_PX * rows;
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - top - BOTTOM;
        Frame f = new Frame(minX, maxX, minY, maxY, LEFT, top, plotW, plotH);

        StringBuilder out = new StringBuilder(16_384);
        out.append(
                String.format(
                        Locale.ROOT,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                        WIDTH,
                        HEIGHT,
                        WIDTH,
                        HEIGHT));
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        out.append(
                String.format(
                        Locale.ROOT,
                        "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
                        LEFT,
                        escape(title)));
        axes(out, f);
        if (!anyPoint) {
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#777\">%s</text>%n",
                            LEFT + plotW / 2,
                            top + plotH / 2,
                            escape(emptyText)));
        }
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            drawSeries(out, s, f);
            int ly = 36 + LEGEND_ROW_PX * legendRow[si];
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>%n",
                            legendX[si],
                            ly - 4,
                            legendX[si] + 18,
                            ly - 4,
                            s.color,
                            s.dashed ? " stroke-dasharray=\"5,3\"" : ""));
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<text x=\"%d\" y=\"%d\">%s</text>%n",
                            legendX[si] + 22,
                            ly,
                            escape(s.name)));
        }
        for (Marker m : markers) {
            drawMarker(out, m, f);
        }
        out.append("</svg>\n");
        return out.toString();
    }

    /**
     * Places legend entries left to right, wrapping at the chart's width; returns the number of
     * rows.
     */
    private int layoutLegend(int[] xs, int[] rows) {
        int x = LEFT;
        int row = 0;
        for (int i = 0; i < series.size(); i++) {
            int w = 30 + CHAR_PX * series.get(i).name.length();
            if (x > LEFT && x + w > WIDTH - RIGHT) {
                row++;
                x = LEFT;
            }
            xs[i] = x;
            rows[i] = row;
            x += w;
        }
        return series.isEmpty() ? 0 : row + 1;
    }

    private record Frame(
            double minX,
            double maxX,
            double minY,
            double maxY,
            double left,
            double top,
            double w,
            double h) {
        double px(double x) {
            return left + (x - minX) / (maxX - minX) * w;
        }

        double py(double y) {
            return top + h - (y - minY) / (maxY - minY) * h;
        }
    }

    private void axes(StringBuilder out, Frame f) {
        out.append(
                String.format(
                        Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>%n",
                        f.left,
                        f.top,
                        f.w,
                        f.h));
        for (double v : yTicks(f)) {
            double py = f.py(v);
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                            f.left,
                            py,
                            f.left + f.w,
                            py));
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                            f.left - 6,
                            py + 4,
                            tick(logScale ? Math.pow(10, v) : v)));
        }
        double xStep = niceStep((f.maxX - f.minX) / 6);
        if (f.maxX - f.minX >= 6) {
            xStep = Math.max(1, Math.rint(xStep)); // steps are integers
        }
        for (double fx : ticks(f.minX, f.maxX, xStep)) {
            double px = f.px(fx);
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>%n",
                            px,
                            f.top + f.h,
                            px,
                            f.top + f.h + 4));
            out.append(
                    String.format(
                            Locale.ROOT,
                            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                            px,
                            f.top + f.h + 18,
                            tick(fx)));
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                        f.left + f.w / 2,
                        HEIGHT - 14,
                        escape(xLabel)));
        String ylab = logScale ? yLabel + " (log scale)" : yLabel;
        out.append(
                String.format(
                        Locale.ROOT,
                        "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">%s</text>%n",
                        f.top + f.h / 2,
                        f.top + f.h / 2,
                        escape(ylab)));
    }

    /**
     * Six even ticks; on a log axis spanning at least a decade, the powers of ten (at most eight of
     * them).
     */
    private double[] yTicks(Frame f) {
        if (logScale) {
            double lo = Math.ceil(f.minY);
            double hi = Math.floor(f.maxY);
            if (hi - lo >= 1) {
                int decades = (int) (hi - lo) + 1;
                int every = (decades + 7) / 8;
                double[] t = new double[(decades + every - 1) / every];
                for (int i = 0; i < t.length; i++) {
                    t[i] = lo + (double) i * every;
                }
                return t;
            }
            // less than a decade: 1, 2, 5 (or every digit) times the powers of ten in range
            for (int[] mantissas : new int[][] {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
                List<Double> t = new ArrayList<>();
                for (double d = Math.floor(f.minY); d <= Math.ceil(f.maxY); d++) {
                    for (int m : mantissas) {
                        double v = d + Math.log10(m);
                        if (v >= f.minY - 1e-9 && v <= f.maxY + 1e-9) {
                            t.add(v);
                        }
                    }
                }
                if (t.size() >= 3 || mantissas.length == 9) {
                    return t.stream().mapToDouble(Double::doubleValue).toArray();
                }
            }
        }
        return ticks(f.minY, f.maxY, niceStep((f.maxY - f.minY) / 5));
    }

    /** The multiples of {@code step} within [min, max]. */
    private static double[] ticks(double min, double max, double step) {
        double first = Math.ceil(min / step - 1e-9);
        double last = Math.floor(max / step + 1e-9);
        int n = (int) Math.max(0, Math.min(50, last - first + 1));
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = (first + i) * step;
        }
        return t;
    }

    /** 1, 2 or 5 times a power of ten, near {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) {
            return 1;
        }
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double norm = raw / mag;
        return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    }

    private void drawSeries(StringBuilder out, Series s, Frame f) {
        Downsampler.Reduced r =
                Downsampler.reduce(
                        s.xs, s.plotted, s.n, f.minX, f.maxX, (int) f.w, markerXs::contains);
        StringBuilder d = new StringBuilder(r.size() * 12);
        StringBuilder nonFinite = new StringBuilder();
        Segment seg = new Segment(r.size());
        for (int k = 0; k < r.size(); k++) {
            int i = r.indexes()[k];
            double y = s.plotted[i];
            if (!Double.isFinite(y)) {
                seg.flush(d);
                if (!Double.isFinite(s.ys[i])) {
                    nonFiniteMarker(nonFinite, s, s.xs[i], s.ys[i], f);
                }
                continue;
            }
            if (r.breakBefore()[k]) {
                seg.flush(d);
            }
            seg.add(f.px(s.xs[i]), f.py(y), markerXs.contains(s.xs[i]));
        }
        seg.flush(d);
        out.append(
                String.format(
                        Locale.ROOT,
                        "<path class=\"series\" data-name=\"%s\" data-points=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linecap=\"round\" stroke-linejoin=\"round\"%s d=\"",
                        escape(s.name),
                        s.n,
                        s.color,
                        s.dashed ? " stroke-dasharray=\"5,3\"" : ""));
        out.append(d).append("\"/>\n");
        out.append(nonFinite);
    }

    /**
     * One unbroken piece of a line in pixels, written as path commands without the vertices that
     * make no visible difference (Reumann–Witkam: while points stay within {@link #SIMPLIFY_PX} of
     * the line through the last vertex and the point after it, and keep moving forward along it,
     * they are dropped), so a smooth LR curve costs a few dozen vertices, not two per pixel. A
     * spike's tip turns back, so it stays; points at marker x values stay.
     */
    private static final class Segment {
        private static final double SIMPLIFY_PX = 0.3;
        final double[] xs;
        final double[] ys;
        final boolean[] forced;
        int n;

        Segment(int capacity) {
            xs = new double[Math.max(1, capacity)];
            ys = new double[xs.length];
            forced = new boolean[xs.length];
        }

        void add(double x, double y, boolean keep) {
            xs[n] = x;
            ys[n] = y;
            forced[n] = keep;
            n++;
        }

        void flush(StringBuilder d) {
            if (n == 0) {
                return;
            }
            d.append('M');
            vertex(d, 0);
            if (n == 1) {
                d.append("l0,0"); // a lone point: a dot (round caps)
                n = 0;
                return;
            }
            // the strip: the line through vertex a and point b; points inside it, moving forward,
            // are dropped
            int a = 0;
            int b = 1;
            double lastT = 1;
            for (int i = 2; i < n; i++) {
                if (!forced[i - 1]) {
                    double dx = xs[b] - xs[a];
                    double dy = ys[b] - ys[a];
                    double len2 = dx * dx + dy * dy;
                    if (len2 < 1e-12) {
                        b = i; // no direction yet
                        continue;
                    }
                    double ex = xs[i] - xs[a];
                    double ey = ys[i] - ys[a];
                    double t = (ex * dx + ey * dy) / len2;
                    double cross = ex * dy - ey * dx;
                    if (t >= lastT && cross * cross <= SIMPLIFY_PX * SIMPLIFY_PX * len2) {
                        lastT = t;
                        continue;
                    }
                }
                // point i leaves the strip (or i - 1 carries a marker): i - 1 is a vertex and
                // anchors the next strip
                d.append('L');
                vertex(d, i - 1);
                a = i - 1;
                b = i;
                lastT = 1;
            }
            d.append('L');
            vertex(d, n - 1);
            n = 0;
        }

        private void vertex(StringBuilder d, int i) {
            num(d, xs[i]);
            d.append(',');
            num(d, ys[i]);
        }
    }

    /**
     * A triangle on the plot's top edge (NaN, +Infinity) or bottom edge (-Infinity), in the series'
     * colour.
     */
    private static void nonFiniteMarker(StringBuilder out, Series s, double x, double y, Frame f) {
        double px = f.px(x);
        boolean down = y == Double.NEGATIVE_INFINITY;
        double tip = down ? f.top + f.h - 2 : f.top + 2;
        double base = down ? tip - 9 : tip + 9;
        String what = Double.isNaN(y) ? "NaN" : y > 0 ? "Infinity" : "-Infinity";
        out.append(
                String.format(
                        Locale.ROOT,
                        "<g class=\"nonfinite\" data-x=\"%s\"><title>%s is %s at step %s</title>"
                                + "<path d=\"M%.1f,%.1fL%.1f,%.1fL%.1f,%.1fZ\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"/></g>%n",
                        xText(x),
                        escape(s.name),
                        what,
                        xText(x),
                        px,
                        tip,
                        px - 5,
                        base,
                        px + 5,
                        base,
                        s.color));
    }

    private static void drawMarker(StringBuilder out, Marker m, Frame f) {
        double px = f.px(m.x());
        double badgeY = f.top + f.h - 10;
        out.append(
                String.format(
                        Locale.ROOT,
                        "<g class=\"alert-marker %s\" data-x=\"%s\"><title>%s</title>"
                                + "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.2\" stroke-dasharray=\"3,3\"/>"
                                + "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"transparent\" stroke-width=\"9\"/>"
                                + "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"%s\"/>"
                                + "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"white\">%s</text></g>%n",
                        escape(m.cssClass()),
                        xText(m.x()),
                        escape(m.tooltip()),
                        px,
                        f.top,
                        px,
                        f.top + f.h,
                        m.color(),
                        px,
                        f.top,
                        px,
                        f.top + f.h,
                        px,
                        badgeY,
                        m.color(),
                        px,
                        badgeY + 3.5,
                        escape(m.label())));
    }

    private static String xText(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15
                ? Long.toString((long) x)
                : Double.toString(x);
    }

    /**
     * Appends v rounded to one decimal: enough for pixels, and a third of what %.2f costs in a long
     * path.
     */
    private static void num(StringBuilder sb, double v) {
        long tenths = Math.round(v * 10);
        if (tenths < 0) {
            sb.append('-');
            tenths = -tenths;
        }
        sb.append(tenths / 10);
        if (tenths % 10 != 0) {
            sb.append('.').append(tenths % 10);
        }
    }

    /**
     * A tick label: 4 significant digits without trailing zeros (0.0015, 215000); below 0.001 or
     * from 10^6 on: 2e-5, 1.5e6.
     */
    static String tick(double v) {
        double a = Math.abs(v);
        if (a < 1e-12) {
            return "0";
        }
        if (a >= 1e-3 && a < 1e6) {
            return new BigDecimal(v).round(TICK_DIGITS).stripTrailingZeros().toPlainString();
        }
        String[] parts = String.format(Locale.ROOT, "%.3e", v).split("e");
        String mantissa =
                parts[0].contains(".")
                        ? parts[0].replaceAll("0+$", "").replaceAll("\\.$", "")
                        : parts[0];
        return mantissa + "e" + Integer.parseInt(parts[1]);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("\"", "&quot;");
    }

    private static final class Series {
        final String name;
        final String color;
        final boolean dashed;
        final long bucketSize;
        final Set<Double> forcedXs;
        double[] xs = new double[64];
        double[] ys = new double[64];

        /** ys as drawn: log10 on a log axis, where a value &lt;= 0 becomes NaN (left out). */
        double[] plotted;

        int n;
        long inBucket;
        double minX;
        double minY;
        double maxX;
        double maxY;
        double lastX;
        double lastY;

        Series(String name, String color, boolean dashed, long bucketSize, Set<Double> forcedXs) {
            this.name = name;
            this.color = color;
            this.dashed = dashed;
            this.bucketSize = bucketSize;
            this.forcedXs = forcedXs;
        }

        void add(double x, double y) {
            if (bucketSize == 1 || !Double.isFinite(y) || forcedXs.contains(x)) {
                flush();
                append(x, y);
                return;
            }
            if (inBucket == 0) {
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

        /**
         * Emits the streaming bucket's extremes in the order they occurred, plus its last point.
         */
        void flush() {
            if (inBucket == 0) {
                return;
            }
            if (minX <= maxX) {
                append(minX, minY);
                append(maxX, maxY);
            } else {
                append(maxX, maxY);
                append(minX, minY);
            }
            append(lastX, lastY);
            inBucket = 0;
        }

        private void append(double x, double y) {
            if (n == xs.length) {
                xs = Arrays.copyOf(xs, n * 2);
                ys = Arrays.copyOf(ys, n * 2);
            }
            xs[n] = x;
            ys[n] = y;
            n++;
        }

        void project(boolean log) {
            plotted = new double[n];
            for (int i = 0; i < n; i++) {
                double y = ys[i];
                plotted[i] = !log || !Double.isFinite(y) ? y : y > 0 ? Math.log10(y) : Double.NaN;
            }
        }
    }
}
