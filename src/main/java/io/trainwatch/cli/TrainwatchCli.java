package io.trainwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar target/trainwatch.jar <command> [flags]}: the commands a user types. */
@Command(
        name = "trainwatch",
        mixinStandardHelpOptions = true,
        version = "trainwatch 0.1.0",
        description =
                "Watches deep-learning training runs live: checks every step against the declared LR schedule.",
        subcommands = {
            DemoCommand.class,
            RunCommand.class,
            ReplayCommand.class,
            ImportCommand.class,
            ScheduleCommand.class,
            ReportCommand.class,
            BenchCommand.class,
            BenchStateCommand.class,
            CommandLine.HelpCommand.class
        })
public final class TrainwatchCli implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by main and the tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new TrainwatchCli());
        cl.setExecutionExceptionHandler(
                (ex, commandLine, parseResult) -> {
                    // bad input is a message for the user, not a stack trace
                    commandLine.getErr().println("error: " + ex.getMessage());
                    return ex instanceof UserInputException
                                    || ex instanceof IllegalArgumentException
                            ? 2
                            : 1;
                });
        return cl;
    }
}
