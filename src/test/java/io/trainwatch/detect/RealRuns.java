package io.trainwatch.detect;

import io.trainwatch.SharedData;
import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.EventType;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.importer.ImportFormat;
import io.trainwatch.importer.ImportedRun;
import io.trainwatch.importer.LogImporter;
import io.trainwatch.threshold.Thresholds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Imports the shared real runs as src/test/resources/real-runs/runs.json describes, and replays
 * them through a RunMonitor.
 */
public final class RealRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * {@code alerts}: what the monitor sent; {@code withheld}: the detectors' alerts it folded into
     * an open incident (or capped) instead.
     */
    record Replayed(
            String name,
            boolean healthy,
            List<String> events,
            List<Alert> alerts,
            List<Alert> withheld,
            long steps) {
        /** Alerts the detectors opened: what was sent before incidents folded them. */
        long detectorOpens() {
            return java.util.stream.Stream.concat(alerts.stream(), withheld.stream())
                    .filter(a -> Alert.OPEN.equals(a.status))
                    .map(a -> a.alertId)
                    .distinct()
                    .count();
        }

        /** Incidents opened: alerts sent that opened their incident. */
        long incidentsOpened() {
            return alerts.stream()
                    .filter(a -> Alert.OPEN.equals(a.status) && a.alertId.equals(a.incidentId))
                    .count();
        }
    }

    private RealRuns() {}

    public static JsonNode index() throws IOException {
        try (InputStream in = RealRuns.class.getResourceAsStream("/real-runs/runs.json")) {
            return JSON.readTree(in);
        }
    }

    public static List<String> events(JsonNode run) throws IOException {
        String name = run.get("name").asText();
        ImportFormat format = ImportFormat.byCliName(run.get("format").asText());
        JsonNode schedule = run.get("schedule");
        ImportedRun imported =
                LogImporter.importFile(
                        format,
                        SharedData.dir()
                                .resolve("data/real-runs")
                                .resolve(name)
                                .resolve(run.get("file").asText()),
                        name,
                        schedule == null || schedule.isNull() ? null : schedule.toString());
        List<String> events = new ArrayList<>(imported.events());
        JsonNode resumes = run.get("resume_schedules");
        if (resumes != null) {
            // a relaunch declares its edited config: a new run_start before its first step
            for (var it = resumes.fields(); it.hasNext(); ) {
                var e = it.next();
                long step = Long.parseLong(e.getKey());
                for (int i = 0; i < events.size(); i++) {
                    JsonNode ev = JSON.readTree(events.get(i));
                    if ("step".equals(ev.path("type").asText())
                            && ev.path("step").asLong() == step) {
                        events.add(
                                i,
                                JsonWriter.object(
                                        "type",
                                        "run_start",
                                        "run_id",
                                        ev.path("run_id").asText(),
                                        "schedule",
                                        e.getValue()));
                        break;
                    }
                }
            }
        }
        JsonNode only = run.get("run_ids");
        if (only != null) {
            java.util.Set<String> keep = new java.util.HashSet<>();
            only.forEach(n -> keep.add(n.asText()));
            events.removeIf(
                    line -> {
                        try {
                            return !keep.contains(JSON.readTree(line).path("run_id").asText());
                        } catch (IOException ex) {
                            throw new java.io.UncheckedIOException(ex);
                        }
                    });
        }
        return events;
    }

    static Replayed replay(JsonNode run) throws Exception {
        List<String> events = events(run);
        EventCodec codec = new EventCodec();
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        Map<String, RunState> states = new HashMap<>();
        List<Alert> alerts = new ArrayList<>();
        List<Alert> withheld = new ArrayList<>();
        long steps = 0;
        for (String line : events) {
            TrainingEvent e = codec.parse(line);
            RunState s = states.computeIfAbsent(e.runId, k -> new RunState());
            RunMonitor.Output out = monitor.onEvent(s, e);
            alerts.addAll(out.alerts());
            withheld.addAll(out.withheldAlerts());
            steps += e.type == EventType.STEP ? 1 : 0;
        }
        return new Replayed(
                run.get("name").asText(),
                run.get("healthy").asBoolean(),
                events,
                alerts,
                withheld,
                steps);
    }
}
