package io.trainwatch.job;

import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobConfigTest {
    static JobConfig with(
            String alerts, Duration checkpoint, int parallelism, Map<String, String> props) {
        return JobConfig.builder("localhost:9092")
                .topics("e", alerts, "d")
                .groupId("g")
                .checkpointInterval(checkpoint)
                .parallelism(parallelism)
                .kafkaProperties(props)
                .transactionalIdPrefix("p")
                .build();
    }

    @Test
    void shouldRefuseInvalidSettingsNamingTheFlag() {
        assertThatThrownBy(() -> with("e", Duration.ofSeconds(10), 2, Map.of()))
                .hasMessageContaining("must all differ");
        assertThatThrownBy(() -> with("a", Duration.ofMillis(10), 2, Map.of()))
                .hasMessageStartingWith("--checkpoint-interval must be at least 100 ms");
        assertThatThrownBy(() -> with("a", Duration.ofSeconds(10), 0, Map.of()))
                .hasMessageStartingWith("--parallelism must be >= 1");
        assertThatThrownBy(
                        () ->
                                with(
                                        "a",
                                        Duration.ofSeconds(10),
                                        2,
                                        Map.of("bootstrap.servers", "x:1")))
                .hasMessageContaining(
                        "--bootstrap-servers, not --kafka-property bootstrap.servers");
        assertThatThrownBy(() -> JobConfig.parseStartingOffsets("newest"))
                .hasMessage(
                        "--starting-offsets must be earliest, latest or committed, got \"newest\"");
        assertThatThrownBy(() -> JobConfig.parseAlertsDelivery("exactly_once"))
                .hasMessage(
                        "--alerts-delivery must be exactly-once or at-least-once, got \"exactly_once\"");
        assertThat(JobConfig.parseAlertsDelivery("at-least-once"))
                .isEqualTo(JobConfig.AlertsDelivery.AT_LEAST_ONCE);
        assertThat(JobConfig.parseAlertsDelivery("Exactly-Once"))
                .isEqualTo(JobConfig.AlertsDelivery.EXACTLY_ONCE);
    }

    @Test
    void shouldDefaultEverySettingNotGivenToItsFlagsDefault() {
        JobConfig c = JobConfig.builder("localhost:9092").build();
        assertThat(c.eventsTopic()).isEqualTo(JobConfig.EVENTS_TOPIC_DEFAULT);
        assertThat(c.alertsTopic()).isEqualTo(JobConfig.ALERTS_TOPIC_DEFAULT);
        assertThat(c.deadLetterTopic()).isEqualTo(JobConfig.DEAD_LETTER_TOPIC_DEFAULT);
        assertThat(c.seriesTopic()).isNull();
        assertThat(c.groupId()).isEqualTo(JobConfig.GROUP_ID_DEFAULT);
        assertThat(c.startingOffsets()).isEqualTo(JobConfig.StartingOffsets.COMMITTED);
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.parallelism()).isEqualTo(2);
        assertThat(c.topicPartitions()).isEqualTo(2);
        assertThat(c.createTopics()).isTrue();
        assertThat(c.transactionalIdPrefix()).isEqualTo(JobConfig.TRANSACTIONAL_ID_PREFIX_DEFAULT);
        assertThat(c.thresholds()).isSameAs(Thresholds.DEFAULTS);
        assertThat(c.postgres()).isNull();
        assertThat(c.seriesEvery()).isEqualTo(1);
        assertThat(c.alertsDelivery()).isEqualTo(JobConfig.AlertsDelivery.EXACTLY_ONCE);
        assertThatThrownBy(() -> JobConfig.builder(" ").build())
                .hasMessageStartingWith("--bootstrap-servers is required");
    }

    @Test
    void shouldNeverPrintSecrets() {
        JobConfig c =
                with(
                        "a",
                        Duration.ofSeconds(10),
                        2,
                        Map.of(
                                "sasl.jaas.config",
                                "org...PlainLoginModule required username=\"u\" password=\"hunter2\";",
                                "ssl.truststore.password",
                                "hunter2",
                                "security.protocol",
                                "SASL_SSL",
                                "ssl.key.password",
                                "hunter2"));
        assertThat(c.printableKafkaProperties().toString())
                .doesNotContain("hunter2")
                .contains("security.protocol=SASL_SSL", "sasl.jaas.config=***");
        assertThat(c.kafkaProperties()).containsEntry("ssl.truststore.password", "hunter2");
    }
}
