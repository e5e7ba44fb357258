package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trainwatch.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every case of every file in shared/golden/schedules, taken as a spec as it stands, must reproduce
 * every recorded LR within the golden tolerance |a - e| <= 1e-12 + 1e-9 |e|. None is skipped.
 */
class GoldenSchedulesTest {
    static final double ABS_TOLERANCE = 1e-12;
    static final double REL_TOLERANCE = 1e-9;

    static boolean withinTolerance(double actual, double expected) {
        return Math.abs(actual - expected) <= ABS_TOLERANCE + REL_TOLERANCE * Math.abs(expected);
    }

    @Test
    void shouldReproduceEveryGoldenValue() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Path> files;
        try (Stream<Path> s = Files.list(SharedData.goldenSchedules())) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(files).isNotEmpty();

        int cases = 0;
        long values = 0;
        int casesInFiles = 0;
        long valuesInFiles = 0;
        List<String> failures = new ArrayList<>();
        for (Path file : files) {
            JsonNode root = json.readTree(file.toFile());
            casesInFiles += root.get("cases").size();
            for (JsonNode c : root.get("cases")) {
                for (JsonNode group : c.get("lr")) {
                    valuesInFiles += group.size();
                }
            }
            for (JsonNode c : root.get("cases")) {
                String id = file.getFileName() + "/" + c.get("name").asText();
                DeclaredSchedule schedule = ScheduleSpec.parse(c);
                JsonNode lr = c.get("lr");
                int steps = c.get("steps").asInt();
                assertThat(schedule.groups()).as(id + " groups").isEqualTo(lr.size());
                int caseFailures = 0;
                for (int g = 0; g < lr.size(); g++) {
                    assertThat(lr.get(g).size()).as(id + " values of group " + g).isEqualTo(steps);
                    for (int i = 0; i < steps; i++) {
                        double expected = Double.parseDouble(lr.get(g).get(i).asText());
                        double actual = schedule.lr(g, i);
                        values++;
                        if (!withinTolerance(actual, expected) && caseFailures++ < 3) {
                            failures.add(id + " group " + g + " step " + i + ": expected " + expected + " got " + actual);
                        }
                    }
                }
                cases++;
            }
        }
        System.out.printf("golden schedules: %d files, %d cases, %d values checked, %d mismatches%n",
                files.size(), cases, values, failures.size());
        assertThat(failures).as("golden mismatches").isEmpty();
        assertThat(cases).isEqualTo(casesInFiles);
        assertThat(values).isEqualTo(valuesInFiles);
    }
}
