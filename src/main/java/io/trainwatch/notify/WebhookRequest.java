package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code webhook} notification of an alert: the alert JSON (format v1, as {@link
 * JsonWriter#alert} writes it) POSTed with {@code Content-Type: application/json}, an {@code
 * Idempotency-Key} and, when the target has {@code auth=env:VAR}, an {@code Authorization} header.
 */
public final class WebhookRequest {
    public static final String CONTENT_TYPE = "Content-Type";
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    public static final String AUTHORIZATION = "Authorization";

    private WebhookRequest() {}

    public static Notification of(NotifyTarget target, Alert alert) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(CONTENT_TYPE, "application/json");
        headers.put(IDEMPOTENCY_KEY, idempotencyKey(alert));
        if (target.authorization() != null) {
            headers.put(AUTHORIZATION, target.authorization());
        }
        return new Notification(target.url(), headers, JsonWriter.alert(alert));
    }

    /**
     * SHA-256 (hex) of alert_id, status, occurrences and step: the same for a retry or a replay of
     * one alert, different for each update of an incident (they share alert_id but not occurrences
     * and step) and for its resolution. Hashed because alert ids hold the run id, which may have
     * characters a header cannot carry.
     */
    public static String idempotencyKey(Alert alert) {
        return sha256Hex(
                alert.alertId + "\n" + alert.status + "\n" + alert.occurrences + "\n" + alert.step);
    }

    static String sha256Hex(String text) {
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256")
                            .digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            // every Java platform must provide SHA-256
            throw new IllegalStateException(e);
        }
    }
}
