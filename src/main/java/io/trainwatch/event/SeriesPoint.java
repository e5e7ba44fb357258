package io.trainwatch.event;

/**
 * One step of the per-run series behind the dashboard: actual and scheduled LR per group, loss and
 * its running mean, grad norm and the clip threshold trainwatch currently suggests. A Flink POJO.
 */
public class SeriesPoint {
    public String runId;
    public long step;
    public Long timeMillis;
    public double[] actualLr;

    /**
     * Scheduled LR per group; null without a declared schedule. For an adaptive schedule: the
     * highest allowed.
     */
    public double[] scheduledLr;

    public Double loss;
    public Double lossMean;
    public Double gradNorm;
    public Double suggestedClip;

    public SeriesPoint() {}
}
