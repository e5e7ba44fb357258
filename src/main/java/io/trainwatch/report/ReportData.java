package io.trainwatch.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a report shows: the runs, each with its logged steps in the order they were logged and its
 * alerts, sorted by run id. Independent of where it came from: {@link JsonlReportReader} builds it
 * from the JSONL files {@code replay} writes; any other reader (a database) only has to feed a
 * {@link Builder}.
 */
public record ReportData(List<Run> runs) {
    public ReportData {
        runs = List.copyOf(runs);
    }

    /**
     * One run. {@code points} keep their logged order, so a resume from a checkpoint shows as a
     * step lower than the one before it; {@code alerts} keep theirs (open, update, resolved).
     */
    public record Run(String runId, List<StepPoint> points, List<ReportAlert> alerts) {
        public Run {
            points = List.copyOf(points);
            alerts = List.copyOf(alerts);
        }

        public long firstStep() {
            return points.stream().mapToLong(StepPoint::step).min().orElse(0);
        }

        public long lastStep() {
            return points.stream().mapToLong(StepPoint::step).max().orElse(0);
        }

        /** How many times the step went back (resumes from a checkpoint). */
        public int resumes() {
            int n = 0;
            for (int i = 1; i < points.size(); i++) {
                if (points.get(i).step() < points.get(i - 1).step()) {
                    n++;
                }
            }
            return n;
        }

        /** Param groups: the longest LR array, actual or scheduled. */
        public int paramGroups() {
            int g = 0;
            for (StepPoint p : points) {
                g = Math.max(g, p.actualLr() == null ? 0 : p.actualLr().length);
                g = Math.max(g, p.scheduledLr() == null ? 0 : p.scheduledLr().length);
            }
            return g;
        }
    }

    public long steps() {
        return runs.stream().mapToLong(r -> r.points().size()).sum();
    }

    public long alerts() {
        return runs.stream().mapToLong(r -> r.alerts().size()).sum();
    }

    /**
     * Collects points and alerts in any interleaving of runs; {@link #build()} groups and sorts
     * them.
     */
    public static final class Builder {
        private final Map<String, List<StepPoint>> points = new TreeMap<>();
        private final Map<String, List<ReportAlert>> alerts = new TreeMap<>();

        public Builder addPoint(String runId, StepPoint point) {
            points.computeIfAbsent(runId, k -> new ArrayList<>()).add(point);
            alerts.computeIfAbsent(runId, k -> new ArrayList<>());
            return this;
        }

        /** An alert of a run with no points still makes a run (with its table and no charts). */
        public Builder addAlert(ReportAlert alert) {
            alerts.computeIfAbsent(alert.runId(), k -> new ArrayList<>()).add(alert);
            points.computeIfAbsent(alert.runId(), k -> new ArrayList<>());
            return this;
        }

        public ReportData build() {
            List<Run> runs = new ArrayList<>();
            for (Map.Entry<String, List<StepPoint>> e : points.entrySet()) {
                runs.add(new Run(e.getKey(), e.getValue(), alerts.get(e.getKey())));
            }
            return new ReportData(runs);
        }
    }
}
