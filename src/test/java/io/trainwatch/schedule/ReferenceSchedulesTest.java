package io.trainwatch.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The families the shared golden files do not cover, against src/test/resources/reference (its
 * README says how each was made): real torch ChainedScheduler and last_epoch resumes, Hugging Face
 * schedules by their lr_scheduler_type names, DeepSpeed's three schedulers.
 */
class ReferenceSchedulesTest {
    @Test
    void shouldReproduceEveryReferenceValue() throws IOException {
        RecordedSchedules.Report r =
                RecordedSchedules.check(
                        Path.of("src/test/resources/reference"), ReferenceSchedulesTest::spec);
        System.out.printf(
                "reference schedules: %d files, %d cases, %d values checked, %d mismatches%n",
                r.files(), r.cases(), r.values(), r.failures().size());
        assertThat(r.files()).isEqualTo(4);
        assertThat(r.failures()).as("reference mismatches").isEmpty();
        assertThat(r.cases()).isEqualTo(r.casesInFiles());
        assertThat(r.values()).isEqualTo(r.valuesInFiles());
    }

    /**
     * The spec is the case's scheduler and params; the recorded optimizer state of a resume is not
     * part of it.
     */
    private static JsonNode spec(JsonNode recorded) {
        ObjectNode spec = ((ObjectNode) recorded.deepCopy()).retain("scheduler", "params");
        ((ObjectNode) spec.get("params")).remove("resume_group_state");
        return spec;
    }
}
