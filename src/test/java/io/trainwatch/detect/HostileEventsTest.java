package io.trainwatch.detect;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.FastPathEquivalence;
import io.trainwatch.event.FuzzSettings;
import io.trainwatch.event.HostileEvents;
import io.trainwatch.event.InvalidEventException;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.ScheduleSpecGenerator;
import io.trainwatch.event.SequenceShrinker;
import io.trainwatch.event.SeriesPoint;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.job.KafkaSerde;
import io.trainwatch.threshold.Thresholds;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property: whatever records arrive, in whatever order, the codec refuses what it cannot accept
 * with an {@link InvalidEventException} naming a field and a reason (and nothing else escapes it),
 * the fast path agrees with the tree path, the monitor judges every accepted event without a
 * monitor error (one would mean a guard is missing), and every output — alerts, series points, dead
 * letters, the event written back — is strict, well-formed JSON that fits a Kafka record. Records
 * come from {@link HostileEvents} (seed printed; {@code -Dtrainwatch.fuzz.seed=N} replays it,
 * {@code -Dtrainwatch.fuzz.records=N} sets how many). A failure is shrunk to the smallest records
 * that still fail the same way, and printed with the seed.
 */
class HostileEventsTest {
    static final int DEFAULT_RECORDS = 50_000;

    /**
     * A Kafka record (key, value, headers) above this would be refused by a broker with default
     * limits (1 MiB), with margin.
     */
    static final int MAX_KAFKA_RECORD_BYTES = 1_000_000;

    /**
     * Distinct failures shrunk and printed (each shrink runs the property up to {@link
     * #SHRINK_CHECKS} times).
     */
    static final int MAX_FAILURES_SHRUNK = 12;

    static final int SHRINK_CHECKS = 4_000;
    static final long SHRINK_MILLIS = 20_000;

    /** CPU time of this thread: wall time on a machine shared with other builds says little. */
    static final java.lang.management.ThreadMXBean CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    @Test
    void shouldHaveATemplateForEverySchedulerFamily() {
        assertThat(ScheduleSpecGenerator.uncoveredFamilies()).isEmpty();
    }

    @Test
    void shouldGenerateTheSameRecordsFromTheSameSeed() {
        long seed = FuzzSettings.seed();
        List<String> first =
                new HostileEvents(seed)
                        .generate(3_000).stream().map(HostileEvents.Generated::text).toList();
        List<String> again =
                new HostileEvents(seed)
                        .generate(3_000).stream().map(HostileEvents.Generated::text).toList();
        assertThat(again).as("records of seed %d generated twice", seed).isEqualTo(first);
        assertThat(
                        new HostileEvents(seed + 1)
                                .generate(100).stream().map(HostileEvents.Generated::text).toList())
                .isNotEqualTo(first.subList(0, 100));
    }

    /**
     * The largest alert one accepted step can cause: NON_FINITE quotes the step's batch ids five
     * times (message, diagnosis, evidence, skip_batches, change), and an accepted step carries up
     * to 256 ids of 256 characters, three UTF-8 bytes each.
     */
    @Test
    void shouldFitTheLargestAlertAStepCanCauseInAKafkaRecord() throws Exception {
        String runId = "\u4e2d".repeat(256);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            ids.add("\u4e2d".repeat(250) + String.format("%06d", i));
        }
        EventCodec codec = new EventCodec();
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        RunState state = new RunState();
        List<Alert> alerts = new ArrayList<>();
        for (int s = 0; s < 60; s++) {
            boolean nan = s == 59;
            TrainingEvent e =
                    codec.parse(
                            JsonWriter.object(
                                    "type",
                                    "step",
                                    "run_id",
                                    runId,
                                    "step",
                                    s,
                                    "loss",
                                    nan ? Double.NaN : 1.0,
                                    "grad_norm",
                                    nan ? Double.NaN : 1.0,
                                    "batch",
                                    ids));
            alerts.addAll(monitor.onEvent(state, e).alerts());
        }
        assertThat(alerts).extracting(a -> a.kind).containsExactly("NON_FINITE");
        ProducerRecord<byte[], byte[]> record =
                new KafkaSerde.AlertSerializationSchema("alerts")
                        .serialize(alerts.get(0), null, null);
        System.out.printf(
                "largest NON_FINITE alert: %d bytes of key and value%n",
                record.key().length + record.value().length);
        assertThat(record.key().length + record.value().length)
                .isGreaterThan(900_000)
                .isLessThanOrEqualTo(MAX_KAFKA_RECORD_BYTES);
    }

    @Test
    void shouldJudgeEveryHostileRecordWithoutErrorsAndWriteEveryOutput() {
        long seed = FuzzSettings.seed();
        int count = FuzzSettings.records(DEFAULT_RECORDS);
        System.out.printf(
                "HostileEventsTest: seed %d (-D%s=%d replays it), %d records%n",
                seed, FuzzSettings.SEED_PROPERTY, seed, count);
        long t0 = System.nanoTime();
        long cpu0 = CPU.getCurrentThreadCpuTime();
        HostileEvents generator = new HostileEvents(seed);
        Judge judge = new Judge();
        List<HostileEvents.Generated> all = new ArrayList<>(count);
        // first failure of each signature, and the records of its run up to it
        Map<String, List<HostileEvents.Generated>> failures = new LinkedHashMap<>();
        Map<String, Integer> failureCounts = new TreeMap<>();
        Map<String, List<Integer>> accepted = new HashMap<>();
        Map<String, Long> nanosByKind = new TreeMap<>();
        long slowestNanos = 0;
        HostileEvents.Generated slowest = null;
        for (int i = 0; i < count; i++) {
            HostileEvents.Generated g = generator.next();
            all.add(g);
            long j0 = System.nanoTime();
            Judge.Verdict v = judge.judge(g);
            long took = System.nanoTime() - j0;
            nanosByKind.merge(kindClass(g.kind()), took, Long::sum);
            if (took > slowestNanos) {
                slowestNanos = took;
                slowest = g;
            }
            if (v.runId() != null) {
                accepted.computeIfAbsent(v.runId(), k -> new ArrayList<>()).add(i);
            }
            if (v.failure() != null) {
                failureCounts.merge(v.failure(), 1, Integer::sum);
                if (!failures.containsKey(v.failure())) {
                    List<HostileEvents.Generated> history = new ArrayList<>();
                    if (v.runId() != null) {
                        accepted.get(v.runId()).forEach(k -> history.add(all.get(k)));
                    } else {
                        history.add(g);
                    }
                    failures.put(v.failure(), history);
                }
            }
        }
        long judgedMillis = (System.nanoTime() - t0) / 1_000_000;
        long cpuMillis = (CPU.getCurrentThreadCpuTime() - cpu0) / 1_000_000;
        System.out.printf(
                "HostileEventsTest: %d records generated and judged in %d ms (%d ms of CPU): %d accepted, %d refused by the codec, %d alerts, %d series points, %d failures%n",
                count,
                judgedMillis,
                cpuMillis,
                judge.accepted,
                judge.refused,
                judge.alerts,
                judge.series,
                failureCounts.values().stream().mapToInt(Integer::intValue).sum());
        System.out.println("HostileEventsTest: records by kind " + judge.kinds);
        Map<String, Long> millisByKind = new TreeMap<>();
        nanosByKind.forEach(
                (k, n) -> {
                    if (n >= 50_000_000) {
                        millisByKind.put(k, n / 1_000_000);
                    }
                });
        System.out.printf(
                "HostileEventsTest: ms by kind (50 ms and more) %s; slowest record %d ms: [%s] %s%n",
                millisByKind,
                slowestNanos / 1_000_000,
                slowest == null ? "" : slowest.kind(),
                slowest == null ? "" : abbreviate(slowest.text()));

        List<String> report = new ArrayList<>();
        int shrunk = 0;
        for (Map.Entry<String, List<HostileEvents.Generated>> f : failures.entrySet()) {
            if (shrunk++ >= MAX_FAILURES_SHRUNK) {
                report.add(f.getKey() + " (x" + failureCounts.get(f.getKey()) + ", not shrunk)");
                continue;
            }
            long s0 = System.nanoTime();
            List<HostileEvents.Generated> smallest =
                    SequenceShrinker.shrink(
                            f.getValue(),
                            f.getKey(),
                            records -> new Judge().failureOf(records),
                            SHRINK_CHECKS,
                            SHRINK_MILLIS);
            StringBuilder b =
                    new StringBuilder(f.getKey())
                            .append(" (x")
                            .append(failureCounts.get(f.getKey()))
                            .append("; seed ")
                            .append(seed)
                            .append("; shrunk from ")
                            .append(f.getValue().size())
                            .append(" to ")
                            .append(smallest.size())
                            .append(" records in ")
                            .append((System.nanoTime() - s0) / 1_000_000)
                            .append(" ms):");
            for (HostileEvents.Generated g : smallest) {
                b.append("\n    [").append(g.kind()).append("] ").append(abbreviate(g.text()));
            }
            String detail = new Judge().detailOf(smallest);
            if (detail != null) {
                b.append("\n    -> ").append(detail.replace("\n", "\n       "));
            }
            report.add(b.toString());
        }
        report.forEach(r -> System.out.println("HostileEventsTest FAILURE: " + r));
        assertThat(report)
                .as(
                        "failures with seed %d (rerun with -D%s=%d)",
                        seed, FuzzSettings.SEED_PROPERTY, seed)
                .isEmpty();
        assertThat(judge.accepted)
                .as("the generator keeps most runs alive")
                .isGreaterThan(count / 4);
        assertThat(judge.refused).as("and hostile records are refused").isGreaterThan(count / 10);
        assertThat(judge.alerts).as("detectors fire on the runs").isPositive();
    }

    private static final java.util.regex.Pattern KIND_DETAIL =
            java.util.regex.Pattern.compile("\\(.*\\)|:.*");

    /**
     * "step.loss:replace" -> "step.loss", "run_start.schedule(CyclicLR)" -> "run_start.schedule":
     * what a record's kind counts under.
     */
    static String kindClass(String kind) {
        return KIND_DETAIL.matcher(kind).replaceAll("");
    }

    static String abbreviate(String s) {
        String t =
                s.length() <= 600
                        ? s
                        : s.substring(0, 300)
                                + "...("
                                + s.length()
                                + " chars)..."
                                + s.substring(s.length() - 200);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            // show invisible and control characters by their code point, so the printed record is
            // the record
            int type = Character.getType(c);
            if (c < 0x20
                    || c == 0x7f
                    || type == Character.FORMAT
                    || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || type == Character.CONTROL) {
                b.append(String.format("<U+%04X>", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * Judges records one by one as the pipeline does (codec, then the run's monitor state) and
     * checks every property; one instance per sequence judged.
     */
    static final class Judge {
        private final EventCodec codec = new EventCodec();
        private final RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        private final Map<String, RunState> states = new HashMap<>();
        private final KafkaSerde.AlertSerializationSchema alertSerde =
                new KafkaSerde.AlertSerializationSchema("alerts");
        private final KafkaSerde.SeriesSerializationSchema seriesSerde =
                new KafkaSerde.SeriesSerializationSchema("series");
        private final KafkaSerde.DeadLetterSerializationSchema deadSerde =
                new KafkaSerde.DeadLetterSerializationSchema("dead-letters");
        final Map<String, Integer> kinds = new TreeMap<>();
        long accepted;
        long refused;
        long alerts;
        long series;

        /** What went wrong, in full (the signature is its class). */
        String detail;

        /**
         * @param failure the failure's signature, null if every property held; {@code runId}: the
         *     run the event was judged for
         */
        record Verdict(String failure, String runId) {}

        /**
         * Signature of the first failure in {@code records}, judged in order from fresh state, or
         * null.
         */
        String failureOf(List<HostileEvents.Generated> records) {
            for (HostileEvents.Generated g : records) {
                Verdict v = judge(g);
                if (v.failure() != null) {
                    return v.failure();
                }
            }
            return null;
        }

        /**
         * The full story of the first failure in {@code records}: its message, and for a monitor
         * error the exception's stack.
         */
        String detailOf(List<HostileEvents.Generated> records) {
            return failureOf(records) == null ? null : detail;
        }

        Verdict judge(HostileEvents.Generated g) {
            kinds.merge(kindClass(g.kind()), 1, Integer::sum);
            String text = g.text();
            TrainingEvent e;
            try {
                if (g.utf8() != null) {
                    FastPathEquivalence.assertSameAsTree(g.utf8());
                    e = codec.parse(g.utf8());
                } else {
                    FastPathEquivalence.assertSameAsTree(text);
                    e = codec.parse(text);
                }
            } catch (InvalidEventException ex) {
                refused++;
                String f = refusalProblem(ex);
                if (f != null) {
                    return new Verdict(f, null);
                }
                return new Verdict(
                        deadLetterProblem(
                                DeadLetter.of(text, ex.field(), ex.getMessage(), "fuzz:1")),
                        null);
            } catch (AssertionError ex) {
                detail = ex.getMessage();
                return new Verdict("codec: the fast path and the tree path disagree", null);
            } catch (Throwable ex) {
                detail = stackTrace(ex);
                return new Verdict(
                        "codec threw " + ex.getClass().getName() + " at " + where(ex), null);
            }
            accepted++;
            String written = roundTripProblem(e);
            if (written != null) {
                return new Verdict(written, e.runId);
            }
            RunMonitor.Output out;
            RunState state = states.computeIfAbsent(e.runId, k -> new RunState());
            try {
                out = monitor.onEvent(state, e);
            } catch (Throwable ex) {
                detail = stackTrace(ex);
                return new Verdict(
                        "monitor threw " + ex.getClass().getName() + " at " + where(ex), e.runId);
            }
            for (Alert a : out.alerts()) {
                alerts++;
                if (a.kind.equals(AlertKind.MONITOR_ERROR.name())) {
                    Throwable cause = containedError(state, e);
                    detail = a.message + "\n" + (cause == null ? a.evidence : stackTrace(cause));
                    String at =
                            cause == null
                                    ? RunFixture.json(a.evidence)
                                            .path("at")
                                            .asText()
                                            .replaceAll("\\(.*\\)", "")
                                    : where(cause, 3);
                    return new Verdict(
                            "MONITOR_ERROR: "
                                    + (cause == null
                                            ? RunFixture.json(a.evidence).path("exception").asText()
                                            : cause.getClass().getName())
                                    + " at "
                                    + at,
                            e.runId);
                }
                String p =
                        outputProblem(
                                "alert", JsonWriter.alert(a), alertSerde.serialize(a, null, null));
                if (p != null) {
                    return new Verdict(p, e.runId);
                }
            }
            if (out.series() != null) {
                series++;
                SeriesPoint s = out.series();
                String p =
                        outputProblem(
                                "series point",
                                JsonWriter.series(s),
                                seriesSerde.serialize(s, null, null));
                if (p != null) {
                    return new Verdict(p, e.runId);
                }
            }
            if (out.rejection() != null) {
                RunMonitor.Rejection rj = out.rejection();
                detail = rj.reason();
                if (rj.monitorError()) {
                    return new Verdict("monitor rejected an event: " + rj.field(), e.runId);
                }
                String p =
                        deadLetterProblem(
                                DeadLetter.of(rj.payload(), rj.field(), rj.reason(), "fuzz:1"));
                if (p != null) {
                    return new Verdict(p, e.runId);
                }
            }
            return new Verdict(null, e.runId);
        }

        /** A refusal names a field and a reason, and stays small (a dead letter quotes both). */
        private String refusalProblem(InvalidEventException ex) {
            detail = ex.getMessage();
            if (ex.field() == null || ex.field().isBlank()) {
                return "codec refused without naming a field";
            }
            if (ex.getMessage() == null
                    || ex.getMessage().length() <= ex.field().length() + 2
                    || ex.getMessage().substring(ex.field().length() + 2).isBlank()) {
                return "codec refused without a reason";
            }
            if (ex.getMessage().contains("overflowed")) {
                return "schedule engine accepted a stepping period that overflows (steps_per_epoch x frequency)";
            }
            if (ex.getMessage().contains("the declared schedule cannot give the LR")) {
                // the codec's own guard caught it, but the engine accepted a spec it cannot
                // evaluate: a bug in the engine
                java.util.regex.Matcher m =
                        java.util.regex.Pattern.compile("\\(([A-Za-z.]+)[:)]")
                                .matcher(ex.getMessage());
                return "schedule engine accepted a spec it cannot evaluate: "
                        + (m.find() ? m.group(1) : "?");
            }
            if (ex.field().length() > DeadLetter.MAX_FIELD_CHARS + 3) {
                detail = abbreviate(ex.field());
                return "codec refusal names a field of over "
                        + DeadLetter.MAX_FIELD_CHARS
                        + " characters";
            }
            if (ex.getMessage().length()
                    > DeadLetter.MAX_FIELD_CHARS + DeadLetter.MAX_REASON_CHARS + 8) {
                detail = abbreviate(ex.getMessage());
                return "codec refusal message over "
                        + (DeadLetter.MAX_FIELD_CHARS + DeadLetter.MAX_REASON_CHARS)
                        + " characters";
            }
            return null;
        }

        /**
         * An accepted event written back as format v1 (the payload of a dead letter the monitor
         * writes) is well-formed and reads back as the same event, so it can be fixed and sent
         * again.
         */
        private String roundTripProblem(TrainingEvent e) {
            String written;
            try {
                written = JsonWriter.event(e);
            } catch (RuntimeException ex) {
                detail = stackTrace(ex);
                return "an accepted event cannot be written back: " + ex.getClass().getName();
            }
            String bad = unpairedSurrogate(written);
            if (bad != null) {
                detail = bad + " in " + abbreviate(written);
                return "an accepted event written back is not valid Unicode";
            }
            try {
                TrainingEvent again = codec.parse(written);
                if (!again.equals(e)) {
                    detail = abbreviate(written) + "\n read back as " + again + "\n was " + e;
                    return "an accepted event written back reads back differently";
                }
            } catch (InvalidEventException ex) {
                detail = ex.getMessage() + " for " + abbreviate(written);
                return "an accepted event written back is refused: "
                        + ex.field().replaceAll("[\\[.].*", "");
            }
            return null;
        }

        private String deadLetterProblem(DeadLetter d) {
            if (d.field == null || d.field.isBlank() || d.reason == null || d.reason.isBlank()) {
                detail = d.field + " | " + d.reason;
                return "a dead letter without a field or a reason";
            }
            return outputProblem(
                    "dead letter", JsonWriter.deadLetter(d), deadSerde.serialize(d, null, null));
        }

        /**
         * An output line is strict JSON, valid Unicode (a UTF-8 file writer refuses unpaired
         * surrogates), and fits a Kafka record.
         */
        private String outputProblem(
                String what, String json, ProducerRecord<byte[], byte[]> record) {
            String bad = unpairedSurrogate(json);
            if (bad != null) {
                detail = bad + " in " + abbreviate(json);
                return what + " is not valid Unicode (a UTF-8 file sink fails on it)";
            }
            try {
                JsonReader.parse(json);
            } catch (RuntimeException ex) {
                detail = ex.getMessage();
                return what + " is not strict JSON";
            }
            long size = (record.key() == null ? 0 : record.key().length) + record.value().length;
            for (Header h : record.headers()) {
                size += h.key().length() + h.value().length;
            }
            if (size > MAX_KAFKA_RECORD_BYTES) {
                detail = size + " bytes: " + abbreviate(json);
                return what + " Kafka record over " + MAX_KAFKA_RECORD_BYTES + " bytes";
            }
            return null;
        }

        static String unpairedSurrogate(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isHighSurrogate(c)
                        && i + 1 < s.length()
                        && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    return String.format("unpaired surrogate U+%04X at %d", (int) c, i);
                }
            }
            return null;
        }

        /**
         * The exception the monitor contained on {@code e}, thrown again outside its guard: the
         * monitor keeps it to itself (its alert names only the top frame), and it put {@code state}
         * back as it was before the event, so judging the event once more on a copy of it throws
         * the same. Null if it does not.
         */
        private Throwable containedError(RunState state, TrainingEvent e) {
            RunState copy = new RunState();
            copy.copyFrom(state);
            try {
                java.lang.reflect.Method judge =
                        RunMonitor.class.getDeclaredMethod(
                                "judge", RunState.class, TrainingEvent.class);
                judge.setAccessible(true);
                judge.invoke(new RunMonitor(Thresholds.DEFAULTS, 1, true), copy, e);
                return null;
            } catch (java.lang.reflect.InvocationTargetException ex) {
                return ex.getCause();
            } catch (ReflectiveOperationException ex) {
                return null;
            }
        }

        /**
         * The first frame in trainwatch's code (class and method, no line: the signature must
         * survive edits), else the top one.
         */
        static String where(Throwable ex) {
            return where(ex, 1);
        }

        /**
         * The top {@code frames} frames from the first one in trainwatch's code: the same exception
         * from another path is another bug.
         */
        static String where(Throwable ex, int frames) {
            StackTraceElement[] t = ex.getStackTrace();
            int first = 0;
            while (first < t.length && !t[first].getClassName().startsWith("io.trainwatch")) {
                first++;
            }
            if (first == t.length) {
                first = 0;
            }
            StringBuilder b = new StringBuilder();
            for (int i = first; i < Math.min(t.length, first + frames); i++) {
                b.append(i == first ? "" : " < ")
                        .append(t[i].getClassName().replace("io.trainwatch.", ""))
                        .append('.')
                        .append(t[i].getMethodName());
            }
            return b.length() == 0 ? "?" : b.toString();
        }

        /**
         * The stack down to where the test's own frames begin (they say nothing), at most 4,000
         * characters.
         */
        static String stackTrace(Throwable ex) {
            java.io.StringWriter w = new java.io.StringWriter();
            ex.printStackTrace(new java.io.PrintWriter(w));
            String s = w.toString();
            java.util.regex.Matcher own =
                    java.util.regex.Pattern.compile(
                                    "\tat \\S*(jdk\\.internal\\.reflect|HostileEventsTest)")
                            .matcher(s);
            s = (own.find() ? s.substring(0, own.start()) : s).strip();
            return s.length() > 4_000 ? s.substring(0, 4_000) + "..." : s;
        }
    }
}
