package io.trainwatch.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fleet simulator's producer against a real broker: the rate (a lower bound on the time taken,
 * which a loaded machine cannot break), what it counts, and what it says about records the brokers
 * did not take.
 */
class RateLimitedProducerTest {
    @RegisterExtension static final KafkaBroker broker = new KafkaBroker();

    @Test
    void shouldRefuseARateBelowOneEventPerSecondNamingIt() {
        for (int rate : new int[] {0, -5}) {
            assertThatThrownBy(
                            () ->
                                    new RateLimitedProducer(
                                            broker.bootstrapServers(), "never", rate, Map.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the rate must be >= 1 event/s, got " + rate);
        }
    }

    @Test
    void shouldSendAtTheRateCountingOnlyTheRecordsSentAtIt() throws Exception {
        String topic = "rate";
        TopicAdmin.create(broker.bootstrapServers(), topic, 1);
        int rate = 20;
        int n = 11;
        List<String> expected = new ArrayList<>(List.of("start-a", "start-b"));
        try (RateLimitedProducer p =
                new RateLimitedProducer(broker.bootstrapServers(), topic, rate, Map.of())) {
            // records that set the scene go at once; connecting takes a while, and the clock must
            // not have started meanwhile (the first rated records would then leave in a burst)
            p.sendNow("run", "start-a");
            p.sendNow("run", "start-b");
            p.flush();
            assertThat(p.sent()).isZero();

            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                p.send("run", "step-" + i);
                expected.add("step-" + i);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            // the n-th record leaves at start + n / rate: the last at (n - 1) / rate
            assertThat(seconds).isGreaterThanOrEqualTo((n - 1) / (double) rate - 0.01);
            p.flush();
            assertThat(p.sent()).isEqualTo(n);
            assertThat(p.failed()).isZero();
        }
        // flushed means on the broker: every record, in order
        assertThat(broker.readAll(topic))
                .extracting(ConsumerRecord::value)
                .containsExactlyElementsOf(expected);
    }

    @Test
    void shouldCountAndReportARecordTooLargeWhenFlushingAndStillDeliverTheOthers()
            throws Exception {
        String topic = "too-large";
        TopicAdmin.create(broker.bootstrapServers(), topic, 1);
        try (RateLimitedProducer p =
                new RateLimitedProducer(
                        broker.bootstrapServers(),
                        topic,
                        1000,
                        Map.of("max.request.size", 2_000))) {
            p.sendNow("run", "start");
            p.send("run", "x".repeat(5_000));
            p.send("run", "after");
            assertThatThrownBy(p::flush)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("1 record(s) could not be delivered to too-large")
                    .hasMessageContaining("RecordTooLargeException");
            assertThat(p.failed()).isEqualTo(1);
            assertThat(p.sent()).isEqualTo(2);
        }
        assertThat(broker.readAll(topic))
                .extracting(ConsumerRecord::value)
                .containsExactly("start", "after");
    }

    @Test
    void shouldReportTheRecordsSentWhileTheBrokerWasDownWhenFlushing() throws Exception {
        String topic = "outage";
        TopicAdmin.create(broker.bootstrapServers(), topic, 1);
        // a record expires 0.5 s after it was sent (the default is 2 minutes)
        Map<String, Object> settings =
                Map.of("linger.ms", 0, "request.timeout.ms", 400, "delivery.timeout.ms", 500);
        try (RateLimitedProducer p =
                new RateLimitedProducer(broker.bootstrapServers(), topic, 1000, settings)) {
            p.send("run", "before");
            p.flush();
            broker.kafka().stop();
            try {
                p.send("run", "during-1");
                p.sendNow("run", "during-2");
                assertThatThrownBy(p::flush)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageStartingWith("2 record(s) could not be delivered to outage")
                        .hasMessageContaining("TimeoutException");
                assertThat(p.failed()).isEqualTo(2);
                assertThat(p.sent()).isEqualTo(2);
            } finally {
                broker.kafka().restart();
            }
        }
        assertThat(broker.readAll(topic))
                .extracting(ConsumerRecord::value)
                .containsExactly("before");
    }
}
