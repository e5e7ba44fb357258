package io.trainwatch.job;

import io.trainwatch.threshold.Thresholds;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobConfigTest {
    static JobConfig with(String alerts, Duration checkpoint, int parallelism, Map<String, String> props) {
        return new JobConfig("localhost:9092", "e", alerts, "d", null, "g", JobConfig.StartingOffsets.COMMITTED, null, checkpoint, parallelism,
                props, true, 2, null, false, "p", Thresholds.DEFAULTS, false);
    }

    @Test
    void shouldRefuseInvalidSettingsNamingTheFlag() {
        assertThatThrownBy(() -> with("e", Duration.ofSeconds(10), 2, Map.of())).hasMessageContaining("must all differ");
        assertThatThrownBy(() -> with("a", Duration.ofMillis(10), 2, Map.of())).hasMessageStartingWith("--checkpoint-interval must be at least 100 ms");
        assertThatThrownBy(() -> with("a", Duration.ofSeconds(10), 0, Map.of())).hasMessageStartingWith("--parallelism must be >= 1");
        assertThatThrownBy(() -> with("a", Duration.ofSeconds(10), 2, Map.of("bootstrap.servers", "x:1")))
                .hasMessageContaining("--bootstrap-servers, not --kafka-property bootstrap.servers");
        assertThatThrownBy(() -> JobConfig.parseStartingOffsets("newest")).hasMessage("--starting-offsets must be earliest, latest or committed, got \"newest\"");
    }

    @Test
    void shouldNeverPrintSecrets() {
        JobConfig c = with("a", Duration.ofSeconds(10), 2, Map.of("sasl.jaas.config", "org...PlainLoginModule required username=\"u\" password=\"hunter2\";",
                "ssl.truststore.password", "hunter2", "security.protocol", "SASL_SSL", "ssl.key.password", "hunter2"));
        assertThat(c.printableKafkaProperties().toString()).doesNotContain("hunter2").contains("security.protocol=SASL_SSL", "sasl.jaas.config=***");
        assertThat(c.kafkaProperties()).containsEntry("ssl.truststore.password", "hunter2");
    }
}
