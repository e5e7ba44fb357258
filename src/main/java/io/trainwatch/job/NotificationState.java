package io.trainwatch.job;

import io.trainwatch.notify.PendingNotification;

/**
 * One entry of the notification operator's checkpointed state: a notification owed, the checkpoint
 * whose commit it waits for ({@link #COMMITTED} once its alert is committed and it is being
 * delivered), and its target by fingerprint, so that a restore with a changed {@code --notify} list
 * finds the right target or knows it is gone. A Flink POJO.
 */
public class NotificationState {
    /** The alert is committed: deliver it. */
    public static final long COMMITTED = -1;

    public long checkpointId;

    /** Wall-clock millis of the snapshot that kept it: the sent log is read from there. */
    public long snapshotMillis;

    public String targetFingerprint;
    public PendingNotification notification;

    public NotificationState() {}

    NotificationState(
            long checkpointId,
            long snapshotMillis,
            String targetFingerprint,
            PendingNotification notification) {
        this.checkpointId = checkpointId;
        this.snapshotMillis = snapshotMillis;
        this.targetFingerprint = targetFingerprint;
        this.notification = notification;
    }
}
