package io.trainwatch.importer;

import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns logs users already have into v1 events. Per format:
 *
 * <ul>
 *   <li>hf-trainer-state: {@code log_history} records with a {@code loss} (eval and summary records
 *       are skipped); HF step N (N optimizer steps done) becomes optimizer step N-1, whose LR it
 *       logs; the run_start says {@code step_base} 1, so alerts name HF's step N again.
 *   <li>detectron2-metrics: JSON lines with {@code total_loss} (eval lines skipped); iteration =
 *       step. An iteration going back to (or before) the first iteration of the current launch
 *       starts a new launch from scratch, emitted as its own run ({@code <run>-launchK}, the last
 *       one keeps {@code <run>}); going back less is a resume from a checkpoint within the run. The
 *       schedule of the sibling config.yaml (SOLVER) applies to the last launch, whose config it
 *       is; a schedule given explicitly applies to every launch.
 *   <li>yolov5-results: one row per epoch; loss = box + obj + cls; LR of the three groups. Batches
 *       per epoch are read back from the warmup ramp when not given; the schedule comes from
 *       hyp.yaml/opt.yaml with the warmup as declared (warmup_epochs), so a longer actual warmup
 *       shows.
 *   <li>modded-nanogpt-log: {@code step:N/T train_loss:X} lines; step N-1, {@code step_base} 1 (the
 *       log counts the steps done, as HF does).
 * </ul>
 *
 * Reading accepts Python's bare NaN/Infinity.
 */
public final class LogImporter {
    private static final ObjectMapper JSON =
            JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern NANOGPT_STEP =
            Pattern.compile("^step:(\\d+)/(\\d+) train_loss:(\\S+)");

    /** modded-nanogpt's training time so far (validation excluded), in ms. */
    private static final Pattern NANOGPT_TRAIN_TIME = Pattern.compile(" train_time:(\\d+)ms");

    /**
     * HF's global_step and modded-nanogpt's step:N count the optimizer steps done: step N of the
     * log is optimizer step N-1 (the importer's step), and alerts should say N.
     */
    private static final int COUNTS_STEPS_DONE = 1;

    private LogImporter() {}

    /**
     * @param schedule a schedule spec (JSON object text) that overrides what the run's own files
     *     declare; may be null
     */
    public static ImportedRun importFile(
            ImportFormat format, Path file, String runId, String schedule) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no such file: " + file);
        }
        return switch (format) {
            case HF_TRAINER_STATE -> hfTrainerState(file, runId, schedule);
            case DETECTRON2_METRICS -> detectron2(file, runId, schedule);
            case YOLOV5_RESULTS -> yolov5(file, runId, schedule);
            case NANOGPT_LOG -> nanogpt(file, runId, schedule);
        };
    }

    /** The run id for a file when none is given: its folder's name. */
    public static String defaultRunId(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? file.getFileName().toString() : parent.getFileName().toString();
    }

    private static ImportedRun hfTrainerState(Path file, String runId, String schedule)
            throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        JsonNode history = root.get("log_history");
        if (history == null || !history.isArray()) {
            throw new IOException(file + ": not an HF trainer_state.json (no log_history list)");
        }
        List<String> events = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        events.add(runStart(runId, schedule, null, COUNTS_STEPS_DONE));
        long skipped = 0;
        for (JsonNode rec : history) {
            if (!rec.has("loss") || !rec.has("step")) {
                skipped++;
                continue;
            }
            long step = Math.max(0, rec.get("step").asLong() - 1);
            events.add(
                    stepEvent(
                            runId,
                            step,
                            "loss",
                            num(rec.get("loss")),
                            "grad_norm",
                            rec.has("grad_norm") ? num(rec.get("grad_norm")) : null,
                            "lr",
                            rec.has("learning_rate") ? num(rec.get("learning_rate")) : null,
                            "epoch",
                            rec.has("epoch") ? num(rec.get("epoch")) : null));
        }
        notes.add(skipped + " log_history records without a training loss (eval, summary) skipped");
        return new ImportedRun(events, history.size(), skipped, notes);
    }

    private static ImportedRun detectron2(Path file, String runId, String schedule)
            throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> notes = new ArrayList<>();
        String declared = schedule;
        boolean declaredForAll = schedule != null;
        if (declared == null) {
            Path config =
                    file.resolveSibling(
                            file.getFileName().toString().replace("metrics.json", "config.yaml"));
            if (Files.isRegularFile(config)) {
                declared = detectron2Schedule(YAML.readTree(config.toFile()), notes);
                notes.add("schedule read from " + config.getFileName());
            } else {
                notes.add("no config.yaml beside " + file.getFileName() + ": no declared schedule");
            }
        }
        // split into launches first, so the declared schedule goes to the last one
        List<List<JsonNode>> launches = new ArrayList<>();
        long skipped = 0;
        long launchStart = Long.MAX_VALUE;
        for (String line : lines) {
            if (line.isBlank()) {
                skipped++;
                continue;
            }
            JsonNode rec = JSON.readTree(line);
            if (!rec.has("total_loss") || !rec.has("iteration")) {
                skipped++;
                continue;
            }
            long it = rec.get("iteration").asLong();
            if (launches.isEmpty() || it <= launchStart) {
                launches.add(new ArrayList<>());
                launchStart = it;
            }
            launches.get(launches.size() - 1).add(rec);
        }
        List<String> events = new ArrayList<>();
        for (int k = 0; k < launches.size(); k++) {
            boolean last = k == launches.size() - 1;
            String id = last ? runId : runId + "-launch" + (k + 1);
            events.add(runStart(id, last || declaredForAll ? declared : null, null));
            for (JsonNode rec : launches.get(k)) {
                events.add(
                        stepEvent(
                                id,
                                rec.get("iteration").asLong(),
                                "loss",
                                num(rec.get("total_loss")),
                                "lr",
                                rec.has("lr") ? num(rec.get("lr")) : null,
                                // seconds per iteration over the logging window: the run's speed
                                "step_time_s",
                                positive(rec.get("time"))));
            }
        }
        if (launches.size() > 1) {
            notes.add(
                    launches.size()
                            + " launches: the earlier ones are runs "
                            + runId
                            + "-launch1.."
                            + (launches.size() - 1)
                            + " without a declared schedule (their config was overwritten); the last is "
                            + runId);
        }
        notes.add(skipped + " lines without total_loss (evaluation, crash markers) skipped");
        return new ImportedRun(events, lines.size(), skipped, notes);
    }

    /**
     * A WarmupMultiStepLR spec from a detectron2 config.yaml, or null (with a note) for other
     * schedulers.
     */
    static String detectron2Schedule(JsonNode config, List<String> notes) {
        JsonNode solver = config.get("SOLVER");
        if (solver == null) {
            notes.add("config has no SOLVER section: no declared schedule");
            return null;
        }
        String name = solver.path("LR_SCHEDULER_NAME").asText("WarmupMultiStepLR");
        if (!name.equals("WarmupMultiStepLR")) {
            notes.add(
                    "SOLVER.LR_SCHEDULER_NAME "
                            + name
                            + " is not supported yet: no declared schedule");
            return null;
        }
        List<Long> steps = new ArrayList<>();
        solver.path("STEPS").forEach(n -> steps.add(n.asLong()));
        return scheduleSpec(
                "WarmupMultiStepLR",
                "milestones",
                steps,
                "gamma",
                solver.path("GAMMA").asDouble(0.1),
                "warmup_factor",
                solver.path("WARMUP_FACTOR").asDouble(0.001),
                "warmup_iters",
                solver.path("WARMUP_ITERS").asLong(1000),
                "warmup_method",
                solver.path("WARMUP_METHOD").asText("linear").toLowerCase(Locale.ROOT),
                "max_iter",
                solver.path("MAX_ITER").asLong(Long.MAX_VALUE),
                "base_lrs",
                new double[] {solver.path("BASE_LR").asDouble()});
    }

    private static ImportedRun yolov5(Path file, String runId, String schedule) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> notes = new ArrayList<>();
        if (lines.isEmpty()) {
            throw new IOException(file + ": empty results.csv");
        }
        String[] header = lines.get(0).split(",");
        int epochCol = -1;
        int[] lossCols = {-1, -1, -1};
        int[] lrCols = {-1, -1, -1};
        for (int i = 0; i < header.length; i++) {
            String h = header[i].trim();
            switch (h) {
                case "epoch" -> epochCol = i;
                case "train/box_loss" -> lossCols[0] = i;
                case "train/obj_loss" -> lossCols[1] = i;
                case "train/cls_loss" -> lossCols[2] = i;
                case "x/lr0" -> lrCols[0] = i;
                case "x/lr1" -> lrCols[1] = i;
                case "x/lr2" -> lrCols[2] = i;
                default -> {}
            }
        }
        if (epochCol < 0 || lossCols[0] < 0 || lrCols[0] < 0) {
            throw new IOException(
                    file
                            + ": not a YOLOv5 results.csv (needs epoch, train/box_loss, x/lr0 columns)");
        }
        List<double[]> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] cols = line.split(",");
            double[] r = new double[7];
            r[0] = Double.parseDouble(cols[epochCol].trim());
            double loss = 0;
            for (int c : lossCols) {
                loss += c >= 0 ? Double.parseDouble(cols[c].trim()) : 0;
            }
            r[1] = loss;
            for (int g = 0; g < 3; g++) {
                r[2 + g] = lrCols[g] >= 0 ? Double.parseDouble(cols[lrCols[g]].trim()) : Double.NaN;
            }
            rows.add(r);
        }
        JsonNode hyp = yamlBeside(file, "hyp.yaml");
        JsonNode opt = yamlBeside(file, "opt.yaml");
        long nb = batchesPerEpoch(rows, hyp, opt, notes);
        String declared = schedule;
        if (declared == null && hyp != null && opt != null) {
            boolean oneCycle = oneCycle(opt);
            declared =
                    scheduleSpec(
                            "YOLOv5LR",
                            "lr0",
                            hyp.path("lr0").asDouble(),
                            "lrf",
                            hyp.path("lrf").asDouble(),
                            "epochs",
                            opt.path("epochs").asDouble(),
                            "lr_lambda",
                            oneCycle ? "one_cycle" : "linear",
                            "warmup_epochs",
                            hyp.path("warmup_epochs").asDouble(3.0),
                            "warmup_bias_lr",
                            hyp.path("warmup_bias_lr").asDouble(0.1),
                            "batches_per_epoch",
                            nb,
                            // as declared: the warmup the hyp file asks for, so
                            // YOLOv5's hidden minimum shows up as a mismatch
                            "min_warmup_iters",
                            0);
            notes.add(
                    "schedule read from hyp.yaml/opt.yaml ("
                            + (oneCycle ? "one_cycle" : "linear")
                            + "), warmup as declared: "
                            + hyp.path("warmup_epochs").asDouble(3.0)
                            + " epochs");
        }
        List<String> events = new ArrayList<>();
        events.add(runStart(runId, declared, nb));
        for (double[] r : rows) {
            long step =
                    ((long) r[0] + 1) * nb
                            - 1; // x/lr* are read at the end of the epoch: its last iteration
            events.add(
                    stepEvent(
                            runId,
                            step,
                            "loss",
                            r[1],
                            "lr",
                            new double[] {r[2], r[3], r[4]},
                            "epoch",
                            r[0]));
        }
        return new ImportedRun(events, lines.size() - 1, 0, notes);
    }

    /**
     * Batches per epoch, read back from YOLOv5's warmup ramp: at the end of epoch e (iteration
     * (e+1)nb - 1) group 0 has lr0 * lf(e) * ((e+1)nb - 1)/nw, so with r(e) = lr/(lr0 lf(e)): nw =
     * 1/(r1 - 2 r0), nb = (r1 - r0) nw.
     */
    static long batchesPerEpoch(
            List<double[]> rows, JsonNode hyp, JsonNode opt, List<String> notes) {
        if (rows.size() >= 2 && hyp != null && opt != null) {
            double lr0 = hyp.path("lr0").asDouble();
            double lrf = hyp.path("lrf").asDouble();
            double epochs = opt.path("epochs").asDouble();
            boolean oneCycle = oneCycle(opt);
            double r0 = rows.get(0)[2] / (lr0 * lf(0, lrf, epochs, oneCycle));
            double r1 = rows.get(1)[2] / (lr0 * lf(1, lrf, epochs, oneCycle));
            double nw = 1 / (r1 - 2 * r0);
            double nb = (r1 - r0) * nw;
            if (Double.isFinite(nb) && nb >= 1 && r0 < 1 && r1 < 1) {
                long n = Math.round(nb);
                notes.add(
                        "batches per epoch read back from the warmup ramp: "
                                + n
                                + " (warmup "
                                + Math.round(nw)
                                + " iterations)");
                return n;
            }
        }
        notes.add("batches per epoch unknown: one step per epoch");
        return 1;
    }

    /** YOLOv5's LR lambda: one_cycle (cosine) when opt.yaml asks for it, linear otherwise. */
    private static boolean oneCycle(JsonNode opt) {
        return opt.has("cos_lr")
                ? opt.path("cos_lr").asBoolean()
                : !opt.path("linear_lr").asBoolean(true);
    }

    private static double lf(double x, double lrf, double epochs, boolean oneCycle) {
        return oneCycle
                ? ((1 - Math.cos(x * Math.PI / epochs)) / 2) * (lrf - 1) + 1
                : (1 - x / epochs) * (1.0 - lrf) + lrf;
    }

    private static JsonNode yamlBeside(Path file, String name) throws IOException {
        Path p = file.resolveSibling(file.getFileName().toString().replace("results.csv", name));
        return Files.isRegularFile(p) ? YAML.readTree(p.toFile()) : null;
    }

    private static ImportedRun nanogpt(Path file, String runId, String schedule)
            throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> events = new ArrayList<>();
        events.add(runStart(runId, schedule, null, COUNTS_STEPS_DONE));
        long skipped = 0;
        long lastStep = -1;
        long lastTrainMillis = -1;
        for (String line : lines) {
            Matcher m = NANOGPT_STEP.matcher(line);
            if (!m.find()) {
                skipped++;
                continue;
            }
            String loss = m.group(3);
            long step = Long.parseLong(m.group(1)) - 1;
            Matcher t = NANOGPT_TRAIN_TIME.matcher(line);
            long trainMillis = t.find() ? Long.parseLong(t.group(1)) : -1;
            // time per optimizer step since the previous logged step: the run's speed
            Double stepTime =
                    trainMillis > lastTrainMillis && lastTrainMillis >= 0 && step > lastStep
                            ? (trainMillis - lastTrainMillis) / 1000.0 / (step - lastStep)
                            : null;
            events.add(
                    stepEvent(
                            runId,
                            step,
                            "loss",
                            loss.equalsIgnoreCase("nan") ? Double.NaN : Double.parseDouble(loss),
                            "step_time_s",
                            stepTime));
            lastStep = step;
            lastTrainMillis = trainMillis;
        }
        return new ImportedRun(
                events,
                lines.size(),
                skipped,
                List.of(skipped + " lines without train_loss (val lines) skipped"));
    }

    /** A step event of the run: type, run and step first, then the fields given (nulls too). */
    private static String stepEvent(String runId, long step, Object... fields) {
        Object[] head = {"type", "step", "run_id", runId, "step", step};
        Object[] keysAndValues = Arrays.copyOf(head, head.length + fields.length);
        System.arraycopy(fields, 0, keysAndValues, head.length, fields.length);
        return JsonWriter.object(keysAndValues);
    }

    /** A schedule spec: the scheduler's name and its params as alternating keys and values. */
    private static String scheduleSpec(String scheduler, Object... params) {
        return JsonWriter.object(
                "scheduler", scheduler, "params", JsonReader.parse(JsonWriter.object(params)));
    }

    private static String runStart(String runId, String schedule, Long stepsPerEpoch) {
        return runStart(runId, schedule, stepsPerEpoch, null);
    }

    /** {@code stepBase}: null for a log that numbers steps from 0, as the events do. */
    private static String runStart(
            String runId, String schedule, Long stepsPerEpoch, Integer stepBase) {
        List<Object> fields = new ArrayList<>();
        Collections.addAll(
                fields,
                "type",
                "run_start",
                "run_id",
                runId,
                "schedule",
                schedule == null ? null : JsonReader.parse(schedule),
                "steps_per_epoch",
                stepsPerEpoch);
        if (stepBase != null) {
            Collections.addAll(fields, "step_base", stepBase);
        }
        return JsonWriter.object(fields.toArray());
    }

    private static Double num(JsonNode n) {
        return n == null || n.isNull() ? null : n.asDouble();
    }

    /** A positive finite number, else null (a missing or broken timing is no timing). */
    private static Double positive(JsonNode n) {
        Double v = num(n);
        return v != null && v > 0 && Double.isFinite(v) ? v : null;
    }
}
