package io.trainwatch.detect;

import io.trainwatch.schedule.ScheduleSpec;
import io.trainwatch.threshold.ThresholdOverrides;
import io.trainwatch.threshold.Thresholds;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RunState#copyFrom} and its two halves (what the monitor saves before each event and puts
 * back when judging it fails; the statistics a restart copies from a new state): it must copy every
 * field of every object in the state (a field added later and forgotten there fails this test),
 * share nothing mutable with its source, and reuse the target's arrays.
 */
class StateCopyTest {
    @Test
    void shouldCopyEveryFieldOfEveryObjectInTheState() throws Exception {
        RunState source = new RunState();
        fill(source, new Random(1));
        RunState copy = new RunState();
        copy.copyFrom(source);
        List<String> differences = new ArrayList<>();
        compare("state", source, copy, differences, new IdentityHashMap<>());
        assertThat(differences).as("fields copyFrom missed or shared").isEmpty();
        assertThat(copy.losses.median()).isEqualTo(source.losses.median());
    }

    @Test
    void shouldReuseTheTargetsArraysSoSavingAStateDoesNotAllocate() throws Exception {
        RunState source = new RunState();
        fill(source, new Random(2));
        RunState target = new RunState();
        List<Object> before = mutableParts(target);
        target.copyFrom(source);
        List<Object> after = mutableParts(target);
        assertThat(after).hasSameSizeAs(before);
        for (int i = 0; i < before.size(); i++) {
            assertThat(after.get(i)).as("object or array #" + i).isSameAs(before.get(i));
        }
    }

    @Test
    void shouldPutARunBackExactlyAfterItWasChanged() {
        // a real state, changed by 50 more steps, then put back: it judges the next steps as if
        // nothing had happened
        RunFixture run =
                new RunFixture("back")
                        .start(
                                "{\"scheduler\":\"cosine\",\"params\":{\"num_warmup_steps\":20,\"num_training_steps\":500,\"base_lrs\":[0.01]}}");
        run.steps(0, 199, 1, run::healthyLoss, run::healthyGrad, run::declared);
        RunState saved = new RunState();
        saved.copyFrom(run.state);
        RunFixture other = new RunFixture("back");
        other.state.copyFrom(run.state);
        run.steps(
                200, 249, 1, s -> 40.0, s -> 90.0,
                s -> 0.5); // a blow-up that opens alerts and moves every statistic
        assertThat(run.alerts).isNotEmpty();
        run.state.copyFrom(saved);
        run.alerts.clear();
        run.steps(250, 400, 1, s -> 1.0 + s * 1e-4, s -> 0.8, run::declared);
        other.steps(250, 400, 1, s -> 1.0 + s * 1e-4, s -> 0.8, run::declared);
        assertThat(run.alerts).isEqualTo(other.alerts);
        assertThat(run.state.stepsSeen).isEqualTo(other.state.stepsSeen);
    }

    /** Gives every field of the state's object graph a value unlike its default. */
    private static void fill(Object o, Random rnd) throws Exception {
        for (Field f : fields(o.getClass())) {
            Class<?> t = f.getType();
            if (f.getName().startsWith("ascending")) {
                continue; // RobustWindow's sorted view: derived from its values, checked through
                // median()
            }
            Object current = f.get(o);
            if (t == long.class) {
                f.setLong(o, rnd.nextInt(1000) + 1);
            } else if (t == int.class) {
                f.setInt(o, rnd.nextInt(30) + 1);
            } else if (t == double.class) {
                f.setDouble(o, rnd.nextDouble() + 0.5);
            } else if (t == boolean.class) {
                f.setBoolean(o, true);
            } else if (t == String.class) {
                f.set(o, "s" + rnd.nextInt());
            } else if (t == Double.class) {
                f.set(o, rnd.nextDouble() + 0.5);
            } else if (t == Integer.class) {
                f.set(o, rnd.nextInt(30) + 1);
            } else if (t == Long.class) {
                f.set(o, (long) rnd.nextInt(1000) + 1);
            } else if (t == ThresholdOverrides.class) {
                f.set(o, ThresholdOverrides.of(Map.of("spike_mad_k", 6.0)));
            } else if (t == Thresholds.class) {
                f.set(o, Thresholds.DEFAULTS);
            } else if (t == io.trainwatch.schedule.DeclaredSchedule.class) {
                f.set(
                        o,
                        ScheduleSpec.parse(
                                "{\"scheduler\":\"StepLR\",\"params\":{\"step_size\":10,\"base_lrs\":[0.1]}}"));
            } else if (t.isArray()) {
                Object a =
                        Array.newInstance(
                                t.getComponentType(),
                                current == null ? 4 : Array.getLength(current));
                for (int i = 0; i < Array.getLength(a); i++) {
                    Class<?> c = t.getComponentType();
                    Array.set(
                            a,
                            i,
                            c == double.class
                                    ? rnd.nextDouble()
                                    : c == long.class
                                            ? (Object) (long) rnd.nextInt(1000)
                                            : c == int.class
                                                    ? (Object) rnd.nextInt(1000)
                                                    : c == boolean.class
                                                            ? (Object) rnd.nextBoolean()
                                                            : c == String.class
                                                                    ? "b" + rnd.nextInt()
                                                                    : null);
                }
                f.set(o, a);
            } else if (current != null
                    && t.getPackageName().equals(RunState.class.getPackageName())) {
                fill(current, rnd);
            } else {
                throw new AssertionError(
                        "StateCopyTest does not know how to fill "
                                + o.getClass().getSimpleName()
                                + "."
                                + f.getName()
                                + " ("
                                + t
                                + ")");
            }
        }
        if (o instanceof RobustWindow w) {
            w.count = RobustWindow.CAPACITY;
            w.next = 3;
        }
    }

    /** Every field equal, and no array or state object shared between source and copy. */
    private static void compare(
            String path, Object a, Object b, List<String> differences, Map<Object, Boolean> seen)
            throws Exception {
        if (seen.put(a, true) != null) {
            return;
        }
        for (Field f : fields(a.getClass())) {
            if (f.getName().startsWith("ascending")) {
                continue;
            }
            String p = path + "." + f.getName();
            Object x = f.get(a);
            Object y = f.get(b);
            Class<?> t = f.getType();
            if (t.isArray()) {
                if (x != null && x == y) {
                    differences.add(p + " is shared");
                } else if (!java.util.Objects.deepEquals(x, y)) {
                    differences.add(p + " differs");
                }
            } else if (x != null
                    && t.getPackageName().equals(RunState.class.getPackageName())
                    && !t.isEnum()) {
                if (x == y) {
                    differences.add(p + " is shared");
                } else {
                    compare(p, x, y, differences, seen);
                }
            } else if (!java.util.Objects.equals(x, y)) {
                differences.add(p + " differs: " + x + " vs " + y);
            }
        }
    }

    private static List<Object> mutableParts(Object o) throws Exception {
        List<Object> out = new ArrayList<>();
        for (Field f : fields(o.getClass())) {
            Object v = f.get(o);
            if (v == null || f.getName().startsWith("ascending")) {
                continue;
            }
            if (f.getType().isArray()) {
                out.add(v);
            } else if (f.getType().getPackageName().equals(RunState.class.getPackageName())
                    && !f.getType().isEnum()) {
                out.add(v);
                out.addAll(mutableParts(v));
            }
        }
        return out;
    }

    private static List<Field> fields(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers())) {
                    f.setAccessible(true);
                    out.add(f);
                }
            }
        }
        return out;
    }
}
