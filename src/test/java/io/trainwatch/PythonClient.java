package io.trainwatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Python client's scripts (clients/python) with Debian's interpreter, which has
 * python3-torch and python3-kafka (pyenv's python3 on these machines has neither); {@code
 * -Dtrainwatch.python=...} overrides it; or in one of the torch 2.x environments ({@link
 * Frameworks}) where real transformers, Lightning and accelerate train.
 */
public final class PythonClient {
    public static final Path CLIENT_DIR = Path.of("clients/python").toAbsolutePath();

    public record Result(int exitCode, String stdout, String stderr, Duration took) {}

    /** A started script; {@link #await} collects its output. */
    public static final class Running {
        private final Process process;
        private final Path out;
        private final Path err;
        private final long startNanos;
        private final String what;

        Running(Process process, Path out, Path err, String what) {
            this.process = process;
            this.out = out;
            this.err = err;
            this.what = what;
            this.startNanos = System.nanoTime();
        }

        public Result await(Duration timeout) throws IOException, InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(
                        what
                                + " did not finish within "
                                + timeout
                                + "; stderr:\n"
                                + Files.readString(err));
            }
            Result r =
                    new Result(
                            process.exitValue(),
                            Files.readString(out, StandardCharsets.UTF_8),
                            Files.readString(err, StandardCharsets.UTF_8),
                            Duration.ofNanos(System.nanoTime() - startNanos));
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return r;
        }
    }

    private PythonClient() {}

    public static String interpreter() {
        return System.getProperty("trainwatch.python", "/usr/bin/python3");
    }

    /**
     * The environments clients/python/install-frameworks.sh creates (.ci/run runs it): torch 2.x
     * with transformers 5.x.
     */
    public enum Frameworks {
        TORCH2_TF5("torch2-tf5");

        public final String dirName;

        Frameworks(String dirName) {
            this.dirName = dirName;
        }

        /** Its interpreter; fails (never skips) when the environment was not created. */
        public String interpreter() {
            Path python = CLIENT_DIR.resolve(".venvs").resolve(dirName).resolve("bin/python");
            if (!Files.isExecutable(python)) {
                throw new AssertionError(
                        "no Python environment "
                                + python
                                + ": run clients/python/install-frameworks.sh (.ci/run does)");
            }
            return python.toString();
        }
    }

    /**
     * Starts {@code python3 args...} in the project folder with the client importable
     * (PYTHONPATH=clients/python).
     */
    public static Running start(List<String> args, Map<String, String> env) throws IOException {
        return start(interpreter(), args, env);
    }

    /** {@link #start(List, Map)} with the given interpreter (see {@link Frameworks}). */
    public static Running start(String interpreter, List<String> args, Map<String, String> env)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(interpreter);
        cmd.add("-u");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PYTHONPATH", CLIENT_DIR.toString());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().putAll(env);
        // output to files: a full pipe would block the script
        Path out = Files.createTempFile("trainwatch-py", ".out");
        Path err = Files.createTempFile("trainwatch-py", ".err");
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        return new Running(pb.start(), out, err, String.join(" ", cmd));
    }

    public static Result run(List<String> args, Map<String, String> env, Duration timeout)
            throws IOException, InterruptedException {
        return start(args, env).await(timeout);
    }
}
