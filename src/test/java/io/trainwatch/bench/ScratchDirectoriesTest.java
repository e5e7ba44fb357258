package io.trainwatch.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScratchDirectoriesTest {
    @Test
    void shouldDeleteEveryDirectoryItMadeWithWhatIsInIt() throws Exception {
        ScratchDirectories.deleteAll(); // whatever another test of this JVM left
        Path a = ScratchDirectories.create("trainwatch-scratch-test");
        Path b = ScratchDirectories.create("trainwatch-scratch-test");
        Files.createDirectories(a.resolve("chk-7/shared"));
        Files.writeString(a.resolve("chk-7/_metadata"), "checkpoint");
        Files.writeString(a.resolve("chk-7/shared/state"), "state");
        Files.writeString(b.resolve("changelog"), "log");
        assertTrue(Files.isDirectory(a) && Files.isDirectory(b));

        assertEquals(2, ScratchDirectories.deleteAll());

        assertFalse(Files.exists(a), a.toString());
        assertFalse(Files.exists(b), b.toString());
        assertEquals(0, ScratchDirectories.deleteAll(), "each directory is deleted once");
    }

    @Test
    void shouldPassOverADirectoryAlreadyGone() throws Exception {
        ScratchDirectories.deleteAll();
        Path gone = ScratchDirectories.create("trainwatch-scratch-test");
        Path kept = ScratchDirectories.create("trainwatch-scratch-test");
        Files.writeString(kept.resolve("file"), "x");
        Files.delete(gone);

        assertEquals(2, ScratchDirectories.deleteAll());

        assertFalse(Files.exists(kept));
    }

    @Test
    void shouldNotCountADirectoryDeletedOnItsOwn() throws Exception {
        ScratchDirectories.deleteAll();
        Path dir = ScratchDirectories.create("trainwatch-scratch-test");
        Files.writeString(dir.resolve("file"), "x");

        ScratchDirectories.delete(dir);

        assertFalse(Files.exists(dir));
        assertEquals(0, ScratchDirectories.deleteAll());
    }
}
