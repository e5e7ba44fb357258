package io.trainwatch.schedule;

import io.trainwatch.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * src/test/resources/golden-torch2: every real-torch golden and reference case replayed with torch
 * 2.13 (replay_golden.py, which gives the torch 1.13 recordings back bit for bit under torch 1.13).
 * The engine must reproduce every 2.13 value from the case's spec, and where 2.13 and 1.13
 * disagree, each version's values from its own spec.
 */
class GoldenTorch2SchedulesTest {
    private static final Path TORCH2 = Path.of("src/test/resources/golden-torch2");
    private static final Path REFERENCE = Path.of("src/test/resources/reference");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldReproduceEveryTorch2GoldenValue() throws IOException {
        RecordedSchedules.Report r =
                RecordedSchedules.check(TORCH2, GoldenTorch2SchedulesTest::spec);
        System.out.printf(
                "torch 2.13 golden schedules: %d files, %d cases, %d values checked, %d mismatches%n",
                r.files(), r.cases(), r.values(), r.failures().size());
        assertThat(r.files())
                .isEqualTo(16); // the 14 torch files of shared/golden and the 2 torch files of
        // reference
        assertThat(r.failures()).as("torch 2.13 golden mismatches").isEmpty();
        assertThat(r.cases()).isEqualTo(r.casesInFiles());
        assertThat(r.values()).isEqualTo(r.valuesInFiles());
    }

    @Test
    void shouldReproduceBothTorchVersionsWhereTheyDisagree() throws IOException {
        Map<String, JsonNode> recorded113 = new TreeMap<>();
        for (Path dir : List.of(SharedData.goldenSchedules(), REFERENCE)) {
            for (Path f : jsonFiles(dir)) {
                for (JsonNode c : JSON.readTree(f.toFile()).get("cases")) {
                    recorded113.put(f.getFileName() + "/" + c.get("name").asText(), c);
                }
            }
        }
        List<String> disagreeing = new ArrayList<>();
        int replayed = 0;
        for (Path f : jsonFiles(TORCH2)) {
            for (JsonNode c213 : JSON.readTree(f.toFile()).get("cases")) {
                String id = f.getFileName() + "/" + c213.get("name").asText();
                JsonNode c113 = recorded113.get(id);
                assertThat(c113).as(id + " has its torch 1.13 recording").isNotNull();
                replayed++;
                if (!c113.get("lr").equals(c213.get("lr"))) {
                    disagreeing.add(id);
                    assertEngineGives(spec(c113), c113.get("lr"), id + " (torch 1.13)");
                    assertEngineGives(spec(c213), c213.get("lr"), id + " (torch 2.13)");
                    // the 1.13 spec must not pass for the 2.13 values: the field is what tells them
                    // apart
                    assertThat(matches(spec(c113), c213.get("lr")))
                            .as(id + ": torch 1.13's spec also gives torch 2.13's values")
                            .isFalse();
                }
            }
        }
        System.out.printf(
                "torch 1.13 vs 2.13: %d cases replayed, %d disagree: %s%n",
                replayed, disagreeing.size(), disagreeing);
        assertThat(replayed).isEqualTo(94);
        // measured: only the resumes of chainable schedulers built with last_epoch (StepLR and
        // OneCycleLR agree)
        assertThat(disagreeing)
                .containsExactly(
                        "torch_resume_last_epoch.json/cosine_T100_eta1e-4_2groups_resume_at_37",
                        "torch_resume_last_epoch.json/exponential0.95_resume_at_20",
                        "torch_resume_last_epoch.json/linear0.01_to_1_50_2groups_resume_at_20",
                        "torch_resume_last_epoch.json/linear1_to_0_30_resume_at_29",
                        "torch_resume_last_epoch.json/polynomial100_p2_resume_at_40",
                        "torch_resume_last_epoch.json/polynomial50_p1_resume_at_49",
                        "torch_resume_last_epoch.json/cosine_T20_eta1e-3_resume_at_25_past_tmax");
    }

    /**
     * The case as a spec: without the optimizer state the recording put in the groups before a
     * resume, nor what the 1.13 reference measured against its uninterrupted run.
     */
    static JsonNode spec(JsonNode recorded) {
        ObjectNode spec = recorded.deepCopy();
        spec.remove(
                List.of(
                        "uninterrupted_index_offset",
                        "uninterrupted_bit_identical",
                        "uninterrupted_max_abs_diff"));
        ((ObjectNode) spec.get("params")).remove("resume_group_state");
        return spec;
    }

    private static void assertEngineGives(JsonNode spec, JsonNode lr, String what) {
        assertThat(matches(spec, lr))
                .as(what + ": the engine reproduces every value from " + spec.get("params"))
                .isTrue();
    }

    private static boolean matches(JsonNode spec, JsonNode lr) {
        DeclaredSchedule s = ScheduleSpec.parse(spec);
        for (int g = 0; g < lr.size(); g++) {
            for (int i = 0; i < lr.get(g).size(); i++) {
                if (!RecordedSchedules.withinTolerance(
                        s.lr(g, i), Double.parseDouble(lr.get(g).get(i).asText()))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static List<Path> jsonFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }
}
