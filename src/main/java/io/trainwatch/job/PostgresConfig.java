package io.trainwatch.job;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the PostgreSQL sink writes: the {@code --jdbc-url} and the credentials, which come only
 * from the environment ({@value #USER_ENV}, {@value #PASSWORD_ENV}) so they never show in a command
 * line, a process list or a log. The password is never printed: {@link #toString()} masks it and
 * the URL may not carry one.
 *
 * @param user null: the driver's default (the operating-system user)
 * @param password null: none (trust or peer authentication)
 */
public record PostgresConfig(String url, String user, String password) {
    public static final String USER_ENV = "TRAINWATCH_JDBC_USER";
    public static final String PASSWORD_ENV = "TRAINWATCH_JDBC_PASSWORD";
    static final String URL_PREFIX = "jdbc:postgresql:";

    /** URL parameters that would put credentials on the command line. */
    private static final Pattern CREDENTIAL_PARAMETER =
            Pattern.compile("(?i)[?&](user|password|sslpassword)=([^&]*)");

    public PostgresConfig {
        if (url == null || !url.startsWith(URL_PREFIX)) {
            throw new IllegalArgumentException(
                    JobConfig.JDBC_URL
                            + " must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database), got \""
                            + (url == null ? "" : printable(url))
                            + "\"");
        }
        Matcher m = CREDENTIAL_PARAMETER.matcher(url);
        if (m.find() || authority(url).contains("@")) {
            throw new IllegalArgumentException(
                    JobConfig.JDBC_URL
                            + " must not carry credentials ("
                            + printable(url)
                            + "): set "
                            + USER_ENV
                            + " and "
                            + PASSWORD_ENV
                            + " in the environment instead");
        }
        if (user != null && user.isBlank()) {
            user = null;
        }
        if (password != null && password.isEmpty()) {
            password = null;
        }
    }

    /** The URL with the credentials from {@code env} (usually {@code System.getenv()}). */
    public static PostgresConfig fromEnvironment(String url, Map<String, String> env) {
        return new PostgresConfig(url, env.get(USER_ENV), env.get(PASSWORD_ENV));
    }

    /** Who connects, for messages: the user, or a note that the driver picks it. */
    public String printableUser() {
        return user != null
                ? user
                : System.getProperty("user.name", "?") + " (" + USER_ENV + " not set)";
    }

    /**
     * The URL as it may be printed (it cannot hold a password, see the constructor; masked again in
     * case).
     */
    public String printableUrl() {
        return printable(url);
    }

    @Override
    public String toString() {
        return "PostgresConfig[url="
                + printableUrl()
                + ", user="
                + user
                + ", password="
                + (password == null ? "(none)" : "***")
                + "]";
    }

    private static String printable(String url) {
        return CREDENTIAL_PARAMETER
                .matcher(url)
                .replaceAll(
                        r ->
                                Matcher.quoteReplacement(
                                        r.group().charAt(0)
                                                + r.group(1)
                                                + "="
                                                + (r.group(1)
                                                                .toLowerCase(Locale.ROOT)
                                                                .equals("user")
                                                        ? r.group(2)
                                                        : "***")))
                .replaceAll("//[^/@?]*@", "//***@");
    }

    /** host:port part of jdbc:postgresql://host:port/db (empty for jdbc:postgresql:db). */
    private static String authority(String url) {
        String rest = url.substring(URL_PREFIX.length());
        if (!rest.startsWith("//")) {
            return "";
        }
        int end = rest.length();
        for (char c : new char[] {'/', '?'}) {
            int i = rest.indexOf(c, 2);
            end = i < 0 ? end : Math.min(end, i);
        }
        return rest.substring(2, end);
    }
}
