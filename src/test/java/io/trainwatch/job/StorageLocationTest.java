package io.trainwatch.job;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateBackendOptions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checkpoint and changelog locations: URIs pass through, plain paths become absolute file URIs, and
 * Flink gets exactly that.
 */
class StorageLocationTest {
    private static final ConfigOption<String> CHANGELOG_BASE_PATH =
            ConfigOptions.key("state.changelog.dstl.dfs.base-path").stringType().noDefaultValue();

    @Test
    void shouldPassLocationsWithASchemeThroughUnchanged() {
        for (String uri :
                new String[] {
                    "s3://bucket/chk",
                    "s3a://bucket/a/b/",
                    "gs://bucket/chk",
                    "hdfs://namenode:8020/flink/chk",
                    "file:///var/chk",
                    "file:/var/chk",
                    "abfss://container@account.dfs.core.windows.net/chk",
                    "oss://bucket/chk"
                }) {
            assertThat(StorageLocation.uri(uri)).isEqualTo(uri);
        }
        assertThat(StorageLocation.child("s3://bucket/chk", "changelog"))
                .isEqualTo("s3://bucket/chk/changelog");
        assertThat(StorageLocation.child("s3://bucket/chk/", "changelog"))
                .isEqualTo("s3://bucket/chk/changelog");
        assertThat(StorageLocation.child("file:///var/chk", "changelog"))
                .isEqualTo("file:///var/chk/changelog");
        assertThat(StorageLocation.child("file:/var/chk", "changelog"))
                .isEqualTo("file:/var/chk/changelog");
        assertThat(StorageLocation.child("hdfs://namenode:8020/flink/chk", "changelog"))
                .isEqualTo("hdfs://namenode:8020/flink/chk/changelog");
    }

    @Test
    void shouldTurnPlainPathsIntoAbsoluteFileUrisWhetherOrNotTheFolderExists(@TempDir Path tmp)
            throws Exception {
        String cwd = Path.of("").toAbsolutePath().toUri().toString().replaceAll("/$", "");
        assertThat(StorageLocation.uri("chk")).isEqualTo(cwd + "/chk");
        assertThat(StorageLocation.uri("a/b")).isEqualTo(cwd + "/a/b");
        assertThat(StorageLocation.child("chk", "changelog")).isEqualTo(cwd + "/chk/changelog");
        assertThat(StorageLocation.uri("/var/lib/trainwatch/checkpoints"))
                .isEqualTo("file:///var/lib/trainwatch/checkpoints");
        // a colon not followed by a slash is part of a file name, not a scheme
        assertThat(StorageLocation.uri("chk:1")).isEqualTo(cwd + "/chk:1");
        assertThat(StorageLocation.uri("/")).isEqualTo("file:///");
        assertThat(StorageLocation.child("/", "changelog")).isEqualTo("file:///changelog");
        // spaces are escaped, so the result is a valid URI
        assertThat(StorageLocation.uri("/var/my chk")).isEqualTo("file:///var/my%20chk");
        Path existing = Files.createDirectories(tmp.resolve("chk"));
        String expected = "file://" + existing.toAbsolutePath();
        assertThat(StorageLocation.uri(existing.toString())).isEqualTo(expected);
        assertThat(StorageLocation.uri(tmp.resolve("missing").toString()))
                .isEqualTo("file://" + tmp.toAbsolutePath().resolve("missing"));
        assertThat(StorageLocation.child(existing.toString(), "changelog"))
                .isEqualTo(expected + "/changelog");
    }

    @Test
    void shouldGiveFlinkTheCheckpointAndChangelogLocationsUnmangled() {
        ReadableConfig s3 =
                KafkaPipeline.environment(config("s3://bucket/chk", true)).getConfiguration();
        assertThat(s3.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("s3://bucket/chk");
        assertThat(s3.get(CHANGELOG_BASE_PATH)).isEqualTo("s3://bucket/chk/changelog");
        ReadableConfig file =
                KafkaPipeline.environment(config("file:///var/chk", true)).getConfiguration();
        assertThat(file.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo("file:///var/chk");
        assertThat(file.get(CHANGELOG_BASE_PATH)).isEqualTo("file:///var/chk/changelog");
        String cwd = Path.of("").toAbsolutePath().toUri().toString().replaceAll("/$", "");
        ReadableConfig plain = KafkaPipeline.environment(config("chk", false)).getConfiguration();
        assertThat(plain.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo(cwd + "/chk");
        assertThat(plain.get(CHANGELOG_BASE_PATH)).isNull();
        assertThat(
                        KafkaPipeline.environment(config(null, false))
                                .getConfiguration()
                                .get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isNull();
    }

    @Test
    void shouldGiveFlinkTheChosenStateBackendWithIncrementalCheckpointsForRocksDb() {
        ReadableConfig heap =
                KafkaPipeline.environment(config("s3://bucket/chk", false)).getConfiguration();
        assertThat(heap.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(heap.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isFalse();
        JobConfig rocks =
                JobConfig.builder("localhost:9092")
                        .topics("e", "a", "d")
                        .checkpointDir("s3://bucket/chk")
                        .stateBackend(JobConfig.parseStateBackend("rocksdb"))
                        .build();
        ReadableConfig onDisk = KafkaPipeline.environment(rocks).getConfiguration();
        assertThat(onDisk.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(onDisk.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(onDisk.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo("s3://bucket/chk");
    }

    @Test
    void shouldRefuseAnEmptyCheckpointLocationNamingTheFlag() {
        assertThatThrownBy(() -> config(" ", false))
                .hasMessage(
                        "--checkpoint-dir must not be empty (a folder, or a URI such as s3://bucket/checkpoints)");
    }

    private static JobConfig config(String checkpointDir, boolean changelog) {
        return JobConfig.builder("localhost:9092")
                .topics("e", "a", "d")
                .groupId("g")
                .checkpointDir(checkpointDir)
                .transactionalIdPrefix("p")
                .stateChangelog(changelog)
                .build();
    }
}
