package io.trainwatch.cli;

import io.trainwatch.bench.LatencyProfile;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bench command end to end on a small load: every figure it promises is printed and plausible.
 */
class BenchCommandTest {
    @Test
    void shouldPrintRawJobFloorAndCeilingRatesAndEveryLatencyProfile() {
        CliRunner.Result r =
                CliRunner.run(
                        "bench",
                        "--events",
                        "20000",
                        "--runs",
                        "100",
                        "--latency-seconds",
                        "2",
                        "--throughput-checkpoint",
                        "PT1S");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out())
                .contains(
                        "produced      20,000 events",
                        "raw consume   20,000 events",
                        "job end to end 20,000 events");
        assertThat(r.out())
                .containsPattern(
                        "warm-up       one raw drain, job pass, floor pass and ceiling drain in \\d+\\.\\d s \\(not measured\\)");
        assertThat(r.out())
                .containsPattern(
                        "raw consume   20,000 events in \\d+\\.\\d+ s: [\\d,]+ events/s \\(plain KafkaConsumer, one thread; [\\d,]+ events/s from its first record to its last\\)");
        Matcher ratio =
                Pattern.compile(
                                "ratio job/raw  (\\d+\\.\\d+) end to end, (\\d+\\.\\d+) processing \\(vs the raw drain\\), (\\d+\\.\\d+) first record to last on both sides")
                        .matcher(r.out());
        assertThat(ratio.find()).as(r.out()).isTrue();
        assertThat(Double.parseDouble(ratio.group(1))).isPositive();
        // processing excludes job start and stop, so it is never slower than end to end
        assertThat(Double.parseDouble(ratio.group(2)))
                .isGreaterThanOrEqualTo(Double.parseDouble(ratio.group(1)));
        // the raw drain's own start-up is out of its first-record-to-last rate, so that ratio is
        // never the larger
        assertThat(Double.parseDouble(ratio.group(3)))
                .isLessThanOrEqualTo(Double.parseDouble(ratio.group(2)));
        assertThat(r.out())
                .containsPattern("job processing 20,000 events in \\d+\\.\\d+ s: [\\d,]+ events/s");
        assertComparators(r.out(), 20_000, 100);
        // every profile times real NaN alerts read back as its consumers read them (exactly once:
        // read_committed; at least once: read_uncommitted): every timed NaN's alert, at least 20,
        // after a warm-up that ended when the job kept up, however slow the machine (the waits are
        // bounded by conditions)
        for (String profile :
                new String[] {
                    "latency profile (checkpoint PT0.1S)",
                    "throughput profile (checkpoint PT1S)",
                    "at-least-once profile (checkpoint PT1S)"
                }) {
            Matcher m =
                    Pattern.compile(
                                    Pattern.quote(profile)
                                            + " at 5,000 events/s offered: p50 (\\d+) ms, p99 (\\d+) ms, max (\\d+) ms over (\\d+) alerts"
                                            + " \\(warm-up (\\d+\\.\\d) s, ([\\d,]+) events measured\\)\n")
                            .matcher(r.out());
            assertThat(m.find()).as(r.out()).isTrue();
            assertThat(Long.parseLong(m.group(1))).isLessThanOrEqualTo(Long.parseLong(m.group(2)));
            assertThat(Long.parseLong(m.group(2))).isLessThanOrEqualTo(Long.parseLong(m.group(3)));
            assertThat(Long.parseLong(m.group(4)))
                    .isGreaterThanOrEqualTo(LatencyProfile.MIN_TIMED_NANS);
            assertThat(Double.parseDouble(m.group(5)))
                    .isGreaterThanOrEqualTo(LatencyProfile.WARMUP_NANOS / 1e9);
            // --latency-seconds 2 at 5,000 events/s: at least 10,000 events in the measured window
            assertThat(Long.parseLong(m.group(6).replace(",", ""))).isGreaterThanOrEqualTo(10_000);
        }
        assertThat(r.out()).doesNotContain("got no alert", "): not measured");
    }

    @Test
    void shouldMeasureThroughputOnlyWithoutWarmUpWhenAskedTo() {
        CliRunner.Result r =
                CliRunner.run(
                        "bench",
                        "--events",
                        "5000",
                        "--runs",
                        "50",
                        "--no-warmup",
                        "--latency-seconds",
                        "0",
                        "--repeat",
                        "3");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("pass 3 of 3").doesNotContain("warm-up", "latency ", "pass 4");
        assertThat(
                        Pattern.compile("job processing 5,000 events")
                                .matcher(r.out())
                                .results()
                                .count())
                .isEqualTo(3);
        // the floor and the ceiling in every pass, over every event
        for (String line :
                new String[] {
                    "floor end to end 5,000 events",
                    "floor processing 5,000 events of 50 runs",
                    "ceiling       5,000 events",
                    "alerts        job ",
                    "ratio job/floor "
                }) {
            assertThat(
                            Pattern.compile("(?m)^" + Pattern.quote(line))
                                    .matcher(r.out())
                                    .results()
                                    .count())
                    .as(line)
                    .isEqualTo(3);
        }
        Matcher comparators =
                Pattern.compile(
                                "median of 3  ratio job/floor (\\d+\\.\\d+), job/ceiling (\\d+\\.\\d+), job/raw (\\d+\\.\\d+) \\(processing rates, first record to last\\)")
                        .matcher(r.out());
        assertThat(comparators.find()).as(r.out()).isTrue();
        assertThat(Double.parseDouble(comparators.group(1))).isPositive();
        assertThat(Double.parseDouble(comparators.group(2))).isPositive();
        Matcher median =
                Pattern.compile(
                                "median of 3  ratio job/raw (\\d+\\.\\d+) end to end, (\\d+\\.\\d+) processing")
                        .matcher(r.out());
        assertThat(median.find()).as(r.out()).isTrue();
        // the median is one of the three printed ratios
        assertThat(
                        Pattern.compile(
                                        "ratio job/raw  [\\d.]+ end to end, "
                                                + Pattern.quote(median.group(2))
                                                + " processing")
                                .matcher(r.out())
                                .find())
                .isTrue();
    }

    /**
     * The Flink floor and the engine-free ceiling print their rates (positive), and each read every
     * event the bench produced: the floor counted them by run, the ceiling judged them; the job's
     * alerts and the ceiling's are printed side by side.
     */
    private static void assertComparators(String out, long events, int runs) {
        Matcher floorWhole =
                Pattern.compile(
                                "floor end to end ([\\d,]+) events in (\\d+\\.\\d+) s: ([\\d,]+) events/s \\(Flink floor")
                        .matcher(out);
        assertThat(floorWhole.find()).as(out).isTrue();
        assertThat(count(floorWhole.group(1))).isEqualTo(events);
        assertThat(count(floorWhole.group(3))).isPositive();
        Matcher floor =
                Pattern.compile(
                                "floor processing ([\\d,]+) events of ([\\d,]+) runs in (\\d+\\.\\d+) s: ([\\d,]+) events/s \\(first record read to last record counted\\)")
                        .matcher(out);
        assertThat(floor.find()).as(out).isTrue();
        assertThat(count(floor.group(1))).isEqualTo(events);
        assertThat(count(floor.group(2))).isEqualTo(runs);
        assertThat(count(floor.group(4))).isPositive();
        Matcher ceiling =
                Pattern.compile(
                                "ceiling       ([\\d,]+) events in (\\d+\\.\\d+) s: ([\\d,]+) events/s \\(engine-free: .*; ([\\d,]+) events/s from its first record to its last\\);"
                                        + " ([\\d,]+) judged, ([\\d,]+) rejected, ([\\d,]+) runs, ([\\d,]+) alerts\n")
                        .matcher(out);
        assertThat(ceiling.find()).as(out).isTrue();
        assertThat(count(ceiling.group(1))).isEqualTo(events);
        assertThat(count(ceiling.group(3))).isPositive();
        assertThat(count(ceiling.group(4))).isPositive();
        assertThat(count(ceiling.group(5))).isEqualTo(events);
        assertThat(count(ceiling.group(6))).isZero();
        assertThat(count(ceiling.group(7))).isEqualTo(runs);
        Matcher alerts =
                Pattern.compile("alerts        job ([\\d,]+), ceiling ([\\d,]+): (.*)\n")
                        .matcher(out);
        assertThat(alerts.find()).as(out).isTrue();
        assertThat(count(alerts.group(2))).isEqualTo(count(ceiling.group(8)));
        // a difference is reported, not failed
        if (alerts.group(1).equals(alerts.group(2))) {
            assertThat(alerts.group(3)).isEqualTo("the same");
        } else {
            assertThat(alerts.group(3)).startsWith("THEY DIFFER");
        }
        Matcher ratios =
                Pattern.compile(
                                "ratio job/floor (\\d+\\.\\d+), job/ceiling (\\d+\\.\\d+), job/raw (\\d+\\.\\d+) \\(processing rates, first record to last\\)")
                        .matcher(out);
        assertThat(ratios.find()).as(out).isTrue();
        assertThat(Double.parseDouble(ratios.group(1))).isPositive();
        assertThat(Double.parseDouble(ratios.group(2))).isPositive();
        // job/raw is the pass's first-record-to-last ratio printed above it; on a small load the
        // raw drain's first record to last is a poll or two, so that ratio may round to 0.00
        assertThat(out)
                .contains(
                        " processing (vs the raw drain), "
                                + ratios.group(3)
                                + " first record to last on both sides\n");
    }

    private static long count(String digits) {
        return Long.parseLong(digits.replace(",", ""));
    }

    /**
     * Two fleet sizes on the same number of events: the job's passes at each in turn, then one row
     * per size with a positive rate, its ratio to the smallest and the state bytes per run of every
     * run the job's monitor judged.
     */
    @Test
    void shouldPrintAFleetTableRowPerSizeWithTheRateRatioAndStatePerRun() {
        CliRunner.Result r =
                CliRunner.run(
                        "bench",
                        "--fleet",
                        "200,100",
                        "--events",
                        "40200",
                        "--repeat",
                        "1",
                        "--latency-seconds",
                        "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out())
                .contains(
                        "trainwatch bench: 40,200 events of 100 and 200 concurrent runs",
                        "produced      40,200 events of 100 runs (401 steps each)",
                        "produced      40,200 events of 200 runs (200 steps each)",
                        "fleet         100 runs, pass 1 of 1",
                        "fleet         200 runs, pass 1 of 1")
                .containsPattern("warm-up       one job pass over the 200-run topic in ")
                // the fleet replaces the passes at --runs: no raw drain, floor or ceiling pass
                .doesNotContain("raw consume", "floor processing", "ratio job/", "latency ");
        // the job measured as the single-fleet bench measures it, once per size
        assertThat(
                        Pattern.compile(
                                        "(?m)^job processing 40,200 events in [\\d.]+ s: [\\d,]+ events/s")
                                .matcher(r.out())
                                .results()
                                .count())
                .isEqualTo(2);
        for (int runs : new int[] {100, 200}) {
            Matcher state =
                    Pattern.compile(
                                    "(?m)^state         "
                                            + runs
                                            + " runs: ([\\d,]+) bytes/run, .*; alerts job ([\\d,]+), ceiling ([\\d,]+): (.*)$")
                            .matcher(r.out());
            assertThat(state.find()).as(r.out()).isTrue();
            assertThat(count(state.group(1))).isBetween(1_000L, 16_000L);
        }
        assertThat(r.out())
                .contains(
                        "      runs |       events | job events/s (median of 1) | vs 100 runs | state bytes/run\n");
        double[] rates = new double[2];
        int i = 0;
        for (int runs : new int[] {100, 200}) {
            Matcher row =
                    Pattern.compile(
                                    "(?m)^ +"
                                            + runs
                                            + " \\|       40,200 \\| +([\\d,]+) \\| +(\\d+\\.\\d\\d) \\| +([\\d,]+)$")
                            .matcher(r.out());
            assertThat(row.find()).as(r.out()).isTrue();
            rates[i] = count(row.group(1));
            assertThat(rates[i]).isPositive();
            assertThat(Double.parseDouble(row.group(2)))
                    .isCloseTo(rates[i] / rates[0], org.assertj.core.data.Offset.offset(0.006));
            assertThat(count(row.group(3))).isBetween(1_000L, 16_000L);
            i++;
        }
        Matcher verdict =
                Pattern.compile(
                                "acceptance    200 vs 100 runs: the job's rate (\\d+\\.\\d{3})x: (meets|below) 0\\.8x")
                        .matcher(r.out());
        assertThat(verdict.find()).as(r.out()).isTrue();
        assertThat(verdict.group(2)).isEqualTo(rates[1] / rates[0] >= 0.8 ? "meets" : "below");
    }

    @Test
    void shouldRefuseTooFewEventsForTheLargestFleetNamingTheFlagAndWhatIsAllowed() {
        CliRunner.Result r = CliRunner.run("bench", "--fleet", "1000,10000,100000");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo(
                        "error: --events 2000000 is too few for --fleet 100000: each run needs its run_start and at least 200 steps"
                                + " (twice the bench runs' 100-step LR warm-up), so --events must be >= 20100000"
                                + " (the events of every fleet size), or leave 100000 out of --fleet");
        CliRunner.Result zero = CliRunner.run("bench", "--fleet", "10,0");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.err().trim())
                .isEqualTo("error: --fleet sizes must all be >= 1, got [10, 0]");
    }

    @Test
    void shouldRefuseANegativeLatencyWindow() {
        CliRunner.Result r = CliRunner.run("bench", "--latency-seconds", "-1");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().trim())
                .isEqualTo("error: --latency-seconds must be >= 0 and --latency-rate >= 1");
    }

    @Test
    void shouldRefuseBadStateBenchFlagsNamingTheFlagAndTheValue() {
        CliRunner.Result backend = CliRunner.run("bench-state", "--backends", "hashmap,forst");
        assertThat(backend.exitCode()).isEqualTo(2);
        assertThat(backend.err().trim())
                .isEqualTo("error: --backends must each be hashmap or rocksdb, got \"forst\"");
        CliRunner.Result runs = CliRunner.run("bench-state", "--runs", "10,0");
        assertThat(runs.exitCode()).isEqualTo(2);
        assertThat(runs.err().trim()).isEqualTo("error: --runs must all be >= 1, got [10, 0]");
        CliRunner.Result steps = CliRunner.run("bench-state", "--steps", "0");
        assertThat(steps.exitCode()).isEqualTo(2);
        assertThat(steps.err().trim()).isEqualTo("error: --steps must be >= 1, got 0");
    }
}
