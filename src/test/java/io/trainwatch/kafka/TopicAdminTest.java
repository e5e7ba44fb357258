package io.trainwatch.kafka;

import io.trainwatch.job.JobConfig;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Creating and checking the job's topics against a real broker (one node; its default is 2
 * partitions), and telling whether a consumer group has read a topic to its end.
 */
class TopicAdminTest {
    @RegisterExtension static final KafkaBroker broker = new KafkaBroker();

    /** The job's four topics, named after {@code name}. */
    static JobConfig.Builder config(String name) {
        return JobConfig.builder(broker.bootstrapServers())
                .topics(name + ".events", name + ".alerts", name + ".dead-letter")
                .seriesTopic(name + ".series");
    }

    @Test
    void shouldCreateTheMissingTopicsWithThePartitionsGivenOnceAndSayWhich() throws Exception {
        JobConfig cfg = config("prepare").topicPartitions(3).build();
        List<String> all =
                List.of(
                        "prepare.events",
                        "prepare.alerts",
                        "prepare.dead-letter",
                        "prepare.series");

        assertThat(TopicAdmin.prepareTopics(cfg)).containsExactlyElementsOf(all);
        Map<String, TopicDescription> topics = broker.describe(all);
        for (String t : all) {
            assertThat(topics.get(t).partitions()).as(t).hasSize(3);
            assertThat(topics.get(t).partitions())
                    .as(t)
                    .allSatisfy(p -> assertThat(p.replicas()).hasSize(1));
        }
        // a second start finds them all: nothing created, nothing changed
        assertThat(TopicAdmin.prepareTopics(cfg)).isEmpty();
        assertThat(broker.partitions("prepare.events")).isEqualTo(3);
    }

    @Test
    void shouldCreateOnlyWhatIsMissingAndLeaveExistingTopicsAsTheyAre() throws Exception {
        broker.createTopic("partly.alerts", 1);
        JobConfig cfg = config("partly").seriesTopic(null).build();

        assertThat(TopicAdmin.prepareTopics(cfg))
                .containsExactly("partly.events", "partly.dead-letter");
        assertThat(broker.partitions("partly.alerts")).isEqualTo(1);
        assertThat(broker.partitions("partly.events")).isEqualTo(2);
        assertThat(broker.topicNames()).doesNotContain("partly.series");
    }

    @Test
    void shouldNameTheMissingTopicAndCreateNoneWhenNotAllowedTo() throws Exception {
        broker.createTopic("nocreate.events", 1);
        JobConfig cfg = config("nocreate").createTopics(false).build();

        assertThatThrownBy(() -> TopicAdmin.prepareTopics(cfg))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "topic nocreate.alerts does not exist (and --no-create-topics was given)");
        assertThat(broker.topicNames())
                .contains("nocreate.events")
                .doesNotContain("nocreate.alerts", "nocreate.dead-letter", "nocreate.series");

        // once they all exist the check passes and creates nothing
        for (String t : List.of("nocreate.alerts", "nocreate.dead-letter", "nocreate.series")) {
            broker.createTopic(t, 1);
        }
        assertThat(TopicAdmin.prepareTopics(cfg)).isEmpty();
    }

    @Test
    void shouldLetJobsStartingTogetherAllPrepareTheSameTopics() throws Exception {
        JobConfig cfg = config("together").build();
        List<List<String>> created = concurrently(4, () -> TopicAdmin.prepareTopics(cfg));
        // each topic created once, by whichever start got there first; no start failed
        assertThat(created.stream().flatMap(List::stream))
                .containsExactlyInAnyOrder(
                        "together.events",
                        "together.alerts",
                        "together.dead-letter",
                        "together.series");
    }

    @Test
    void shouldSayInOneSentenceWithoutSecretsWhenTheBrokersAddressIsUnusable() {
        String jaas =
                "org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " username=\"trainer\" password=\"hunter2\";";
        Map<String, String> sasl =
                Map.of(
                        "security.protocol", "SASL_PLAINTEXT",
                        "sasl.mechanism", "PLAIN",
                        "sasl.jaas.config", jaas);
        // fails before any request: no wait for a timeout
        JobConfig unresolvable =
                JobConfig.builder("nosuchhost.invalid:9092").kafkaProperties(sasl).build();
        assertThatThrownBy(() -> TopicAdmin.prepareTopics(unresolvable))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "cannot reach Kafka at nosuchhost.invalid:9092 (ConfigException: No"
                                + " resolvable bootstrap urls given in bootstrap.servers); check"
                                + " --bootstrap-servers and the security settings given with"
                                + " --kafka-property");

        JobConfig noPort = JobConfig.builder("localhost").build();
        assertThatThrownBy(() -> TopicAdmin.prepareTopics(noPort))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot reach Kafka at localhost (ConfigException:")
                .hasMessageContaining("bootstrap.servers")
                .hasMessageEndingWith(
                        "; check --bootstrap-servers and the security settings given with --kafka-property");

        // a JAAS line without its closing ';': the reason, not the line with its password
        JobConfig badJaas =
                config("jaas")
                        .kafkaProperties(
                                Map.of(
                                        "security.protocol", "SASL_PLAINTEXT",
                                        "sasl.mechanism", "PLAIN",
                                        "sasl.jaas.config", jaas.replace(";", "")))
                        .build();
        assertThatThrownBy(() -> TopicAdmin.prepareTopics(badJaas))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot reach Kafka at " + broker.bootstrapServers())
                .hasMessageContaining("JAAS")
                .hasMessageNotContaining("hunter2")
                .hasMessageNotContaining("\n");
        assertThatThrownBy(
                        () -> TopicAdmin.createIfMissing("nosuchhost.invalid:9092", "demo.events"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(
                        "cannot reach Kafka at nosuchhost.invalid:9092 to create demo.events")
                .hasMessageContaining(
                        "(ConfigException: No resolvable bootstrap urls given in"
                                + " bootstrap.servers)");
        // (a broker that does not answer takes the full 15 s wait: RunCommandTest covers it)
    }

    @Test
    void shouldCreateATopicWithTheBrokersDefaultsOnlyWhenItIsMissing() throws Exception {
        TopicAdmin.createIfMissing(broker.bootstrapServers(), "if-missing");
        assertThat(broker.partitions("if-missing")).isEqualTo(2);
        TopicAdmin.createIfMissing(broker.bootstrapServers(), "if-missing");
        assertThat(broker.partitions("if-missing")).isEqualTo(2);

        broker.createTopic("if-missing.existing", 5);
        TopicAdmin.createIfMissing(broker.bootstrapServers(), "if-missing.existing");
        assertThat(broker.partitions("if-missing.existing")).isEqualTo(5);
    }

    @Test
    void shouldLetProducersStartingTogetherAllCreateTheSameTopic() throws Exception {
        // the losers of the race see TopicExistsException: not an error
        concurrently(
                4,
                () -> {
                    TopicAdmin.createIfMissing(broker.bootstrapServers(), "raced");
                    return null;
                });
        assertThat(broker.partitions("raced")).isEqualTo(2);
    }

    @Test
    void shouldNameTheTopicAndTheBrokersReasonWhenItCannotBeCreated() {
        assertThatThrownBy(() -> TopicAdmin.createIfMissing(broker.bootstrapServers(), "bad name!"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("bad name!")
                .hasMessageContaining(broker.bootstrapServers())
                .hasMessageContaining("InvalidTopicException");
    }

    @Test
    void shouldCreateATopicWithThePartitionsGivenAndRefuseOneThatExists() throws Exception {
        TopicAdmin.create(broker.bootstrapServers(), "created", 3);
        List<TopicPartitionInfo> parts =
                broker.describe(List.of("created")).get("created").partitions();
        assertThat(parts).hasSize(3).allSatisfy(p -> assertThat(p.replicas()).hasSize(1));
        // not silently kept with other partitions: the bench sizes its topic on purpose
        assertThatThrownBy(() -> TopicAdmin.create(broker.bootstrapServers(), "created", 1))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TopicExistsException.class);
        assertThat(broker.partitions("created")).isEqualTo(3);
    }

    @Test
    void shouldTellWhetherTheGroupsCommittedOffsetsReachTheEndOfEveryPartition() throws Exception {
        String topic = "progress";
        String group = "progress-job";
        broker.createTopic(topic, 2);
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        produce(topic, 0, 3);
        produce(topic, 1, 2);

        // no offsets committed yet
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), group, topic)).isFalse();
        commit(group, Map.of(p0, 3L));
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), group, topic)).isFalse();
        commit(group, Map.of(p0, 3L, p1, 1L));
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), group, topic)).isFalse();
        commit(group, Map.of(p0, 3L, p1, 2L));
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), group, topic)).isTrue();

        // another record arrives: not at the end any more
        produce(topic, 1, 1);
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), group, topic)).isFalse();
        assertThat(TopicAdmin.committedAtEnd(broker.bootstrapServers(), "other-group", topic))
                .isFalse();
    }

    private static void produce(String topic, int partition, int records) throws Exception {
        try (KafkaProducer<String, String> p =
                KafkaClients.producer(broker.bootstrapServers(), Map.of())) {
            for (int i = 0; i < records; i++) {
                p.send(new ProducerRecord<>(topic, partition, "k", "v" + i))
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Commits offsets for the group as the job does at a checkpoint (the group has no members). */
    private static void commit(String group, Map<TopicPartition, Long> offsets) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> o = new HashMap<>();
        offsets.forEach((tp, offset) -> o.put(tp, new OffsetAndMetadata(offset)));
        try (Admin a = broker.admin()) {
            a.alterConsumerGroupOffsets(group, o).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** The results of {@code callers} calls started at once, each on its own thread. */
    private static <T> List<T> concurrently(int callers, Callable<T> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> calls = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                calls.add(
                        pool.submit(
                                () -> {
                                    go.await();
                                    return call.call();
                                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : calls) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
