package io.trainwatch.event;

/**
 * A notification given up after its retries (or refused at once by its receiver): the dead letter
 * of the notification output. It names the target as it may be printed (secrets masked), the alert
 * and status it was for, why it failed, and carries the alert as it would have been sent (format
 * v1), so that nothing is lost: a person or a script can send it again. A Flink POJO.
 */
public class FailedNotification {
    /** The target as {@code --notify} would print it: no URL of a secret, no key, no token. */
    public String target;

    public String alertId;
    public String runId;
    public String kind;
    public String severity;
    public String status;

    /** The Idempotency-Key the attempts carried (webhook) or would have. */
    public String idempotencyKey;

    public int attempts;

    /** The last HTTP status, 0 when the last attempt timed out or could not connect. */
    public int lastStatus;

    public String reason;
    public long failedAtMillis;

    /** The alert, JSON format v1. */
    public String alert;

    public FailedNotification() {}
}
