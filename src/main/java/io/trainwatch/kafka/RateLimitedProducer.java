package io.trainwatch.kafka;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends records at a fixed rate, as a live training fleet would: the n-th record leaves at {@code
 * start + n / rate} (the clock starts at the first record's turn), so a late send is followed by a
 * burst that catches up rather than by a lower rate. {@link #sent()} and {@link #failed()} may be
 * read from any thread.
 */
public final class RateLimitedProducer implements AutoCloseable {
    private final KafkaProducer<String, String> producer;
    private final String topic;
    private final double eventsPerSecond;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    /** A send only returns a future: without this, a record the brokers refuse is lost unseen. */
    private final Callback onAcknowledged =
            (metadata, e) -> {
                if (e != null) {
                    firstFailure.compareAndSet(null, e);
                    failed.incrementAndGet();
                }
            };

    private long start;

    /**
     * @param settings producer settings besides the brokers and the string serializers
     */
    public RateLimitedProducer(
            String bootstrapServers,
            String topic,
            int eventsPerSecond,
            Map<String, Object> settings) {
        if (eventsPerSecond < 1) {
            throw new IllegalArgumentException(
                    "the rate must be >= 1 event/s, got " + eventsPerSecond);
        }
        this.producer = KafkaClients.producer(bootstrapServers, settings);
        this.topic = topic;
        this.eventsPerSecond = eventsPerSecond;
    }

    /**
     * Waits until the next record is due (at once when it is late). {@link #send} waits itself;
     * calling this first lets a caller note the time the record leaves.
     */
    public void awaitTurn() {
        long n = sent.get();
        if (n == 0 && start == 0) {
            start = System.nanoTime();
        }
        long wait = start + (long) (n * 1e9 / eventsPerSecond) - System.nanoTime();
        if (wait > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    /**
     * Waits for the record's turn, then sends it (asynchronously: {@link #flush()} waits for the
     * acknowledgements and reports the records that were not delivered).
     */
    public void send(String key, String value) {
        awaitTurn();
        producer.send(new ProducerRecord<>(topic, key, value), onAcknowledged);
        sent.incrementAndGet();
    }

    /**
     * Sends at once, outside the rate (records that set the scene, such as run starts); not counted
     * in {@link #sent()}.
     */
    public void sendNow(String key, String value) {
        producer.send(new ProducerRecord<>(topic, key, value), onAcknowledged);
    }

    /** Records sent at the rate so far. */
    public long sent() {
        return sent.get();
    }

    /**
     * Records (sent at the rate or at once) the brokers did not acknowledge so far: too large, or
     * expired while no broker could take them.
     */
    public long failed() {
        return failed.get();
    }

    /**
     * Waits for the acknowledgements of every record sent so far.
     *
     * @throws IllegalStateException naming how many records were not delivered and the first error,
     *     when any was not
     */
    public void flush() {
        producer.flush();
        long n = failed.get();
        if (n > 0) {
            Exception e = firstFailure.get();
            throw new IllegalStateException(
                    n
                            + " record(s) could not be delivered to "
                            + topic
                            + " (the first: "
                            + e.getClass().getSimpleName()
                            + ": "
                            + e.getMessage()
                            + ")");
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
