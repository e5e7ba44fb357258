package io.trainwatch.notify;

import java.net.URI;
import java.util.Map;

/**
 * One HTTP POST to send: the endpoint, the headers in order, the body. Plain data; delivery is the
 * sender's. {@link #toString()} shows only the endpoint's scheme and host and the header names: the
 * path of a Slack webhook, a routing key in the body and an Authorization value are secrets.
 */
public record Notification(String url, Map<String, String> headers, String body) {
    public Notification {
        headers = Map.copyOf(headers);
    }

    @Override
    public String toString() {
        URI uri = URI.create(url);
        return "POST "
                + uri.getScheme()
                + "://"
                + uri.getHost()
                + "/… headers="
                + headers.keySet().stream().sorted().toList()
                + " body="
                + body.length()
                + " chars";
    }
}
