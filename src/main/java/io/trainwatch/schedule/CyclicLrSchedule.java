package io.trainwatch.schedule;

/**
 * torch CyclicLR (triangular, triangular2, exp_range), with torch's float arithmetic: {@code cycle
 * = floor(1 + i/total)}, {@code x = 1 + i/total - cycle}, rising for {@code x <= step_ratio}.
 * exp_range scales by {@code gamma^i} (per iteration), the others per cycle. CyclicLR overwrites
 * the optimizer's LR with {@code base_lr}, so the group LRs play no part.
 */
record CyclicLrSchedule(
        double[] baseLr,
        double[] maxLr,
        double totalSize,
        double stepRatio,
        String mode,
        double gamma)
        implements Schedule {
    public int groups() {
        return baseLr.length;
    }

    public double lr(int group, long index) {
        double cycle = Math.floor(1 + index / totalSize);
        double x = 1. + index / totalSize - cycle;
        double scaleFactor = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1);
        double baseHeight = (maxLr[group] - baseLr[group]) * scaleFactor;
        double scale =
                switch (mode) {
                    case "triangular" -> 1.;
                    case "triangular2" -> 1 / Math.pow(2., cycle - 1);
                    default ->
                            Math.pow(gamma, (double) index); // exp_range: scale_mode 'iterations'
                };
        return baseLr[group] + baseHeight * scale;
    }
}
