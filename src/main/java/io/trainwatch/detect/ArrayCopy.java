package io.trainwatch.detect;

import java.lang.reflect.Array;

/**
 * Copies a state's arrays into arrays it already has, for {@link RunState#copyFrom}: the monitor
 * saves a run's resume steps before judging each event ({@link RunState#copyRunFrom}), so this must
 * not allocate. A fresh array only when the lengths differ (a state restored from an older layout)
 * or the target has none. Strings are immutable: a String[] gets the references.
 */
final class ArrayCopy {
    private ArrayCopy() {}

    /**
     * {@code from}'s values in {@code to} (or in a new array of {@code from}'s length); any array
     * type, primitive or not.
     */
    @SuppressWarnings("unchecked")
    static <A> A into(A from, A to) {
        if (from == null) {
            return null;
        }
        int n = Array.getLength(from);
        A target =
                to != null && Array.getLength(to) == n
                        ? to
                        : (A) Array.newInstance(from.getClass().getComponentType(), n);
        System.arraycopy(from, 0, target, 0, n);
        return target;
    }
}
