package io.trainwatch.event;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.trainwatch.event.JsonText.bare;
import static io.trainwatch.event.JsonText.str;

/**
 * Hostile JSON values by class, written as raw text: numbers a JSON writer would never produce
 * (bare NaN, 1e999, subnormals, integers past 2^63), strings with control, bidi, zero-width and
 * unpaired-surrogate characters, wrong types, empty and huge arrays, deep nesting. Large values are
 * built once and shared, so a generator can hand out thousands of them without holding thousands of
 * copies.
 */
public final class HostileValues {
    /** 100,000 characters: a string far over every id and name limit. */
    static final JsonText.Str HUGE_STRING = str("x".repeat(100_000));

    /** 10,000 elements. */
    static final JsonText HUGE_ARRAY = repeated(bare("1"), 10_000);

    static final JsonText HUGE_STRING_ARRAY = repeated(str("b"), 10_000);

    /** An object of 5,000 members. */
    static final JsonText HUGE_OBJECT = hugeObject(5_000);

    /** A name past the JSON reader's limit (50,000 characters). */
    static final String HUGE_KEY = "k".repeat(60_000);

    /** Over {@link EventCodec#MAX_EVENT_CHARS} on its own. */
    static final JsonText.Str OVER_ONE_MIB = str("y".repeat(EventCodec.MAX_EVENT_CHARS + 10));

    /** Numbers, and the spellings of non-finite numbers (bare and quoted). */
    static final String[] NUMBERS = {
        "-1",
        "0",
        "-0",
        "-0.0",
        "0.0",
        "1",
        "0.5",
        "1e999",
        "-1e999",
        "1e-320",
        "4.9E-324",
        "-4.9e-324",
        "2.2250738585072014E-308",
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "1e308",
        "1e-300",
        "1e300",
        "NaN",
        "Infinity",
        "-Infinity",
        "+Infinity",
        "-NaN",
        "\"nan\"",
        "\"NaN\"",
        "\"-nan\"",
        "\"inf\"",
        "\"-inf\"",
        "\"Infinity\"",
        "\"-infinity\"",
        "\" nan \"",
        "\"+inf\"",
        "\"1.5\"",
        "\"\"",
        "9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "1" + "0".repeat(400),
        "0." + "0".repeat(400) + "1",
        "1e16",
        "12.0",
        "12.5",
        "1.0E1",
        "1E+2",
        "0.1e-5",
        "123456789.123456789e-3",
        "1e-7",
        "3.0e-5",
        "100000000000000000000.0",
        "0.30000000000000004",
        "-1e-320",
        "1.0000000000000002",
        "1" + "0".repeat(1_500),
        "-0." + "0".repeat(1_200) + "1",
        "0.9999999999999999",
        "65536",
        "2147483648"
    };

    /** Integers at and past every boundary (int, 2^53, long), and what is not quite an integer. */
    static final String[] INTEGERS = {
        "-1",
        "0",
        "1",
        "2",
        "3",
        "-0",
        "12.0",
        "12.5",
        "1e3",
        "1E3",
        "1000.0",
        "1000.0000001",
        "2147483647",
        "2147483648",
        "4294967296",
        "4294967297",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "4503599627370496",
        "9223372036854775806",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1" + "0".repeat(30),
        "1e15",
        "9e15",
        "1e16",
        "1e18",
        "1e19",
        "1e308",
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "-Infinity",
        "4.9e-324",
        "\"12\"",
        "\"nan\"",
        "1000000",
        "1000001",
        "1000000000",
        "1000000001",
        "256",
        "257",
        "1024",
        "1025",
        "32",
        "33",
        "65536"
    };

    /** Integer values that stay valid for a non-negative integer argument but sit at its edges. */
    static final long[] EDGE_LONGS = {
        0,
        1,
        2,
        3,
        7,
        100,
        1_000,
        65_536,
        1_000_000,
        Integer.MAX_VALUE,
        1L << 31,
        1L << 32,
        1L << 40,
        1L << 47,
        (1L << 53) - 1,
        1L << 53,
        1L << 62,
        Long.MAX_VALUE - 1,
        Long.MAX_VALUE
    };

    /** Doubles that stay valid for a positive argument but sit at its edges. */
    static final double[] EDGE_DOUBLES = {
        Double.MIN_VALUE,
        1e-320,
        Double.MIN_NORMAL,
        1e-300,
        1e-30,
        1e-10,
        1e-6,
        0.001,
        0.1,
        0.5,
        0.9999999999999999,
        1,
        1.0000000000000002,
        2,
        10,
        1e6,
        1e15,
        1e100,
        1e300,
        Double.MAX_VALUE,
        0.0,
        -0.0
    };

    /**
     * String contents, raw between the quotes: empty, control characters (raw, which is broken
     * JSON, and escaped), bidi overrides and isolates, zero-width characters, line separators,
     * unpaired and paired surrogates, noncharacters, injection-looking text, lengths at and past
     * 256.
     */
    static final String[] STRINGS = {
        "",
        " ",
        "  \\t ",
        "a",
        "\\u0000",
        "a\\u0000b",
        "\u0000",
        "a\u0001b",
        "\\u001f",
        "\\u007f",
        "\u007f",
        "\\u0085",
        "\u0085",
        "\\u202e",
        "abc\u202Edef",
        "\u2066x\u2069",
        "\\u2067\\u2068",
        "\u200B",
        "zero\u200Dwidth",
        "\uFEFF",
        "\\ufeffbom",
        "\u2028",
        "\\u2029",
        "\\ud800",
        "\\udc00",
        "x\\ud800y",
        "\\udbff\\udfff",
        "\\ud83d\\ude00",
        "\uD83D\uDE00",
        "e\u0301",
        "\\uffff",
        "\\ufffe",
        "\uE000",
        "\u05e2\u05d1\u05e8\u05d9\u05ea",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
        "'; DROP TABLE trainwatch_alerts; --",
        "${jndi:ldap://x/a}",
        "%s%n%x",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "\\\"quoted\\\"",
        "back\\\\slash",
        "\\/",
        "\\x41",
        "\\u12",
        "\\u",
        "\\",
        "sim-none-1",
        "run_start",
        "step",
        "\uD83D\uDC68\u200D\uD83D\uDC69",
        "r".repeat(256),
        "r".repeat(257),
        "\u00e9".repeat(256),
        "\uD83D\uDE00".repeat(128),
        "\uD83D\uDE00".repeat(129),
        "\u4e2d".repeat(256),
        "\\u00e9",
        "NaN",
        "null",
        "true",
        "1"
    };

    /** Values of every other JSON type. */
    static final String[] OTHER_TYPES = {
        "true",
        "false",
        "null",
        "[]",
        "{}",
        "[1]",
        "[[1]]",
        "{\"a\":1}",
        "[null]",
        "[\"a\",1,null,{}]",
        "{\"\":null}",
        "\"\""
    };

    /** Text that is not a JSON value at all (a record holding it is broken JSON). */
    static final String[] NOT_JSON = {
        "",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "0x1F",
        "1_000",
        "--1",
        "nan",
        "inf",
        "NaNa",
        "tru",
        "nul",
        "'a'",
        "undefined",
        "/*c*/1",
        "1 2",
        "\u0661",
        "[1,]",
        "{\"a\":}",
        "[",
        "{",
        "}",
        "]",
        ",",
        ":",
        "\"unterminated"
    };

    private HostileValues() {}

    static JsonText repeated(JsonText item, int n) {
        List<JsonText> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            items.add(item);
        }
        return new JsonText.Arr(items);
    }

    private static JsonText hugeObject(int n) {
        List<JsonText.Member> m = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            m.add(new JsonText.Member("k" + i, bare("1")));
        }
        return new JsonText.Obj(m);
    }

    /**
     * {@code depth} arrays (or objects) nested in one another: a single Bare text, so no renderer
     * recursion.
     */
    static JsonText nested(int depth, boolean objects) {
        if (objects) {
            return bare("{\"a\":".repeat(depth) + "1" + "}".repeat(depth));
        }
        return bare("[".repeat(depth) + "1" + "]".repeat(depth));
    }

    static <T> T pick(SplittableRandom r, T[] values) {
        return values[r.nextInt(values.length)];
    }

    static JsonText number(SplittableRandom r) {
        return bare(pick(r, NUMBERS));
    }

    static JsonText integer(SplittableRandom r) {
        return bare(pick(r, INTEGERS));
    }

    static JsonText string(SplittableRandom r) {
        return str(pick(r, STRINGS));
    }

    /**
     * A value of any class; large ones (huge strings and arrays, deep nesting, over 1 MiB) rarely.
     */
    static JsonText any(SplittableRandom r) {
        int k = r.nextInt(100);
        if (k < 25) {
            return number(r);
        } else if (k < 40) {
            return integer(r);
        } else if (k < 65) {
            return string(r);
        } else if (k < 85) {
            return bare(pick(r, OTHER_TYPES));
        } else if (k < 98) {
            return bare(pick(r, NOT_JSON));
        }
        return large(r);
    }

    /**
     * Something big or deep: nesting around the 32-level limit and far past it, 10,000-element
     * arrays, 100 KB strings.
     */
    static JsonText large(SplittableRandom r) {
        int k = r.nextInt(100);
        if (k < 30) {
            return nested(new int[] {20, 30, 31, 32, 33, 64}[r.nextInt(6)], r.nextBoolean());
        } else if (k < 34) {
            return nested(r.nextBoolean() ? 1_000 : 20_000, r.nextBoolean());
        } else if (k < 55) {
            return r.nextBoolean() ? HUGE_ARRAY : HUGE_STRING_ARRAY;
        } else if (k < 75) {
            return HUGE_STRING;
        } else if (k < 88) {
            return HUGE_OBJECT;
        } else if (k < 90) {
            return OVER_ONE_MIB; // rare: each costs a megabyte's parse several times over
        }
        return numberList(r, 1 + r.nextInt(2_000));
    }

    static JsonText numberList(SplittableRandom r, int n) {
        List<JsonText> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            items.add(
                    r.nextInt(10) == 0 ? number(r) : bare(Double.toString(r.nextDouble() * 1e-3)));
        }
        return new JsonText.Arr(items);
    }

    /**
     * A hostile value of the same class as {@code original} most of the time, of any class
     * otherwise.
     */
    static JsonText like(SplittableRandom r, JsonText original) {
        if (r.nextInt(5) == 0) {
            return any(r);
        }
        if (original instanceof JsonText.Str) {
            return string(r);
        }
        if (original instanceof JsonText.Arr a) {
            return hostileList(r, a);
        }
        if (original instanceof JsonText.Obj) {
            return r.nextBoolean() ? bare(pick(r, OTHER_TYPES)) : large(r);
        }
        if (original instanceof JsonText.Bare b && isIntegerText(b.raw())) {
            return r.nextInt(3) == 0 ? bare(Long.toString(pick(r, EDGE_LONGS_BOXED))) : integer(r);
        }
        return r.nextInt(3) == 0
                ? JsonText.number(EDGE_DOUBLES[r.nextInt(EDGE_DOUBLES.length)])
                : number(r);
    }

    private static final Long[] EDGE_LONGS_BOXED =
            java.util.Arrays.stream(EDGE_LONGS).boxed().toArray(Long[]::new);

    static boolean isIntegerText(String s) {
        return s.matches("-?\\d+");
    }

    /**
     * A list gone wrong: empty, one element hostile, an element removed or repeated, nested, or
     * huge.
     */
    static JsonText hostileList(SplittableRandom r, JsonText.Arr a) {
        List<JsonText> items = new ArrayList<>(a.items());
        switch (r.nextInt(7)) {
            case 0 -> {
                return new JsonText.Arr(List.of());
            }
            case 1 -> {
                if (!items.isEmpty()) {
                    int i = r.nextInt(items.size());
                    items.set(i, like(r, items.get(i)));
                }
            }
            case 2 -> {
                if (!items.isEmpty()) {
                    items.remove(r.nextInt(items.size()));
                }
            }
            case 3 -> {
                if (!items.isEmpty()) {
                    items.add(items.get(r.nextInt(items.size())));
                }
                items.add(
                        r.nextBoolean()
                                ? JsonText.number(0)
                                : new JsonText.Arr(List.copyOf(items)));
            }
            case 4 -> {
                return r.nextBoolean() ? HUGE_ARRAY : numberList(r, 1_000 + r.nextInt(1_100));
            }
            case 5 -> {
                java.util.Collections.reverse(items);
                items.add(JsonText.number(pick(r, EDGE_LONGS_BOXED)));
            }
            default -> {
                return any(r);
            }
        }
        return new JsonText.Arr(items);
    }
}
