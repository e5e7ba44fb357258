package io.trainwatch.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.Writer;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parses a schedule spec: {@code {"scheduler": <framework class or type name>, "params": {<its
 * constructor arguments>, "base_lrs": [...]}, "scheduler_step_every": k | "interval":
 * "step"|"epoch", "frequency": n, "steps_per_epoch": n, "batches_per_epoch": n,
 * "accumulate_grad_batches": n}} into a {@link DeclaredSchedule}. Every case of the golden test
 * data (LR sequences recorded from the frameworks) is a valid spec as it stands. A bad spec throws
 * {@link InvalidScheduleException} naming the field and what is allowed; nothing falls back to a
 * silent default.
 */
public final class ScheduleSpec {
    private ScheduleSpec() {}

    private static final ObjectMapper JSON =
            JsonMapper.builder()
                    .enable(
                            JsonReadFeature
                                    .ALLOW_NON_NUMERIC_NUMBERS) // so NaN is refused by name, not as
                    // a parse error
                    .build();

    /** The field an error about the whole spec names. */
    private static final String DOCUMENT = "(document)";

    private static final Set<String> STEPPING_FIELDS =
            Set.of(
                    "scheduler",
                    "params",
                    "scheduler_step_every",
                    "steps_per_epoch",
                    "interval",
                    "frequency",
                    "batches_per_epoch",
                    "accumulate_grad_batches");

    /** Descriptive fields a golden case carries; they do not change the schedule. */
    private static final Set<String> METADATA_FIELDS =
            Set.of("name", "source", "steps", "lr", "note", "torch_warnings", "description");

    /** Every scheduler name a spec may use. */
    public static List<String> schedulerNames() {
        return List.copyOf(SchedulerCatalog.BUILDERS.keySet());
    }

    public static DeclaredSchedule parse(String json) {
        if (json == null) {
            throw new InvalidScheduleException(DOCUMENT, "is required (a JSON object), got null");
        }
        if (json.length() > SpecLimits.MAX_SPEC_CHARS) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must be at most "
                            + SpecLimits.MAX_SPEC_CHARS
                            + " characters of JSON, got "
                            + json.length());
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            String why = String.valueOf(e.getOriginalMessage());
            // Jackson quotes the offending token (up to 256 chars): keep the message short
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "not valid JSON: "
                            + (why.length() > 200 ? why.substring(0, 200) + "..." : why));
        }
        return parse(root);
    }

    /**
     * The spec without its descriptive fields (a golden case's recorded LRs, names, notes): what a
     * run keeps of the spec it declared, so a run's state holds the few hundred characters that
     * drive its schedule, not a recording.
     */
    public static JsonNode withoutMetadata(JsonNode root) {
        if (root == null || !root.isObject()) {
            return root;
        }
        ObjectNode copy = ((ObjectNode) root).deepCopy();
        copy.remove(METADATA_FIELDS);
        return copy;
    }

    /**
     * Parses a spec given as a tree. Its size is checked first ({@link SpecLimits#MAX_SPEC_NODES},
     * {@link SpecLimits#MAX_SPEC_DEPTH}, {@link SpecLimits#MAX_SPEC_CHARS} of compact JSON text, as
     * the event codec keeps it per run), so that a tree built anywhere costs bounded work, and its
     * text parses back alike.
     */
    public static DeclaredSchedule parse(JsonNode root) {
        checkSize(root);
        if (root == null || !root.isObject()) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must be a JSON object with \"scheduler\" and \"params\", got "
                            + SpecParams.describe(root));
        }
        Iterator<String> names = root.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!STEPPING_FIELDS.contains(n) && !METADATA_FIELDS.contains(n)) {
                Set<String> allowed = new TreeSet<>(STEPPING_FIELDS);
                allowed.addAll(METADATA_FIELDS);
                String hint = SpecParams.closest(n, allowed);
                throw new InvalidScheduleException(
                        SpecParams.echo(n),
                        "unknown field"
                                + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")
                                + "; allowed: "
                                + String.join(", ", allowed));
            }
        }
        JsonNode name = root.get("scheduler");
        if (name == null || name.isNull()) {
            throw new InvalidScheduleException(
                    "scheduler", "is required; known: " + String.join(", ", schedulerNames()));
        }
        if (!name.isTextual()) {
            throw new InvalidScheduleException(
                    "scheduler", "must be a string, got " + SpecParams.describe(name));
        }
        JsonNode params = root.get("params");
        Schedule schedule =
                SchedulerCatalog.build(
                        name.textValue(),
                        "scheduler",
                        params,
                        "params",
                        SchedulerCatalog.Context.TOP);

        Long stepsPerEpoch = optionalPositive(root, "steps_per_epoch");
        SchedulerStepping stepping = lightningFrequency(root, stepsPerEpoch);
        if (stepping == null) {
            stepping = new SchedulerStepping.Uniform(stepEvery(root, stepsPerEpoch));
        }
        long offset = resumeOffset(params);
        Long keptAt = keptLrAtLastEpoch(params);
        if (keptAt != null) {
            schedule = TorchKeptLrResumeSchedule.wrap(schedule, keptAt);
        }
        return new DeclaredSchedule(
                withoutMetadata(root).toString(),
                name.textValue(),
                schedule,
                stepping,
                offset,
                stepsPerEpoch);
    }

    /**
     * How many optimizer steps pass between two scheduler.step() calls: {@code
     * scheduler_step_every} (as the golden files write it), or Lightning's {@code interval} ("step"
     * | "epoch") times its {@code frequency}. Per step unless declared otherwise.
     */
    private static long stepEvery(JsonNode root, Long stepsPerEpoch) {
        Long explicit = optionalPositive(root, "scheduler_step_every");
        JsonNode interval = root.get("interval");
        Long frequency = optionalPositive(root, "frequency");
        long every;
        if (interval == null || interval.isNull()) {
            every = frequency == null ? 1 : frequency;
        } else if (!interval.isTextual()
                || !(interval.textValue().equals("step") || interval.textValue().equals("epoch"))) {
            throw new InvalidScheduleException(
                    "interval",
                    "must be \"step\" or \"epoch\" (Lightning's lr_scheduler interval), got "
                            + SpecParams.describe(interval));
        } else if (interval.textValue().equals("epoch")) {
            if (stepsPerEpoch == null) {
                throw new InvalidScheduleException(
                        "steps_per_epoch",
                        "is required when interval is \"epoch\" (optimizer steps per epoch)");
            }
            long times = frequency == null ? 1 : frequency;
            if (times > SpecLimits.MAX_STEP_EVERY / stepsPerEpoch) {
                throw new InvalidScheduleException(
                        "frequency",
                        "times steps_per_epoch ("
                                + stepsPerEpoch
                                + ") must be at most 2^32 ("
                                + SpecLimits.MAX_STEP_EVERY
                                + " optimizer steps between scheduler steps), got frequency "
                                + times);
            }
            every = stepsPerEpoch * times;
        } else {
            every = frequency == null ? 1 : frequency;
        }
        if (explicit != null) {
            boolean describedOtherwise =
                    (interval != null && !interval.isNull()) || frequency != null;
            if (describedOtherwise && explicit != every) {
                throw new InvalidScheduleException(
                        "scheduler_step_every",
                        "is "
                                + explicit
                                + " but interval/frequency say every "
                                + every
                                + " optimizer steps; give one of them");
            }
            return explicit;
        }
        return every;
    }

    /**
     * Lightning's {@code "interval": "step"} with {@code frequency}, counted as Lightning counts
     * it: in batches of each epoch ({@code batches_per_epoch}, optimizer steps every {@code
     * accumulate_grad_batches} of them, see {@link SchedulerStepping.LightningFrequency}); null
     * when the spec has no {@code batches_per_epoch}.
     */
    private static SchedulerStepping lightningFrequency(JsonNode root, Long stepsPerEpoch) {
        Long batches = optionalPositive(root, "batches_per_epoch");
        Long accumulate = optionalPositive(root, "accumulate_grad_batches");
        if (batches == null) {
            if (accumulate != null) {
                throw new InvalidScheduleException(
                        "accumulate_grad_batches",
                        "is read only with batches_per_epoch (Lightning's frequency counted in the "
                                + "batches of each epoch); give batches_per_epoch too, or leave accumulate_grad_batches out, got "
                                + accumulate);
            }
            return null;
        }
        JsonNode interval = root.get("interval");
        if (interval != null
                && !interval.isNull()
                && !(interval.isTextual() && interval.textValue().equals("step"))) {
            throw new InvalidScheduleException(
                    "batches_per_epoch",
                    "applies to \"interval\": \"step\" only (Lightning counts the batch index for step-interval "
                            + "schedulers; an \"epoch\" one is described by steps_per_epoch), got interval "
                            + SpecParams.describe(interval));
        }
        if (root.get("scheduler_step_every") != null
                && !root.get("scheduler_step_every").isNull()) {
            throw new InvalidScheduleException(
                    "scheduler_step_every",
                    "cannot be given with batches_per_epoch (which says the stepping through "
                            + "frequency); give one of them");
        }
        long a = accumulate == null ? 1 : accumulate;
        long perEpoch = (batches + a - 1) / a;
        if (stepsPerEpoch != null && stepsPerEpoch != perEpoch) {
            throw new InvalidScheduleException(
                    "steps_per_epoch",
                    "is "
                            + stepsPerEpoch
                            + " but batches_per_epoch ("
                            + batches
                            + ") and accumulate_grad_batches ("
                            + a
                            + ") make ceil("
                            + batches
                            + " / "
                            + a
                            + ") = "
                            + perEpoch
                            + " optimizer steps per epoch");
        }
        Long frequency = optionalPositive(root, "frequency");
        return new SchedulerStepping.LightningFrequency(
                batches, a, frequency == null ? 1 : frequency);
    }

    /**
     * torch's last_epoch (DeepSpeed's last_batch_iteration) = L means the first step uses scheduler
     * index L + 1.
     */
    private static long resumeOffset(JsonNode params) {
        for (String field : new String[] {"last_epoch", "last_batch_iteration"}) {
            JsonNode v = params.get(field);
            if (v != null && !v.isNull()) {
                if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < -1) {
                    throw new InvalidScheduleException(
                            "params." + field,
                            "must be an integer >= -1 (-1 = a fresh start), got "
                                    + SpecParams.describe(v));
                }
                if (v.longValue() > SpecLimits.MAX_STEP) {
                    throw new InvalidScheduleException(
                            "params." + field,
                            "must be at most 2^53 ("
                                    + SpecLimits.MAX_STEP
                                    + "; no run reaches that many steps), got "
                                    + v.longValue());
                }
                return v.longValue() + 1;
            }
        }
        return 0;
    }

    /**
     * The field that says a torch scheduler was built with last_epoch = L by a torch whose
     * constructor keeps the LR.
     */
    static final String KEPT_LR_AT_LAST_EPOCH = "kept_lr_at_last_epoch";

    /**
     * {@code params.kept_lr_at_last_epoch}: L when the scheduler was built with {@code last_epoch =
     * L} by a torch whose constructor keeps the optimizer's LR (torch 2.x; see {@link
     * TorchKeptLrResumeSchedule}); absent when it advanced the LR to index L + 1 (torch 1.13) or
     * started fresh. It is the construction index, not the offset: {@code last_epoch} may be
     * shifted to the run's step numbering, this one stays where the scheduler was built.
     */
    private static Long keptLrAtLastEpoch(JsonNode params) {
        JsonNode v = params.get(KEPT_LR_AT_LAST_EPOCH);
        if (v == null || v.isNull()) {
            return null;
        }
        String field = "params." + KEPT_LR_AT_LAST_EPOCH;
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw new InvalidScheduleException(
                    field,
                    "must be an integer >= 0 (the last_epoch the scheduler was built with, by a torch "
                            + "whose constructor keeps the optimizer's LR, as torch 2.x does; leave it out for torch 1.13 or a fresh start), got "
                            + SpecParams.describe(v));
        }
        if (v.longValue() > SpecLimits.MAX_STEP) {
            throw new InvalidScheduleException(
                    field,
                    "must be at most 2^53 ("
                            + SpecLimits.MAX_STEP
                            + "; no run reaches that many steps), got "
                            + v.longValue());
        }
        return v.longValue();
    }

    /**
     * A count of optimizer steps between scheduler steps (or a factor of it): in [1, {@link
     * SpecLimits#MAX_STEP_EVERY}].
     */
    private static Long optionalPositive(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 1) {
            throw new InvalidScheduleException(
                    field, "must be an integer >= 1, got " + SpecParams.describe(v));
        }
        if (v.longValue() > SpecLimits.MAX_STEP_EVERY) {
            throw new InvalidScheduleException(
                    field,
                    "must be at most 2^32 ("
                            + SpecLimits.MAX_STEP_EVERY
                            + " optimizer steps between scheduler steps; no run is that long), got "
                            + v.longValue());
        }
        return v.longValue();
    }

    /**
     * Counts what {@link #parse(JsonNode)} reads before reading it: values, depth and characters.
     */
    private static final class Size {
        int nodes;
        long chars;
    }

    private static void checkSize(JsonNode root) {
        if (root == null) {
            return;
        }
        Size size = new Size();
        measure(root, 1, size);
        // the exact compact text (what the event codec keeps per run, and what RunMonitor parses
        // back): bounded work,
        // since the walk above bounded the values and their characters
        CountingWriter text = new CountingWriter();
        try {
            JSON.writeValue(text, root);
        } catch (IOException e) {
            throw new InvalidScheduleException(
                    DOCUMENT, "cannot be written as JSON: " + e.getMessage());
        }
        if (text.count > SpecLimits.MAX_SPEC_CHARS) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must be at most "
                            + SpecLimits.MAX_SPEC_CHARS
                            + " characters of JSON, got "
                            + text.count);
        }
    }

    private static void measure(JsonNode n, int depth, Size size) {
        if (depth > SpecLimits.MAX_SPEC_DEPTH) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must be nested at most " + SpecLimits.MAX_SPEC_DEPTH + " levels deep");
        }
        if (++size.nodes > SpecLimits.MAX_SPEC_NODES) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must have at most "
                            + SpecLimits.MAX_SPEC_NODES
                            + " JSON values (numbers, strings, lists, objects)");
        }
        if (n.isTextual()) {
            size.chars += n.textValue().length();
        } else if (n.isBigInteger() || n.isBigDecimal()) {
            size.chars += n.asText().length();
        } else if (n.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = n.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                size.chars += f.getKey().length();
                measure(f.getValue(), depth + 1, size);
            }
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                measure(e, depth + 1, size);
            }
        }
        if (size.chars > SpecLimits.MAX_SPEC_CHARS) {
            throw new InvalidScheduleException(
                    DOCUMENT,
                    "must be at most " + SpecLimits.MAX_SPEC_CHARS + " characters of JSON");
        }
    }

    /**
     * Counts the characters written; stops the writer once past the limit, so a huge tree costs no
     * more than the limit.
     */
    private static final class CountingWriter extends Writer {
        long count;

        @Override
        public void write(char[] buf, int off, int len) throws IOException {
            count += len;
            if (count > SpecLimits.MAX_SPEC_CHARS) {
                throw new InvalidScheduleException(
                        DOCUMENT,
                        "must be at most " + SpecLimits.MAX_SPEC_CHARS + " characters of JSON");
            }
        }

        @Override
        public void write(String str, int off, int len) throws IOException {
            write((char[]) null, off, len);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
