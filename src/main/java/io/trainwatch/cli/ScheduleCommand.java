package io.trainwatch.cli;

import io.trainwatch.report.ScheduleChart;
import io.trainwatch.schedule.DeclaredSchedule;
import io.trainwatch.schedule.ScheduleSpec;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code schedule}: the LR of every param group at optimizer steps 0..N-1 of a declared schedule.
 */
@Command(
        name = "schedule",
        mixinStandardHelpOptions = true,
        description = {
            "Prints the LR of every param group at optimizer steps 0..N-1 of a schedule spec,",
            "and optionally draws it as an SVG. Spec format: README, section \"Schedule spec\"."
        })
final class ScheduleCommand implements Callable<Integer> {
    enum Format {
        csv,
        json
    }

    @Option(
            names = "--spec",
            required = true,
            paramLabel = "FILE",
            description = "Schedule spec (JSON).")
    Path spec;

    @Option(
            names = "--steps",
            required = true,
            paramLabel = "N",
            description = "Number of optimizer steps to print (0..N-1).")
    long steps;

    @Option(
            names = "--format",
            defaultValue = "csv",
            paramLabel = "csv|json",
            description =
                    "csv: header step,lr0,lr1,... (adaptive schedules: lr0_min,lr0_max,...); json: {\"lr\": [[group 0], ...]}. Default: ${DEFAULT-VALUE}.")
    Format format;

    @Option(
            names = "--svg",
            paramLabel = "FILE",
            description = "Also draw the schedule as an SVG line chart.")
    Path svg;

    PrintStream out = System.out;

    public Integer call() throws IOException {
        if (steps < 1) {
            throw new UserInputException("--steps must be >= 1, got " + steps);
        }
        DeclaredSchedule schedule = ScheduleSpec.parse(readSpec(spec));
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
        if (format == Format.csv) {
            writeCsv(schedule, w);
        } else {
            writeJson(schedule, w);
        }
        w.flush();
        if (svg != null) {
            Files.writeString(
                    svg, ScheduleChart.of(schedule, spec.getFileName().toString(), steps).render());
            System.err.println("wrote " + svg.toAbsolutePath());
        }
        return 0;
    }

    static String readSpec(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new UserInputException("--spec: no such file: " + file);
        } catch (IOException e) {
            throw new UserInputException("--spec: cannot read " + file + ": " + e.getMessage());
        }
    }

    private void writeCsv(DeclaredSchedule s, Writer w) throws IOException {
        StringBuilder header = new StringBuilder("step");
        for (int g = 0; g < s.groups(); g++) {
            header.append(s.adaptive() ? ",lr" + g + "_min,lr" + g + "_max" : ",lr" + g);
        }
        w.write(header.append('\n').toString());
        StringBuilder line = new StringBuilder();
        for (long step = 0; step < steps; step++) {
            line.setLength(0);
            line.append(step);
            for (int g = 0; g < s.groups(); g++) {
                // Double.toString round-trips: parsing it gives back the same double
                if (s.adaptive()) {
                    line.append(',')
                            .append(s.lowestLr(g, step))
                            .append(',')
                            .append(s.highestLr(g, step));
                } else {
                    line.append(',').append(s.lr(g, step));
                }
            }
            w.write(line.append('\n').toString());
        }
    }

    private void writeJson(DeclaredSchedule s, Writer w) throws IOException {
        w.write(
                "{\"scheduler\":\""
                        + s.scheduler()
                        + "\",\"steps\":"
                        + steps
                        + ",\"adaptive\":"
                        + s.adaptive());
        if (s.adaptive()) {
            writeJsonArrays(s, w, "lr_min", true);
            writeJsonArrays(s, w, "lr_max", false);
        } else {
            writeJsonArrays(s, w, "lr", null);
        }
        w.write("}\n");
    }

    private void writeJsonArrays(DeclaredSchedule s, Writer w, String key, Boolean lowest)
            throws IOException {
        w.write(",\"" + key + "\":[");
        for (int g = 0; g < s.groups(); g++) {
            w.write(g == 0 ? "[" : ",[");
            for (long step = 0; step < steps; step++) {
                double v =
                        lowest == null
                                ? s.lr(g, step)
                                : lowest ? s.lowestLr(g, step) : s.highestLr(g, step);
                if (step > 0) {
                    w.write(',');
                }
                w.write(Double.toString(v));
            }
            w.write(']');
        }
        w.write(']');
    }
}
