package io.trainwatch.notify;

/**
 * What became of one notification: delivered ({@code delivered}), or given up with the reason (e.g.
 * "HTTP 404 from slack=https://hooks.slack.com/… (not retried)"). {@code notification} is a copy
 * holding the attempts made; {@code lastStatus} is the last HTTP status, {@link
 * RetryPolicy#TIMED_OUT} when the last attempt got none or none was made; {@code atMillis} is the
 * wall-clock time of the outcome. {@code reason} never holds a secret: no URL path, routing key nor
 * Authorization value.
 */
public record DeliveryResult(
        PendingNotification notification,
        boolean delivered,
        int lastStatus,
        String reason,
        long atMillis) {}
