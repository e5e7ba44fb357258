package io.trainwatch.cli;

import io.trainwatch.job.JobConfig;
import io.trainwatch.job.NotifyConfig;
import io.trainwatch.notify.DispatchSettings;
import io.trainwatch.notify.NotifyTarget;

import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code --notify}, {@code --grafana-url}, {@code --notify-retry-horizon} and {@code
 * --notify-dry-run}, the same for {@code run}, {@code replay} and {@code demo} (a picocli mixin).
 */
final class NotifyOptions {
    @Option(
            names = NotifyConfig.NOTIFY,
            paramLabel = "TYPE=TARGET[;min_severity=S][;runs=REGEX][;kinds=K1,K2]",
            description = {
                "Send alerts to people. Repeatable. TYPE webhook (TARGET a URL or env:VAR; ;auth=env:VAR sends an",
                "Authorization header), slack (TARGET env:VAR holding the incoming-webhook URL) or pagerduty (TARGET",
                "env:VAR holding the Events API v2 routing key; ;url=URL for a proxy). min_severity info|warning|critical",
                "(default warning; critical for pagerduty); runs: a regex the run id must match; kinds: alert kinds."
            })
    List<String> targets = new ArrayList<>();

    @Option(
            names = NotifyConfig.GRAFANA_URL,
            paramLabel = "URL",
            description = "Grafana's address: Slack messages link the run's dashboard.")
    String grafanaUrl;

    @Option(
            names = NotifyConfig.RETRY_HORIZON,
            defaultValue = NotifyConfig.RETRY_HORIZON_DEFAULT,
            paramLabel = "DURATION",
            description = {
                "How long a notification is retried (timeouts, 5xx, 429) before it is given up to the",
                "failed-notification output. ISO-8601 or milliseconds. Default: ${DEFAULT-VALUE}."
            })
    String retryHorizon;

    @Option(
            names = NotifyConfig.DRY_RUN,
            description =
                    "Print each notification (secrets masked) instead of sending it: try --notify rules on a replay.")
    boolean dryRun;

    /** The notification output; null without {@code --notify}. Secrets read through {@code env}. */
    NotifyConfig config(Function<String, String> env) {
        if (targets.isEmpty()) {
            if (grafanaUrl != null || dryRun) {
                throw new UserInputException(
                        (grafanaUrl != null ? NotifyConfig.GRAFANA_URL : NotifyConfig.DRY_RUN)
                                + " needs at least one "
                                + NotifyConfig.NOTIFY);
            }
            return null;
        }
        try {
            List<NotifyTarget> parsed = new ArrayList<>();
            for (String t : targets) {
                parsed.add(NotifyTarget.parse(t, env));
            }
            Duration horizon = JobConfig.parseDuration(NotifyConfig.RETRY_HORIZON, retryHorizon);
            if (horizon.isNegative() || horizon.isZero()) {
                throw new UserInputException(
                        NotifyConfig.RETRY_HORIZON + " must be longer than 0, got " + retryHorizon);
            }
            return new NotifyConfig(
                    parsed,
                    grafanaUrl,
                    DispatchSettings.defaults().withHorizon(horizon).withDryRun(dryRun));
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }
}
