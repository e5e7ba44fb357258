package io.trainwatch.cli;

/**
 * Entry point for {@code flink run} and Flink's application mode (docker/docker-compose.yml): the
 * same commands as {@link TrainwatchCli}, but it never calls System.exit, which would take the
 * JobManager down; a failing command throws instead.
 */
public final class FlinkEntryPoint {
    private FlinkEntryPoint() {}

    public static void main(String[] args) {
        int code = TrainwatchCli.commandLine().execute(args);
        if (code != 0) {
            throw new IllegalStateException(
                    "trainwatch " + String.join(" ", args) + " failed with exit code " + code);
        }
    }
}
