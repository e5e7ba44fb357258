package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.FailedNotification;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The notification output, attached to the pipeline's alerts like the other outputs: one operator
 * ({@link DeliverNotificationsOperator}) at parallelism 1, so that a target's rate limit and the
 * order of an alert's notifications hold across the whole job. Returns the notifications given up,
 * for the caller to write where its other dead letters go.
 */
public final class NotificationOutputs {
    private NotificationOutputs() {}

    /**
     * @param sentLog the sent-notification log on Kafka; null when there is none (replay)
     * @param afterCommit the job commits alerts at checkpoints (exactly once): notify once they are
     *     committed; false: notify as they come (replay, and the live job at least once)
     */
    public static DataStream<FailedNotification> attach(
            DataStream<Alert> alerts,
            NotifyConfig config,
            SentNotificationLog.Location sentLog,
            boolean afterCommit) {
        return alerts.transform(
                        "notify",
                        TypeInformation.of(FailedNotification.class),
                        new DeliverNotificationsOperator(config, sentLog, afterCommit))
                .uid("notify")
                .name("notify")
                .setParallelism(1);
    }
}
