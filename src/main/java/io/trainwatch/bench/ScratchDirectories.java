package io.trainwatch.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The temporary directories a bench invocation writes checkpoints to. Each job pass keeps its last
 * checkpoint (about 550 MB at 100,000 runs), so they are deleted when the invocation ends, and by a
 * shutdown hook when it is interrupted: repeated invocations must not fill the disk.
 */
final class ScratchDirectories {
    private static final Set<Path> CREATED = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(ScratchDirectories::deleteAll, "bench-scratch-cleanup"));
    }

    private ScratchDirectories() {}

    /** A new empty directory under java.io.tmpdir, deleted by {@link #deleteAll()}. */
    static Path create(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        CREATED.add(dir);
        return dir;
    }

    /**
     * Deletes every directory {@link #create} made and not yet deleted, with all it holds; returns
     * how many. A directory that cannot be deleted entirely is left and named on stderr.
     */
    static int deleteAll() {
        int deleted = 0;
        for (Path dir : CREATED) {
            try {
                delete(dir);
                deleted++;
            } catch (UncheckedIOException e) {
                System.err.println(
                        "bench: could not delete " + dir + " (" + e.getCause().getMessage() + ")");
                CREATED.remove(dir);
            }
        }
        return deleted;
    }

    /**
     * Deletes {@code dir} and everything under it (nothing if it is gone already); {@link
     * #deleteAll()} no longer counts it.
     */
    static void delete(Path dir) {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (NoSuchFileException e) {
                // removed while walking: nothing left to delete there
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        CREATED.remove(dir);
    }
}
