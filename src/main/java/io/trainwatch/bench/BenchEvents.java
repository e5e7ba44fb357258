package io.trainwatch.bench;

import java.util.Locale;

/**
 * The bench's synthetic runs: realistic v1 events of run {@code r} (key {@code run-00042}), about
 * 200 bytes each.
 */
final class BenchEvents {
    private BenchEvents() {}

    /**
     * A healthy step of run r at step s (a declared cosine schedule, realistic numbers), or a NaN
     * loss.
     */
    static String step(int r, long s, boolean nan) {
        double loss =
                nan ? Double.NaN : 1 + 2 * Math.exp(-s / 300.0) + 0.02 * Math.sin(s * 12.9898 + r);
        double grad = 0.8 + 0.1 * Math.sin(s * 78.233 + r);
        double lr =
                1e-3
                        * (s < 100
                                ? s / 100.0
                                : 0.5 * (1 + Math.cos(Math.PI * (s - 100) / 1_000_000.0)));
        return String.format(
                Locale.ROOT,
                "{\"type\":\"step\",\"run_id\":\"run-%05d\",\"step\":%d,\"loss\":%s,\"grad_norm\":%.6f,\"lr\":[%s],\"time\":%d}",
                r,
                s,
                nan ? "NaN" : String.format(Locale.ROOT, "%.6f", loss),
                grad,
                lr,
                System.currentTimeMillis());
    }

    /**
     * A run's start. Its incidents close one step after they fall quiet: every timed NaN is to
     * raise an alert of its own (the latency measured is the alert path's), not fold into the
     * incident of the run's previous NaN a few hundred steps before.
     */
    static String start(int r) {
        return String.format(
                Locale.ROOT,
                "{\"type\":\"run_start\",\"run_id\":\"run-%05d\",\"schedule\":{\"scheduler\":\"cosine\",\"params\":"
                        + "{\"num_warmup_steps\":100,\"num_training_steps\":1000100,\"base_lrs\":[0.001]}},"
                        + "\"thresholds\":{\"incident_window_steps\":1}}",
                r);
    }

    static String key(int r) {
        return String.format(Locale.ROOT, "run-%05d", r);
    }
}
