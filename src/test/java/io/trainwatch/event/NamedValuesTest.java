package io.trainwatch.event;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NamedValuesTest {
    static NamedValues everyKind() {
        return NamedValues.builder()
                .put("int", 12)
                .put("long", 1L << 40)
                .put("whole_double", 12.0)
                .put("double", 1.0e-5)
                .put("nan", Double.NaN)
                .put("infinity", Double.NEGATIVE_INFINITY)
                .put("negative_zero", -0.0)
                .put("unknown", (Double) null)
                .put("flag", true)
                .put("text", "a \"quoted\" \u0000 text")
                .put("no_text", (String) null)
                .put("doubles", new double[] {0.5, Double.NaN, 3})
                .put("strings", Arrays.asList("step 4", null))
                .put("empty", List.of())
                .build();
    }

    /** The alert JSON detectors wrote before they built NamedValues: the text must not change. */
    @Test
    void shouldWriteTheSameJsonAsTheObjectsDetectorsWroteAsText() {
        String before =
                JsonWriter.object(
                        "int",
                        12,
                        "long",
                        1L << 40,
                        "whole_double",
                        12.0,
                        "double",
                        1.0e-5,
                        "nan",
                        Double.NaN,
                        "infinity",
                        Double.NEGATIVE_INFINITY,
                        "negative_zero",
                        -0.0,
                        "unknown",
                        null,
                        "flag",
                        true,
                        "text",
                        "a \"quoted\" \u0000 text",
                        "no_text",
                        null,
                        "doubles",
                        new double[] {0.5, Double.NaN, 3},
                        "strings",
                        new String[] {"step 4", null},
                        "empty",
                        new String[0]);
        assertThat(JsonWriter.namedValues(everyKind()))
                .isEqualTo(before)
                .contains("\"int\":12,", "\"whole_double\":12.0,", "\"nan\":\"NaN\"");
        assertThat(everyKind()).hasToString(before);
        assertThat(JsonWriter.namedValues(null)).isNull();
    }

    @Test
    void shouldKeepTheOrderAndReplaceARepeatedNameInItsFirstPlace() {
        NamedValues v =
                NamedValues.builder()
                        .put("a", 1)
                        .put("b", 2)
                        .putAll(NamedValues.builder().put("c", 3).put("a", 4.5).build())
                        .build();
        assertThat(v.size()).isEqualTo(3);
        assertThat(List.of(v.name(0), v.name(1), v.name(2))).containsExactly("a", "b", "c");
        assertThat(v.value(0)).isEqualTo(4.5);
        assertThat(JsonWriter.namedValues(v)).isEqualTo("{\"a\":4.5,\"b\":2,\"c\":3}");
    }

    @Test
    void shouldBeEqualByContentWithEveryIntegerALong() {
        assertThat(NamedValues.builder().put("n", 3).build())
                .isEqualTo(NamedValues.builder().put("n", 3L).build())
                .hasSameHashCodeAs(NamedValues.builder().put("n", 3L).build())
                .isNotEqualTo(NamedValues.builder().put("n", 3.0).build());
        assertThat(NamedValues.builder().put("n", 3).build().value(0)).isEqualTo(3L);
        assertThat(everyKind()).isEqualTo(everyKind()).hasSameHashCodeAs(everyKind());
        assertThat(NamedValues.builder().put("a", 1).put("b", 2).build())
                .isNotEqualTo(NamedValues.builder().put("b", 2).put("a", 1).build());
    }

    @Test
    void shouldNotChangeWhenWhatItWasBuiltFromChanges() {
        double[] grads = {1, 2};
        List<String> batches = new ArrayList<>(List.of("b1"));
        NamedValues.Builder b = NamedValues.builder().put("grads", grads).put("batches", batches);
        NamedValues v = b.build();
        grads[0] = 99;
        batches.add("b2");
        b.put("later", 1);
        assertThat(JsonWriter.namedValues(v))
                .isEqualTo("{\"grads\":[1.0,2.0],\"batches\":[\"b1\"]}");
        assertThatThrownBy(() -> ((List<?>) v.value(1)).clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
