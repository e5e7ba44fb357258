package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.SeriesPoint;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** How trainwatch reads and writes Kafka records. */
public final class KafkaSerde {
    public static final String HEADER_FIELD = "trainwatch-field";
    public static final String HEADER_REASON = "trainwatch-reason";
    public static final String HEADER_SOURCE = "trainwatch-source";

    private KafkaSerde() {}

    /**
     * Event records as they came, with their position, so bad ones can be dead-lettered as they
     * came, and their key (decoded by {@link KeyRecordsFunction}).
     */
    public static class RawRecordDeserializationSchema
            implements KafkaRecordDeserializationSchema<RawRecord> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
            out.collect(
                    RawRecord.ofKafka(
                            record.key(),
                            record.value(),
                            record.topic(),
                            record.partition(),
                            record.offset()));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            TrainwatchTypes.register(); // the source may be built before the pipeline
            return TypeInformation.of(RawRecord.class);
        }
    }

    /** Alerts keyed by run_id, value = alert format v1. */
    public static class AlertSerializationSchema implements KafkaRecordSerializationSchema<Alert> {
        private final String topic;

        public AlertSerializationSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                Alert a, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    a.runId.getBytes(StandardCharsets.UTF_8),
                    JsonWriter.alert(a).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Series points keyed by run_id. */
    public static class SeriesSerializationSchema
            implements KafkaRecordSerializationSchema<SeriesPoint> {
        private final String topic;

        public SeriesSerializationSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                SeriesPoint p, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    p.runId.getBytes(StandardCharsets.UTF_8),
                    JsonWriter.series(p).getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Dead letters: the value is the original payload as it arrived (so it can be fixed and
     * re-sent), the field, reason and source position ride as headers. A payload cut at 64 KiB says
     * so in the reason.
     */
    public static class DeadLetterSerializationSchema
            implements KafkaRecordSerializationSchema<DeadLetter> {
        private final String topic;

        public DeadLetterSerializationSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                DeadLetter d, KafkaSinkContext context, Long timestamp) {
            String reason =
                    d.payloadTruncated
                            ? d.reason
                                    + " (payload of "
                                    + d.payloadLength
                                    + " characters cut to "
                                    + DeadLetter.MAX_PAYLOAD_CHARS
                                    + ")"
                            : d.reason;
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    null,
                    d.payload.getBytes(StandardCharsets.UTF_8),
                    List.of(
                            new RecordHeader(HEADER_FIELD, bytes(d.field)),
                            new RecordHeader(HEADER_REASON, bytes(reason)),
                            new RecordHeader(HEADER_SOURCE, bytes(d.source))));
        }

        private static byte[] bytes(String s) {
            return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Notifications given up, keyed by run_id, value = {@link JsonWriter#failedNotification}. */
    public static class FailedNotificationSerializationSchema
            implements KafkaRecordSerializationSchema<FailedNotification> {
        private final String topic;

        public FailedNotificationSerializationSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                FailedNotification f, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    f.runId == null ? null : f.runId.getBytes(StandardCharsets.UTF_8),
                    JsonWriter.failedNotification(f).getBytes(StandardCharsets.UTF_8));
        }
    }
}
