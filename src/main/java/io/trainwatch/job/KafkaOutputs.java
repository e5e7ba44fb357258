package io.trainwatch.job;

import io.trainwatch.event.FailedNotification;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.datastream.DataStream;

import java.util.Properties;

/**
 * The pipeline's outputs written to Kafka: alerts, dead letters, and series when {@value
 * JobConfig#SERIES_TOPIC} is given. Exactly once by default (Kafka transactions committed at each
 * checkpoint; read them with isolation.level=read_committed); at least once with {@value
 * JobConfig#ALERTS_DELIVERY} at-least-once (each record sent as it comes, the producers flushed at
 * each checkpoint, records after the restored checkpoint written again after a failure). The sinks
 * run at the job's parallelism, chained to the operator they follow.
 */
public final class KafkaOutputs {
    /**
     * Kafka producers' transaction timeout: above any checkpoint interval, within the broker's
     * default maximum (15 min).
     */
    static final String TRANSACTION_TIMEOUT_MS = "900000";

    /**
     * How long a broker outage the job rides out without a restart: a sink's records wait in its
     * producer and the next checkpoint's transaction waits to start (initTransactions), then
     * everything goes on where it was. A longer outage fails the task and the restart strategy
     * restores the last checkpoint. Far below the transaction timeout, so that a checkpointed
     * transaction is still open on the broker when the job, back, commits it.
     */
    static final String BROKER_OUTAGE_RIDE_OUT_MS = "60000";

    /**
     * At least once, a record leaves as soon as the producer's sender is free: alerts are few, and
     * a wait to fill batches would be all of their latency. Under load, records still batch up
     * behind the requests in flight. (Kafka 3.9's default too; 4.0 raises it to 5 ms.)
     */
    static final String AT_LEAST_ONCE_LINGER_MS = "0";

    private KafkaOutputs() {}

    public static void attach(TrainwatchJob.Outputs outputs, JobConfig cfg) {
        outputs.alerts()
                .sinkTo(
                        sink(
                                cfg,
                                new KafkaSerde.AlertSerializationSchema(cfg.alertsTopic()),
                                "alerts"))
                .uid("alerts-sink")
                .name("alerts-sink");
        outputs.deadLetters()
                .sinkTo(
                        sink(
                                cfg,
                                new KafkaSerde.DeadLetterSerializationSchema(cfg.deadLetterTopic()),
                                "dead-letters"))
                .uid("dead-letter-sink")
                .name("dead-letter-sink");
        if (cfg.seriesTopic() != null) {
            outputs.series()
                    .sinkTo(
                            sink(
                                    cfg,
                                    new KafkaSerde.SeriesSerializationSchema(cfg.seriesTopic()),
                                    "series"))
                    .uid("series-sink")
                    .name("series-sink");
        }
    }

    /**
     * Notifications given up, to {@link JobConfig#notifyFailedTopic()}, delivered like the other
     * outputs.
     */
    public static void attachFailedNotifications(
            DataStream<FailedNotification> failed, JobConfig cfg) {
        failed.sinkTo(
                        sink(
                                cfg,
                                new KafkaSerde.FailedNotificationSerializationSchema(
                                        cfg.notifyFailedTopic()),
                                "notify-failed"))
                .uid("notify-failed-sink")
                .name("notify-failed-sink")
                .setParallelism(1);
    }

    private static <T> KafkaSink<T> sink(
            JobConfig cfg, KafkaRecordSerializationSchema<T> serializer, String name) {
        Properties p = new Properties();
        p.putAll(cfg.kafkaProperties());
        // while the broker is away: send() buffers, flush() at a checkpoint waits up to
        // delivery.timeout.ms for the records, and (exactly once) the checkpoint's new transaction
        // waits up to max.block.ms in initTransactions (Kafka's defaults are 120 s and 60 s: one
        // window here, so that an outage either passes unnoticed or fails the task once)
        p.putIfAbsent("max.block.ms", BROKER_OUTAGE_RIDE_OUT_MS);
        p.putIfAbsent("delivery.timeout.ms", BROKER_OUTAGE_RIDE_OUT_MS);
        var builder =
                KafkaSink.<T>builder()
                        .setBootstrapServers(cfg.bootstrapServers())
                        .setRecordSerializer(serializer);
        if (cfg.alertsDelivery() == JobConfig.AlertsDelivery.AT_LEAST_ONCE) {
            // no transaction: the writer flushes its producer at each checkpoint (before the
            // barrier goes on), so every record before a checkpoint is on the brokers once it
            // completes
            p.putIfAbsent("linger.ms", AT_LEAST_ONCE_LINGER_MS);
            return builder.setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                    .setKafkaProducerConfig(p)
                    .build();
        }
        p.putIfAbsent("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        return builder.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(cfg.transactionalIdPrefix() + "-" + name)
                .setKafkaProducerConfig(p)
                .build();
    }
}
