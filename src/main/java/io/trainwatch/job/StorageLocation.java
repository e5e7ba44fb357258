package io.trainwatch.job;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where checkpoints and the state changelog go, as the URI string Flink is given. A location with a
 * scheme ({@code s3://bucket/chk}, {@code hdfs://nn:8020/chk}, {@code file:///var/chk}, {@code
 * file:/var/chk}) passes through unchanged, for Flink's file systems to resolve; a plain path is
 * made absolute (against the working directory) and turned into a {@code file:} URI.
 */
public final class StorageLocation {
    /**
     * RFC 3986 scheme then ":/". Two characters at least, so a drive letter ({@code C:/x}) is no
     * scheme; a bare {@code name:x} without the slash is a plain (relative) file name.
     */
    private static final Pattern WITH_SCHEME =
            Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:/.*", Pattern.DOTALL);

    private StorageLocation() {}

    /**
     * {@code location} as Flink gets it: unchanged with a scheme, else the absolute {@code file:}
     * URI of the path.
     */
    public static String uri(String location) {
        if (WITH_SCHEME.matcher(location).matches()) {
            return location;
        }
        String uri = Path.of(location).toAbsolutePath().toUri().toString();
        // Path.toUri adds a "/" when the folder exists: the same flag prints and configures the
        // same either way
        return uri.endsWith("/") && !uri.equals("file:///")
                ? uri.substring(0, uri.length() - 1)
                : uri;
    }

    /**
     * {@code name} under {@code location}, built on the URI string (a local Path would mangle
     * {@code s3://}).
     */
    public static String child(String location, String name) {
        String base = uri(location);
        return base.endsWith("/") ? base + name : base + "/" + name;
    }
}
