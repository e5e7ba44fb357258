package io.trainwatch.schedule;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every bad spec in src/test/resources/schedule/bad-specs.txt fails with one clear message naming
 * the field and what is allowed. The table is the contract: each row's message was read and judged
 * clear.
 */
class ScheduleSpecErrorsTest {
    static List<Arguments> badSpecs() throws IOException {
        List<Arguments> rows = new ArrayList<>();
        try (InputStream in =
                ScheduleSpecErrorsTest.class.getResourceAsStream("/schedule/bad-specs.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] cols = line.split(" \\| ", 3);
                rows.add(Arguments.of(cols[0], cols[1], cols[2]));
            }
        }
        assertThat(rows).hasSizeGreaterThan(50);
        return rows;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSpecs")
    void shouldRejectBadSpecNamingTheField(String name, String spec, String expectedMessage) {
        InvalidScheduleException e =
                catchThrowableOfType(
                        InvalidScheduleException.class, () -> ScheduleSpec.parse(spec));
        assertThat(e).as("spec must be rejected: " + spec).isNotNull();
        if (expectedMessage.endsWith("; known:") || expectedMessage.endsWith("; names:")) {
            assertThat(e.getMessage()).startsWith(expectedMessage);
        } else if (expectedMessage.endsWith("must be an object with a \"name\"")) {
            assertThat(e.getMessage())
                    .startsWith(expectedMessage)
                    .endsWith("arbitrary Python lambdas cannot be declared");
        } else {
            assertThat(e.getMessage()).isEqualTo(expectedMessage);
        }
        assertThat(e.getMessage()).contains(e.field() + ":");
    }
}
