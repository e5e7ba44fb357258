package io.trainwatch.notify;

import io.trainwatch.event.Alert;

import java.util.Objects;

/**
 * A notification owed to one target; a Flink POJO kept in the delivery operator's checkpointed
 * state, so that a restore resends what was not delivered, with the attempts it already had.
 *
 * <p>{@link #copy()} copies the counters but shares the {@link Alert}: nothing here changes an
 * alert, and whoever submits one must not change it afterwards.
 */
public class PendingNotification {
    /** Index into the dispatcher's target list. */
    public int target;

    public Alert alert;

    /** Wall-clock millis of the first attempt; 0 before it. */
    public long firstAttemptMillis;

    /** Attempts made so far. */
    public int attempts;

    public PendingNotification() {}

    public PendingNotification(int target, Alert alert) {
        this.target = target;
        this.alert = alert;
    }

    /**
     * {@code target + ":" + }{@link WebhookRequest#idempotencyKey}: one per (target, alert, status,
     * update).
     */
    public String key() {
        return target + ":" + WebhookRequest.idempotencyKey(alert);
    }

    public PendingNotification copy() {
        PendingNotification c = new PendingNotification(target, alert);
        c.firstAttemptMillis = firstAttemptMillis;
        c.attempts = attempts;
        return c;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PendingNotification p)) {
            return false;
        }
        return target == p.target
                && firstAttemptMillis == p.firstAttemptMillis
                && attempts == p.attempts
                && Objects.equals(alert, p.alert);
    }

    @Override
    public int hashCode() {
        return Objects.hash(target, alert, firstAttemptMillis, attempts);
    }

    /** Target index, alert and attempts; an alert holds no secret. */
    @Override
    public String toString() {
        return "notification to target "
                + target
                + " of ["
                + alert
                + "] after "
                + attempts
                + " attempts";
    }
}
