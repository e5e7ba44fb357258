package io.trainwatch.event;

import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.trainwatch.event.FastPathEquivalence.assertSameAsTree;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The token-stream fast path for step events never changes what the codec accepts, builds or says.
 */
class EventCodecFastPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Values put in place of a field's value: every JSON kind, the spellings Python writes, edge
     * numbers.
     */
    private static final String[] ODD_VALUES = {
        "null",
        "true",
        "\"1\"",
        "\"nan\"",
        "\"inf\"",
        "\"-Infinity\"",
        "NaN",
        "-Infinity",
        "-1",
        "0",
        "1e400",
        "-0.0",
        "12.0",
        "12.5",
        "123456789012345678901234567890",
        "[]",
        "[1,2]",
        "[0.1,\"x\"]",
        "[null]",
        "{}",
        "{\"a\":[1,{\"b\":2}]}",
        "\"\"",
        "\" \"",
        "\"2026-11-21T09:30:00Z\"",
        "\"2026-11-21T09:30:00\"",
        "\"yesterday\"",
        "1795253400.5",
        "\"x\\u00e9\\n\"",
        "[7,\"b8\"]",
        "[1.5]",
        "\"" + "r".repeat(300) + "\""
    };

    private static final String[] FIELDS = {
        "type",
        "run_id",
        "step",
        "time",
        "loss",
        "grad_norm",
        "loss_scale",
        "epoch",
        "lr",
        "batch",
        "step_time_s",
        "tokens",
        "samples",
        "extra"
    };

    static List<String> simulatedLines() {
        List<String> lines = new ArrayList<>();
        for (Fault f : Fault.values()) {
            SimulatedRun run = RunSimulator.generate(4_242 + f.ordinal(), f);
            lines.addAll(run.events());
        }
        return lines;
    }

    @Test
    void shouldTakeTheFastPathForPlainStepsAndAgreeWithTheTreeOnEverySimulatedEvent() {
        int steps = 0;
        int fast = 0;
        for (String line : simulatedLines()) {
            boolean took = assertSameAsTree(line);
            // the simulator writes non-finite numbers as strings ("NaN"), which the tree path reads
            if (line.contains("\"type\":\"step\"")
                    && !line.contains("\"NaN\"")
                    && !line.contains("Infinity\"")) {
                steps++;
                fast += took ? 1 : 0;
            } else if (!line.contains("\"type\":\"step\"")) {
                assertThat(took).as("only step events take the fast path: %s", line).isFalse();
            }
        }
        assertThat(steps).isGreaterThan(10_000);
        // every step with plain numbers is read without a tree
        assertThat(fast).isEqualTo(steps);
    }

    @Test
    void shouldAgreeWithTheTreeWhenAnyFieldOfAStepIsReplacedRemovedOrRepeated() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20_261_121);
        List<String> steps =
                simulatedLines().stream().filter(l -> l.contains("\"type\":\"step\"")).toList();
        int checked = 0;
        for (int i = 0; i < 4_000; i++) {
            ObjectNode step = (ObjectNode) JSON.readTree(steps.get(rnd.nextInt(steps.size())));
            step.put("batch", "b" + i);
            String field = FIELDS[rnd.nextInt(FIELDS.length)];
            String value = ODD_VALUES[rnd.nextInt(ODD_VALUES.length)];
            String base = step.toString();
            List<String> variants =
                    List.of(
                            replaceOrAdd(step, field, value),
                            withoutField(step, field),
                            // a repeated field, written out by hand (a tree cannot hold two)
                            base.substring(0, base.length() - 1)
                                    + ",\""
                                    + field
                                    + "\":"
                                    + value
                                    + "}",
                            base.substring(0, rnd.nextInt(base.length())),
                            base + " trailing",
                            base.replace("\"step\"", "\"Step\""));
            for (String v : variants) {
                assertSameAsTree(v);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(24_000);
    }

    @Test
    void shouldAgreeWithTheTreeOnEveryOddSpellingOfAPlainStep() {
        String head = "{\"type\":\"step\",\"run_id\":\"r\",\"step\":7,";
        // taken by the scanner: plain JSON, whatever its spacing and unknown fields
        for (String plain :
                new String[] {
                    head + "\"loss\":1.5}",
                    "{ \"type\" : \"step\" ,\n\t\"run_id\":\"r\",\r\n\"step\":7, \"loss\" : 1.5 } ",
                    head + "\"loss\":1.5,\"extra\":{\"a\":[1,2,{\"b\":null}],\"c\":true},\"d\":[]}",
                    head + "\"loss\":-0.0,\"lr\":[1e-3,2E-4],\"batch\":[]}",
                    head + "\"loss\":12345678901234567890,\"batch\":[9223372036854775807,\"x\"]}",
                    head + "\"loss\":0.30000000000000004441,\"grad_norm\":123456789012345678.5}",
                    head + "\"loss\":NaN,\"loss_scale\":-Infinity,\"epoch\":null}",
                    head + "\"loss\":1,\"run\u00e9\":\"\u65e5\"}"
                }) {
            assertThat(assertSameAsTree(plain)).as(plain).isTrue();
        }
        // left to the tree: escapes, unusual numbers, anything after the object
        for (String odd :
                new String[] {
                    head + "\"lo\\u0073s\":1.5}",
                    head + "\"loss\":1.5,\"note\":\"a\\nb\"}",
                    head + "\"loss\":01}",
                    head + "\"loss\":.5}",
                    head + "\"loss\":1.}",
                    head + "\"loss\":1e}",
                    head + "\"loss\":+1}",
                    head + "\"loss\":-NaN}",
                    head + "\"loss\":1.5} {}",
                    head + "\"loss\":1.5,}",
                    head + "\"loss\":1.5,\"x\":" + "[".repeat(20) + "]".repeat(20) + "}",
                    head + "\"loss\":1.5,\"step\":8}"
                }) {
            assertThat(assertSameAsTree(odd)).as(odd).isFalse();
        }
    }

    static List<Arguments> malformed() {
        return EventCodecTest.malformed();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void shouldGiveTheTreePathsErrorForEveryMalformedRecord(
            String name, String payload, String field) {
        assertThat(assertSameAsTree(payload)).as(name).isFalse();
    }

    @Test
    void shouldReadEveryNumberSpellingAsTheTreeDoes() {
        for (String v :
                new String[] {
                    "1",
                    "-0",
                    "1E3",
                    "1e-320",
                    "4.9e-324",
                    "1.7976931348623157e308",
                    "9223372036854775807",
                    "9223372036854775808",
                    "0.1000000000000000055511151231257827",
                    "NaN",
                    "Infinity",
                    "-Infinity"
                }) {
            for (String field :
                    new String[] {"loss", "grad_norm", "lr", "time", "step", "epoch", "batch"}) {
                java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
                fields.put("type", "\"step\"");
                fields.put("run_id", "\"r\"");
                fields.put("step", "1");
                fields.put("loss", "1");
                fields.put(field, v);
                StringBuilder line = new StringBuilder("{");
                fields.forEach(
                        (k, val) ->
                                line.append(line.length() > 1 ? "," : "")
                                        .append('"')
                                        .append(k)
                                        .append("\":")
                                        .append(val));
                assertSameAsTree(line.append('}').toString());
            }
        }
    }

    @Test
    void shouldReadBytesAsTheirUtf8TextWhateverTheEncodingOrDamage() {
        String step =
                "{\"type\":\"step\",\"run_id\":\"r\u00e9-\u65e5\",\"step\":3,\"loss\":1.5,\"lr\":[0.001],\"batch\":\"b\u00e9\",\"note\":\"x\"}";
        assertThat(assertSameAsTree(step)).as("a non-ASCII step takes the fast path").isTrue();
        byte[] utf8 = step.getBytes(StandardCharsets.UTF_8);
        List<byte[]> odd = new ArrayList<>();
        odd.add(step.getBytes(StandardCharsets.UTF_16BE));
        odd.add(step.getBytes(StandardCharsets.UTF_16LE));
        odd.add(step.getBytes(StandardCharsets.UTF_16)); // with a byte order mark
        odd.add(
                concat(
                        new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                        utf8)); // UTF-8 byte order mark
        odd.add(step.getBytes(StandardCharsets.ISO_8859_1)); // é as a lone 0xE9
        for (String where : new String[] {"r\u00e9", "b\u00e9", "\"x\""}) {
            int at = step.indexOf(where);
            assertThat(at).isPositive();
            for (byte bad : new byte[] {(byte) 0x80, (byte) 0xC3, (byte) 0xFF, (byte) 0xED, 0}) {
                byte[] b = utf8.clone();
                b[
                                new String(b, StandardCharsets.UTF_8)
                                                .substring(0, at)
                                                .getBytes(StandardCharsets.UTF_8)
                                                .length
                                        + 1] =
                        bad;
                odd.add(b);
            }
        }
        odd.add(new byte[0]);
        odd.add(new byte[] {'{'});
        odd.add(java.util.Arrays.copyOf(utf8, utf8.length - 3)); // cut inside the last field
        for (byte[] b : odd) {
            FastPathEquivalence.assertSameAsTree(b);
        }
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 2_000; i++) {
            byte[] b = utf8.clone();
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            FastPathEquivalence.assertSameAsTree(b);
        }
    }

    @Test
    void shouldReadEveryDoubleExactlyAsDoubleParseDouble() throws Exception {
        EventCodec codec = new EventCodec();
        SplittableRandom rnd = new SplittableRandom(1_234);
        for (int i = 0; i < 20_000; i++) {
            double d =
                    switch (i % 4) {
                        case 0 ->
                                Double.longBitsToDouble(
                                        rnd.nextLong()
                                                & 0x7FEF_FFFF_FFFF_FFFFL); // any positive finite
                        // double
                        case 1 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(-12, 12));
                        case 2 -> Math.scalb(rnd.nextDouble(), -1_070); // subnormals
                        default -> rnd.nextInt(1_000_000) / 1e6;
                    };
            // the shortest spelling, 17 digits, and a long digit string that needs correct rounding
            for (String text :
                    new String[] {
                        Double.toString(d),
                        String.format(java.util.Locale.ROOT, "%.17g", d),
                        new java.math.BigDecimal(d)
                                .toPlainString()
                                .substring(
                                        0,
                                        Math.min(
                                                60,
                                                new java.math.BigDecimal(d)
                                                        .toPlainString()
                                                        .length()))
                    }) {
                String line =
                        "{\"type\":\"step\",\"run_id\":\"r\",\"step\":1,\"loss\":"
                                + text
                                + ",\"lr\":["
                                + text
                                + "]}";
                double expected = Double.parseDouble(text);
                TrainingEvent e = codec.parse(line.getBytes(StandardCharsets.UTF_8));
                assertThat(e.loss).as(text).isEqualTo(expected);
                assertThat(e.lr[0]).as(text).isEqualTo(expected);
                assertThat(codec.parseTree(line).loss).as(text).isEqualTo(expected);
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String replaceOrAdd(ObjectNode step, String field, String value)
            throws Exception {
        ObjectNode copy = step.deepCopy();
        JsonNode v =
                value.equals("NaN") || value.equals("-Infinity") || value.equals("1e400")
                        ? null
                        : JSON.readTree(value);
        if (v == null) {
            copy.remove(field);
            String s = copy.toString();
            return s.substring(0, s.length() - 1) + ",\"" + field + "\":" + value + "}";
        }
        copy.set(field, v);
        return copy.toString();
    }

    private static String withoutField(ObjectNode step, String field) {
        ObjectNode copy = step.deepCopy();
        copy.remove(field);
        return copy.toString();
    }

    @Test
    void shouldLeaveBytesThatAreNotUtf8ToTheTextPathEvenInAFieldName() {
        // Jackson matches a name's bytes to names it has seen without decoding them: once "run_id"
        // is known, the bytes of
        // "run_\xFFid" (0xFF padding the last quad) used to match it on the byte path, while the
        // text path reads U+FFFD there
        assertSameAsTree("{\"type\":\"step\",\"run_id\":\"warm\",\"step\":1,\"loss\":1.0}");
        byte[] before = "{\"type\":\"step\",\"run_".getBytes(StandardCharsets.UTF_8);
        byte[] after = "id\":\"r\",\"step\":3,\"loss\":2.0}".getBytes(StandardCharsets.UTF_8);
        for (int bad : new int[] {0xFF, 0xFE, 0x80, 0xC0, 0xF5}) {
            byte[] b = new byte[before.length + 1 + after.length];
            System.arraycopy(before, 0, b, 0, before.length);
            b[before.length] = (byte) bad;
            System.arraycopy(after, 0, b, before.length + 1, after.length);
            FastPathEquivalence.assertSameAsTree(b);
            assertThat(EventCodec.FAST_PATH.tryParse(b)).as("byte 0x%02X", bad).isNull();
        }
        // overlong, surrogate and past-U+10FFFF forms are not UTF-8 either; a real multi-byte
        // character is
        assertThat(StepFastPath.isWellFormedUtf8(new byte[] {(byte) 0xC0, (byte) 0x80})).isFalse();
        assertThat(
                        StepFastPath.isWellFormedUtf8(
                                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}))
                .isFalse();
        assertThat(
                        StepFastPath.isWellFormedUtf8(
                                new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}))
                .isFalse();
        assertThat(StepFastPath.isWellFormedUtf8(new byte[] {(byte) 0xE2, (byte) 0x82})).isFalse();
        assertThat(
                        StepFastPath.isWellFormedUtf8(
                                "\u00e9\u65e5\uD83D\uDE00".getBytes(StandardCharsets.UTF_8)))
                .isTrue();
    }
}
