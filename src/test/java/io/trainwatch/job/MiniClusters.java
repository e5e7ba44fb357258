package io.trainwatch.job;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The Flink MiniCluster the pipeline integration tests run under. */
final class MiniClusters {
    private MiniClusters() {}

    /** One TaskManager with two slots: the pipeline at parallelism 2. */
    static MiniClusterExtension parallelismTwo() {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(2)
                        .build());
    }
}
