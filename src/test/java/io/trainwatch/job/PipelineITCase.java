package io.trainwatch.job;

import io.trainwatch.detect.RunMonitor;
import io.trainwatch.detect.RunState;
import io.trainwatch.event.Alert;
import io.trainwatch.event.EventCodec;
import io.trainwatch.event.JsonReader;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.event.TrainingEvent;
import io.trainwatch.simulate.Fault;
import io.trainwatch.simulate.RunSimulator;
import io.trainwatch.simulate.SimulatedRun;
import io.trainwatch.threshold.Thresholds;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one pipeline under a MiniCluster at parallelism 2: many interleaved runs plus malformed
 * records go in; the alerts equal a plain per-run replay through RunMonitor, every malformed record
 * is dead-lettered with its field and reason, and read = accepted + dead-lettered.
 */
public class PipelineITCase {
    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.parallelismTwo();

    @Test
    void shouldMatchPlainReplayOnInterleavedRunsAndDeadLetterMalformedRecords(@TempDir Path tmp)
            throws Exception {
        List<SimulatedRun> runs = new ArrayList<>();
        for (Fault f : Fault.values()) {
            for (int i = 0; i < 3; i++) {
                runs.add(RunSimulator.generate(9_000_000L + 100L * f.ordinal() + i, f));
            }
        }
        List<RawRecord> records = interleave(runs);
        List<String> malformed = malformedRecords();
        for (int i = 0; i < malformed.size(); i++) {
            records.add(
                    records.size() * (i + 1) / (malformed.size() + 1),
                    new RawRecord(malformed.get(i), "malformed:" + i));
        }
        Path alerts = tmp.resolve("alerts.jsonl");
        Path series = tmp.resolve("series.jsonl");
        Path dead = tmp.resolve("dead.jsonl");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        TrainwatchJob.Outputs outputs =
                TrainwatchJob.defineWorkflow(
                        env,
                        env.fromData(RawRecord.class, records.toArray(RawRecord[]::new))
                                .setParallelism(1),
                        new MonitorConfig(Thresholds.DEFAULTS, 1, true));
        FileOutputs.attach(outputs, alerts, series, dead);
        JobExecutionResult result = env.execute("pipeline-itcase");

        List<String> expected = plainReplay(runs);
        List<String> actual = new ArrayList<>(Files.readAllLines(alerts));
        Collections.sort(expected);
        Collections.sort(actual);
        System.out.printf(
                "pipeline: %d records (%d runs, %d malformed), %d alerts, %d series points%n",
                records.size(),
                runs.size(),
                malformed.size(),
                actual.size(),
                Files.readAllLines(series).size());
        assertThat(actual).isNotEmpty().isEqualTo(expected);

        List<String> deadLines = Files.readAllLines(dead);
        assertThat(deadLines).hasSize(malformed.size());
        for (String d : deadLines) {
            var n = JsonReader.parse(d);
            assertThat(n.path("reason").asText()).isNotBlank();
            assertThat(n.path("field").asText()).isNotBlank();
            assertThat(n.path("source").asText()).startsWith("malformed:");
        }
        long read = ((Number) result.getAccumulatorResult(KeyRecordsFunction.READ)).longValue();
        long accepted =
                ((Number) result.getAccumulatorResult(MonitorRunsFunction.ACCEPTED)).longValue();
        long deadCount =
                ((Number) result.getAccumulatorResult(KeyRecordsFunction.DEAD_LETTERED))
                        .longValue();
        assertThat(read).isEqualTo(records.size()).isEqualTo(accepted + deadCount);
        assertThat(deadCount).isEqualTo(malformed.size());
        long stepEvents =
                runs.stream()
                        .flatMap(r -> r.events().stream())
                        .filter(l -> l.contains("\"type\":\"step\""))
                        .count();
        assertThat(Files.readAllLines(series)).hasSize((int) stepEvents);
    }

    /**
     * Round-robin over the runs: every run's own order kept, runs interleaved as they are on a
     * shared topic.
     */
    static List<RawRecord> interleave(List<SimulatedRun> runs) {
        List<RawRecord> out = new ArrayList<>();
        int[] next = new int[runs.size()];
        boolean more = true;
        while (more) {
            more = false;
            for (int r = 0; r < runs.size(); r++) {
                List<String> ev = runs.get(r).events();
                if (next[r] < ev.size()) {
                    out.add(new RawRecord(ev.get(next[r]), runs.get(r).runId() + ":" + next[r]));
                    next[r]++;
                    more = true;
                }
            }
        }
        return out;
    }

    /**
     * The alerts of the runs judged one event at a time by {@link RunMonitor}, without Flink: what
     * every pipeline test expects the job to write (in any order).
     */
    public static List<String> plainReplay(List<SimulatedRun> runs) throws Exception {
        EventCodec codec = new EventCodec();
        RunMonitor monitor = new RunMonitor(Thresholds.DEFAULTS, 1, true);
        List<String> out = new ArrayList<>();
        Map<String, RunState> states = new HashMap<>();
        for (SimulatedRun run : runs) {
            for (String line : run.events()) {
                TrainingEvent e = codec.parse(line);
                for (Alert a :
                        monitor.onEvent(states.computeIfAbsent(e.runId, k -> new RunState()), e)
                                .alerts()) {
                    out.add(JsonWriter.alert(a));
                }
            }
        }
        return out;
    }

    /**
     * Broken JSON, wrong types, a negative step, no run_id, a 10 MB line, JSON nested 10,000 deep,
     * and other bad input.
     */
    static List<String> malformedRecords() {
        List<String> m = new ArrayList<>();
        m.add("{\"type\":\"step\",\"run_id\":\"r\",\"step\":3,\"loss\":");
        m.add("{\"type\":\"step\",\"run_id\":\"r\",\"step\":\"three\",\"loss\":1.0}");
        m.add("{\"type\":\"step\",\"run_id\":\"r\",\"step\":-4,\"loss\":1.0}");
        m.add("{\"type\":\"step\",\"step\":4,\"loss\":1.0}");
        m.add(
                "{\"type\":\"step\",\"run_id\":\"r\",\"step\":5,\"loss\":\""
                        + "x".repeat(10 * 1024 * 1024)
                        + "\"}");
        m.add("[".repeat(10_000) + "]".repeat(10_000));
        m.add("{\"type\":\"epoch_end\",\"run_id\":\"r\"}");
        m.add("{\"type\":\"step\",\"run_id\":\"r\",\"step\":6,\"loss\":1.0,\"lr\":[-0.1]}");
        m.add(
                "{\"type\":\"run_start\",\"run_id\":\"r\",\"schedule\":{\"scheduler\":\"CosineAnnealingLR\",\"params\":{\"base_lrs\":[0.1]}}}");
        m.add("{\"type\":\"run_start\",\"run_id\":\"r\",\"thresholds\":{\"spike_k\":3}}");
        m.add("");
        m.add("42");
        return m;
    }
}
