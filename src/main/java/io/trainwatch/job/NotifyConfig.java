package io.trainwatch.job;

import io.trainwatch.notify.DispatchSettings;
import io.trainwatch.notify.NotifyTarget;

import java.io.Serializable;
import java.util.List;

/**
 * The notification output: where alerts go ({@code --notify}, in order), the Grafana link for Slack
 * messages ({@code --grafana-url}, may be null), and how delivery behaves (retry horizon, dry run).
 * Off when null in {@link JobConfig}. {@link #toString()} masks every secret.
 */
public record NotifyConfig(List<NotifyTarget> targets, String grafanaUrl, DispatchSettings settings)
        implements Serializable {
    public static final String NOTIFY = "--notify";
    public static final String GRAFANA_URL = "--grafana-url";
    public static final String RETRY_HORIZON = "--notify-retry-horizon";
    public static final String RETRY_HORIZON_DEFAULT = "PT10M";
    public static final String DRY_RUN = "--notify-dry-run";
    public static final String FAILED_TOPIC = "--notify-failed-topic";
    public static final String FAILED_TOPIC_DEFAULT = "trainwatch.notifications.failed";
    public static final String SENT_LOG_TOPIC = "--notify-log-topic";
    public static final String SENT_LOG_TOPIC_DEFAULT = "trainwatch.notifications.sent";

    public NotifyConfig {
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException(NOTIFY + ": at least one target");
        }
        targets = List.copyOf(targets);
    }
}
