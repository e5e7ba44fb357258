package io.trainwatch.job;

import io.trainwatch.embedded.EmbeddedKafka;
import io.trainwatch.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;

/**
 * A real Kafka broker and a real PostgreSQL for the live-path tests, started side by side (both
 * take a few seconds).
 */
record LiveServers(EmbeddedKafka kafka, EmbeddedPostgres postgres) implements AutoCloseable {
    static LiveServers start() throws IOException {
        CompletableFuture<EmbeddedPostgres> pg =
                CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return EmbeddedPostgres.start();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start();
        } catch (IOException | RuntimeException e) {
            pg.join().close();
            throw e;
        }
        return new LiveServers(kafka, pg.join());
    }

    @Override
    public void close() throws IOException {
        try {
            kafka.close();
        } finally {
            postgres.close();
        }
    }
}
