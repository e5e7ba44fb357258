package io.trainwatch.job;

import io.trainwatch.kafka.TopicAdmin;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The live job (KafkaPipeline, local Flink) as the end-to-end tests run it, started on a broker;
 * closing cancels it.
 */
final class LiveJob implements AutoCloseable {
    final JobConfig config;
    final BrokerTopics topics;
    private final JobClient job;
    private final long startedNanos = System.nanoTime();

    private LiveJob(JobConfig config, JobClient job) {
        this.config = config;
        this.job = job;
        this.topics = new BrokerTopics(config.bootstrapServers());
    }

    /**
     * Topics {@code <name>.events}, {@code .alerts}, {@code .dead-letter} and consumer group {@code
     * <name>}, read from the earliest offset, exactly-once with a checkpoint every 300 ms (so
     * alerts commit soon), parallelism 2, default thresholds.
     */
    static JobConfig config(String bootstrapServers, String name) {
        return JobConfig.builder(bootstrapServers)
                .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                .groupId(name)
                .startingOffsets(JobConfig.StartingOffsets.EARLIEST)
                .checkpointInterval(Duration.ofMillis(300))
                .transactionalIdPrefix(name)
                .build();
    }

    static LiveJob start(String bootstrapServers, String name) throws Exception {
        JobConfig cfg = config(bootstrapServers, name);
        TopicAdmin.prepareTopics(cfg);
        StreamExecutionEnvironment env = KafkaPipeline.environment(cfg);
        KafkaPipeline.define(env, cfg);
        return new LiveJob(cfg, env.executeAsync(name + "-itcase"));
    }

    double secondsSinceStart() {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    /**
     * Waits until the job has read (and committed) every record of its events topic; returns how
     * many there are.
     */
    long awaitEventsRead(Duration timeout) throws Exception {
        return topics.awaitCommittedAtEnd(config.groupId(), config.eventsTopic(), timeout);
    }

    @Override
    public void close() throws Exception {
        job.cancel().get(60, TimeUnit.SECONDS);
    }
}
