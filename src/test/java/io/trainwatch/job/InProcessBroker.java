package io.trainwatch.job;

import io.trainwatch.embedded.EmbeddedKafka;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker (KRaft, in this JVM) for the tests of one class, started before them and
 * stopped after: {@code @RegisterExtension static final InProcessBroker broker = new
 * InProcessBroker();}.
 */
final class InProcessBroker implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedKafka kafka;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (kafka != null) {
            kafka.close();
        }
    }

    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    BrokerTopics topics() {
        return new BrokerTopics(bootstrapServers());
    }

    /**
     * The live job on this broker, reading and writing topics named after {@code name} (see {@link
     * LiveJob#config}).
     */
    LiveJob startJob(String name) throws Exception {
        return LiveJob.start(bootstrapServers(), name);
    }
}
