package io.trainwatch.detect;

/**
 * Copies a state's arrays into arrays it already has, for {@link RunState#copyFrom}: the monitor saves every run's
 * state before judging an event, so this runs once per event and must not allocate. A fresh array only when the
 * lengths differ (a state restored from an older layout) or the target has none.
 */
final class ArrayCopy {
    private ArrayCopy() {
    }

    static double[] into(double[] from, double[] to) {
        if (from == null) {
            return null;
        }
        if (to == null || to.length != from.length) {
            return from.clone();
        }
        System.arraycopy(from, 0, to, 0, from.length);
        return to;
    }

    static long[] into(long[] from, long[] to) {
        if (from == null) {
            return null;
        }
        if (to == null || to.length != from.length) {
            return from.clone();
        }
        System.arraycopy(from, 0, to, 0, from.length);
        return to;
    }

    static boolean[] into(boolean[] from, boolean[] to) {
        if (from == null) {
            return null;
        }
        if (to == null || to.length != from.length) {
            return from.clone();
        }
        System.arraycopy(from, 0, to, 0, from.length);
        return to;
    }

    /** Strings are immutable: the references are copied. */
    static String[] into(String[] from, String[] to) {
        if (from == null) {
            return null;
        }
        if (to == null || to.length != from.length) {
            return from.clone();
        }
        System.arraycopy(from, 0, to, 0, from.length);
        return to;
    }
}
