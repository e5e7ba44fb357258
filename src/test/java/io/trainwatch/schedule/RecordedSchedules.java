package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Compares a folder of recorded LR sequences (the shared/golden format: files of cases with {@code
 * scheduler}, {@code params}, {@code steps}, {@code lr[group][step]}) against the engine, with the
 * golden tolerance {@code |a - e| <= 1e-12 + 1e-9 |e|}.
 */
public final class RecordedSchedules {
    static final double ABS_TOLERANCE = 1e-12;
    static final double REL_TOLERANCE = 1e-9;
    private static final ObjectMapper JSON = new ObjectMapper();

    record Report(
            int files,
            int cases,
            int casesInFiles,
            long values,
            long valuesInFiles,
            List<String> failures) {}

    private RecordedSchedules() {}

    public static boolean withinTolerance(double actual, double expected) {
        return Math.abs(actual - expected) <= ABS_TOLERANCE + REL_TOLERANCE * Math.abs(expected);
    }

    /**
     * @param toSpec turns a recorded case into the spec to parse
     */
    static Report check(Path dir, UnaryOperator<JsonNode> toSpec) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        int cases = 0;
        int casesInFiles = 0;
        long values = 0;
        long valuesInFiles = 0;
        List<String> failures = new ArrayList<>();
        for (Path file : files) {
            JsonNode root = JSON.readTree(file.toFile());
            for (JsonNode c : root.get("cases")) {
                casesInFiles++;
                for (JsonNode group : c.get("lr")) {
                    valuesInFiles += group.size();
                }
            }
            for (JsonNode c : root.get("cases")) {
                String id = file.getFileName() + "/" + c.get("name").asText();
                DeclaredSchedule schedule;
                try {
                    schedule = ScheduleSpec.parse(toSpec.apply(c));
                } catch (InvalidScheduleException e) {
                    failures.add(id + ": rejected: " + e.getMessage());
                    continue;
                }
                JsonNode lr = c.get("lr");
                if (schedule.groups() != lr.size()) {
                    failures.add(id + ": " + schedule.groups() + " groups, recorded " + lr.size());
                    continue;
                }
                int caseFailures = 0;
                for (int g = 0; g < lr.size(); g++) {
                    for (int i = 0; i < lr.get(g).size(); i++) {
                        double expected = Double.parseDouble(lr.get(g).get(i).asText());
                        double actual = schedule.lr(g, i);
                        values++;
                        if (!withinTolerance(actual, expected) && caseFailures++ < 3) {
                            failures.add(
                                    id
                                            + " group "
                                            + g
                                            + " step "
                                            + i
                                            + ": expected "
                                            + expected
                                            + " got "
                                            + actual);
                        }
                    }
                }
                cases++;
            }
        }
        return new Report(files.size(), cases, casesInFiles, values, valuesInFiles, failures);
    }
}
