package io.trainwatch.cli;

import io.trainwatch.importer.ImportFormat;
import io.trainwatch.importer.ImportedRun;
import io.trainwatch.importer.LogImporter;
import io.trainwatch.schedule.ScheduleSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code import}: turns logs users already have into v1 events. */
@Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description = {
            "Turns an existing training log into v1 events (JSONL) for replay. The schedule is read from",
            "the run's own config files where the format has them (YOLOv5 hyp/opt.yaml, detectron2 config.yaml)."
        })
final class ImportCommand implements Callable<Integer> {
    @Option(
            names = "--format",
            required = true,
            paramLabel = "FORMAT",
            description =
                    "hf-trainer-state | yolov5-results | detectron2-metrics | modded-nanogpt-log")
    String format;

    @Parameters(
            index = "0",
            paramLabel = "FILE",
            description = "trainer_state.json, results.csv, metrics.json or a modded-nanogpt log.")
    Path file;

    @Option(
            names = "--schedule",
            paramLabel = "SPEC",
            description =
                    "Schedule spec file (JSON) declaring the run's schedule; overrides config files.")
    Path schedule;

    @Option(
            names = "--run-id",
            paramLabel = "ID",
            description = "Run id. Default: the file's folder name.")
    String runId;

    @Option(
            names = "--output",
            required = true,
            paramLabel = "FILE",
            description = "Where to write the events (JSONL).")
    Path output;

    public Integer call() throws Exception {
        ImportFormat f = ImportFormat.byCliName(format);
        if (f == null) {
            throw new UserInputException(
                    "--format must be one of "
                            + String.join(
                                    ", ",
                                    Arrays.stream(ImportFormat.values())
                                            .map(ImportFormat::cliName)
                                            .toList())
                            + ", got \""
                            + format
                            + "\"");
        }
        if (!Files.isRegularFile(file)) {
            throw new UserInputException("no such file: " + file);
        }
        String spec = null;
        if (schedule != null) {
            spec = ScheduleCommand.readSpec(schedule);
            ScheduleSpec.parse(spec); // a bad spec is reported here, naming its field
        }
        String id = runId != null ? runId : LogImporter.defaultRunId(file);
        ImportedRun run = LogImporter.importFile(f, file, id, spec);
        Files.write(output, run.events());
        System.out.printf(
                "imported %s as run %s: %d records read, %d events written to %s, %d skipped%n",
                file, id, run.recordsRead(), run.events().size(), output, run.skipped());
        run.notes().forEach(n -> System.out.println("  " + n));
        return 0;
    }
}
