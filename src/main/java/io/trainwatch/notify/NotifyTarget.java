package io.trainwatch.notify;

import io.trainwatch.detect.AlertKind;
import io.trainwatch.detect.Severity;
import io.trainwatch.event.Alert;

import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * One {@code --notify TYPE=TARGET[;min_severity=...][;runs=REGEX][;kinds=K1,K2][;auth=env:VAR]
 * [;url=URL]} value: where alerts go and which ones.
 *
 * <ul>
 *   <li>{@code webhook=URL} or {@code webhook=env:VAR}: the alert JSON is POSTed to the URL; {@code
 *       auth=env:VAR} sends that variable's value as the {@code Authorization} header.
 *   <li>{@code slack=env:VAR}: VAR holds the incoming-webhook URL. Only from the environment: the
 *       URL is the credential, and a command line is visible to every user of the host.
 *   <li>{@code pagerduty=env:VAR}: VAR holds the Events API v2 routing key; {@code url=URL}
 *       overrides the endpoint ({@link #PAGERDUTY_EVENTS_URL}).
 * </ul>
 *
 * <p>{@code min_severity} defaults to {@code critical} for pagerduty (a page wakes someone up) and
 * to {@code warning} otherwise (info alerts are for the dashboard). {@code runs} is a Java regex
 * the whole run id must match; {@code kinds} lists {@link AlertKind} names. Without them every run
 * and kind is accepted.
 *
 * <p>Secrets (a URL read from the environment, the routing key, the Authorization value) never
 * appear in {@link #toString()} nor in an error message; errors are {@link
 * IllegalArgumentException}s naming the part, the value when it is not secret, and what is allowed.
 */
public final class NotifyTarget implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

    private static final String ENV_PREFIX = "env:";
    private static final String MASK = "***";

    /** Where a notification goes, and in which format. */
    public enum Type {
        WEBHOOK,
        SLACK,
        PAGERDUTY;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Type type;
    private final String url;
    private final boolean urlSecret;
    private final String routingKey;
    private final String authorization;
    private final Severity minSeverity;
    private final Pattern runs;
    private final Set<AlertKind> kinds;

    private NotifyTarget(
            Type type,
            String url,
            boolean urlSecret,
            String routingKey,
            String authorization,
            Severity minSeverity,
            Pattern runs,
            Set<AlertKind> kinds) {
        this.type = type;
        this.url = url;
        this.urlSecret = urlSecret;
        this.routingKey = routingKey;
        this.authorization = authorization;
        this.minSeverity = minSeverity;
        this.runs = runs;
        this.kinds = kinds;
    }

    /**
     * Parses one {@code --notify} value, reading {@code env:VAR} references through {@code env}.
     */
    public static NotifyTarget parse(String value, Function<String, String> env) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(
                    "--notify: empty; expected TYPE=TARGET with TYPE webhook, slack or pagerduty");
        }
        String[] parts = value.split(";", -1);
        int eq = parts[0].indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException(
                    "--notify: missing '=' in the first part; expected TYPE=TARGET with TYPE"
                            + " webhook, slack or pagerduty");
        }
        Type type = parseType(parts[0].substring(0, eq).trim());
        String target = parts[0].substring(eq + 1).trim();

        Severity minSeverity = type == Type.PAGERDUTY ? Severity.CRITICAL : Severity.WARNING;
        Pattern runs = null;
        Set<AlertKind> kinds = EnumSet.allOf(AlertKind.class);
        String authorization = null;
        String urlOption = null;
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            int oeq = option.indexOf('=');
            String name = oeq < 0 ? option : option.substring(0, oeq).trim();
            String optionValue = oeq < 0 ? "" : option.substring(oeq + 1).trim();
            switch (name) {
                case "min_severity" -> minSeverity = parseSeverity(optionValue);
                case "runs" -> runs = parseRuns(optionValue);
                case "kinds" -> kinds = parseKinds(optionValue);
                case "auth" -> {
                    requireType(type, Type.WEBHOOK, "auth");
                    authorization = fromEnv("auth", optionValue, env);
                }
                case "url" -> {
                    requireType(type, Type.PAGERDUTY, "url");
                    urlOption = requireHttpUrl("url", optionValue);
                }
                default ->
                        throw new IllegalArgumentException(
                                "--notify: unknown option '"
                                        + name
                                        + "'; allowed: min_severity, runs, kinds, auth (webhook),"
                                        + " url (pagerduty)");
            }
        }

        return switch (type) {
            case WEBHOOK -> {
                boolean secret = target.startsWith(ENV_PREFIX);
                String url =
                        requireHttpUrl(
                                "webhook target",
                                secret ? fromEnv("webhook target", target, env) : target);
                yield new NotifyTarget(
                        type, url, secret, null, authorization, minSeverity, runs, kinds);
            }
            case SLACK -> {
                String url = requireHttpUrl("slack target", fromEnv("slack target", target, env));
                yield new NotifyTarget(type, url, true, null, null, minSeverity, runs, kinds);
            }
            case PAGERDUTY -> {
                String routingKey = fromEnv("pagerduty target", target, env);
                String url = urlOption == null ? PAGERDUTY_EVENTS_URL : urlOption;
                yield new NotifyTarget(
                        type, url, false, routingKey, null, minSeverity, runs, kinds);
            }
        };
    }

    /** Whether an alert goes to this target: severe enough, of a listed run and kind. */
    public boolean accepts(Alert alert) {
        Severity severity;
        AlertKind kind;
        try {
            severity = Severity.valueOf(String.valueOf(alert.severity).toUpperCase(Locale.ROOT));
            kind = AlertKind.valueOf(String.valueOf(alert.kind));
        } catch (IllegalArgumentException unknown) {
            // a newer producer's severity or kind: no rule here can say it matters
            return false;
        }
        // Severity is declared most severe first
        return severity.compareTo(minSeverity) <= 0
                && kinds.contains(kind)
                && (runs == null || (alert.runId != null && runs.matcher(alert.runId).matches()));
    }

    public Type type() {
        return type;
    }

    /** The endpoint notifications are POSTed to; a secret for slack and env-read webhooks. */
    public String url() {
        return url;
    }

    /** The PagerDuty routing key (a secret); null for other types. */
    public String routingKey() {
        return routingKey;
    }

    /** The webhook's Authorization header value (a secret); null when not configured. */
    public String authorization() {
        return authorization;
    }

    public Severity minSeverity() {
        return minSeverity;
    }

    /**
     * Names this target without showing it: SHA-256 (hex, 16 characters) of its type, URL, routing
     * key and Authorization value. The same target gives the same fingerprint in every run of the
     * job, so what a checkpoint owes a target is found again after a restart.
     */
    public String fingerprint() {
        return WebhookRequest.sha256Hex(
                        type.wire() + "\n" + url + "\n" + routingKey + "\n" + authorization)
                .substring(0, 16);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(type.wire()).append('=');
        s.append(urlSecret ? MASK : url);
        if (routingKey != null) {
            s.append(";routing_key=").append(MASK);
        }
        if (authorization != null) {
            s.append(";auth=").append(MASK);
        }
        s.append(";min_severity=").append(minSeverity.wire());
        if (runs != null) {
            s.append(";runs=").append(runs.pattern());
        }
        if (!kinds.equals(EnumSet.allOf(AlertKind.class))) {
            s.append(";kinds=")
                    .append(kinds.stream().map(Enum::name).collect(Collectors.joining(",")));
        }
        return s.toString();
    }

    private static Type parseType(String name) {
        for (Type t : Type.values()) {
            if (t.wire().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException(
                "--notify type: '" + name + "' is not one of webhook, slack, pagerduty");
    }

    private static Severity parseSeverity(String value) {
        for (Severity s : Severity.values()) {
            if (s.wire().equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException(
                "--notify min_severity: '" + value + "' is not one of info, warning, critical");
    }

    private static Pattern parseRuns(String regex) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(
                    "--notify runs: '" + regex + "' is not a Java regex: " + e.getDescription());
        }
    }

    private static Set<AlertKind> parseKinds(String list) {
        Set<AlertKind> kinds = EnumSet.noneOf(AlertKind.class);
        for (String name : list.split(",", -1)) {
            try {
                kinds.add(AlertKind.valueOf(name.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "--notify kinds: '"
                                + name.trim()
                                + "' is not one of "
                                + Arrays.stream(AlertKind.values())
                                        .map(Enum::name)
                                        .collect(Collectors.joining(", ")));
            }
        }
        return kinds;
    }

    private static void requireType(Type type, Type required, String option) {
        if (type != required) {
            throw new IllegalArgumentException(
                    "--notify "
                            + option
                            + ": only for "
                            + required.wire()
                            + ", not "
                            + type.wire());
        }
    }

    /** The value of {@code env:VAR}; errors name the variable, never its value. */
    private static String fromEnv(String part, String reference, Function<String, String> env) {
        if (!reference.startsWith(ENV_PREFIX) || reference.length() == ENV_PREFIX.length()) {
            // the reference may be the secret itself pasted inline: do not echo it
            throw new IllegalArgumentException(
                    "--notify " + part + ": expected env:VAR (secrets come from the environment)");
        }
        String variable = reference.substring(ENV_PREFIX.length());
        String value = env.apply(variable);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(
                    "--notify " + part + ": environment variable " + variable + " is not set");
        }
        return value.trim();
    }

    /**
     * The URL unchanged if it is absolute http(s); the error does not echo it (it may hold a
     * token).
     */
    private static String requireHttpUrl(String part, String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme();
            if (("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
                    && uri.getHost() != null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // reported below without the URL
        }
        throw new IllegalArgumentException(
                "--notify " + part + ": not an absolute http or https URL");
    }
}
