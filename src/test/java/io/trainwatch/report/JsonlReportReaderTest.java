package io.trainwatch.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonlReportReaderTest {
    @Test
    void shouldReadNonFiniteValuesAsWrittenAndGroupRunsSortedKeepingLoggedOrder(@TempDir Path tmp)
            throws Exception {
        Path series = tmp.resolve("series.jsonl");
        Files.writeString(
                series,
                String.join(
                        "\n",
                        "{\"run_id\":\"b\",\"step\":5,\"time\":\"2026-11-21T09:30:00Z\",\"actual_lr\":[1.0E-4,2.0E-4],\"scheduled_lr\":[1.0E-4,2.0E-4],\"loss\":\"NaN\",\"loss_mean\":2.5,\"grad_norm\":\"Infinity\",\"suggested_clip\":null}",
                        "",
                        "{\"run_id\":\"a\",\"step\":0,\"time\":null,\"actual_lr\":null,\"scheduled_lr\":[0.0],\"loss\":3,\"loss_mean\":3,\"grad_norm\":NaN,\"suggested_clip\":1.5}",
                        "{\"run_id\":\"b\",\"step\":3,\"time\":1795253400000,\"actual_lr\":0.001,\"loss\":\"-Infinity\"}"));
        Path alerts = tmp.resolve("alerts.jsonl");
        Files.writeString(
                alerts,
                "{\"alert_id\":\"b/NON_FINITE/5\",\"run_id\":\"b\",\"kind\":\"NON_FINITE\",\"severity\":\"critical\",\"status\":\"open\","
                        + "\"step\":5,\"onset_step\":5,\"message\":\"Step 5: loss is NaN\",\"diagnosis\":\"suspect data\",\"evidence\":{\"loss\":\"NaN\"},"
                        + "\"suggestion\":{\"action\":\"clip_grad_norm\",\"max_norm\":0.8550000001,\"lr_factor\":null,\"rewind_to_step\":4.0,"
                        + "\"skip_batches\":[\"shard-3/1207\",17],\"change\":\"torch.nn.utils.clip_grad_norm_(...)\"}}\n");

        ReportData data = JsonlReportReader.read(series, alerts);

        assertThat(data.runs()).extracting(ReportData.Run::runId).containsExactly("a", "b");
        ReportData.Run b = data.runs().get(1);
        assertThat(b.points()).extracting(StepPoint::step).containsExactly(5L, 3L);
        assertThat(b.resumes()).isEqualTo(1);
        assertThat(b.paramGroups()).isEqualTo(2);
        StepPoint p = b.points().get(0);
        assertThat(p.loss()).isNaN();
        assertThat(p.gradNorm()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(p.suggestedClip()).isNull();
        assertThat(p.time()).hasToString("2026-11-21T09:30:00Z");
        assertThat(b.points().get(1).loss()).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(b.points().get(1).actualLr()).containsExactly(0.001);
        assertThat(b.points().get(1).scheduledLr()).isNull();
        assertThat(data.runs().get(0).points().get(0).gradNorm()).as("Python's bare NaN").isNaN();

        ReportAlert a = b.alerts().get(0);
        assertThat(a.kind()).isEqualTo("NON_FINITE");
        assertThat(a.suggestion().action()).isEqualTo("clip_grad_norm");
        assertThat(a.suggestion().summary())
                .isEqualTo(
                        "clip_grad_norm (max_norm 0.855, rewind_to_step 4, skip_batches [shard-3/1207, 17])");
        assertThat(a.suggestion().change()).startsWith("torch.nn.utils");
        assertThat(data.steps()).isEqualTo(3);
        assertThat(data.alerts()).isEqualTo(1);
    }

    @Test
    void shouldNameFileAndLineOfBrokenJson(@TempDir Path tmp) throws Exception {
        Path series = tmp.resolve("series.jsonl");
        Files.writeString(
                series,
                "{\"run_id\":\"a\",\"step\":0,\"loss\":1}\n{\"run_id\":\"a\",\"step\":1,\"loss\n");
        assertThatThrownBy(() -> JsonlReportReader.read(series, null))
                .isInstanceOf(ReportInputException.class)
                .hasMessageStartingWith(series + ":2: not valid JSON: ")
                .hasMessageNotContaining("\n");
    }

    @Test
    void shouldNameTheFieldAtFault(@TempDir Path tmp) throws Exception {
        Path series = tmp.resolve("series.jsonl");
        Files.writeString(series, "{\"run_id\":\"a\",\"step\":0,\"loss\":\"high\"}\n");
        assertThatThrownBy(() -> JsonlReportReader.read(series, null))
                .hasMessage(
                        series
                                + ":1: field \"loss\": expected a number (or \"NaN\", \"Infinity\"), got \"high\"");
        Files.writeString(series, "{\"run_id\":\"a\",\"step\":0.5}\n");
        assertThatThrownBy(() -> JsonlReportReader.read(series, null))
                .hasMessage(series + ":1: field \"step\": expected an integer, got 0.5");
        Files.writeString(series, "[1,2]\n");
        assertThatThrownBy(() -> JsonlReportReader.read(series, null))
                .hasMessage(series + ":1: expected a JSON object, got [1,2]");
        Path alerts = tmp.resolve("alerts.jsonl");
        Files.writeString(series, "{\"run_id\":\"a\",\"step\":0}\n");
        Files.writeString(alerts, "{\"run_id\":\"a\",\"step\":3}\n");
        assertThatThrownBy(() -> JsonlReportReader.read(series, alerts))
                .hasMessage(alerts + ":1: field \"kind\" is missing");
    }

    @Test
    void shouldSayWhichFileIsMissing(@TempDir Path tmp) {
        Path missing = tmp.resolve("nope.jsonl");
        assertThatThrownBy(() -> JsonlReportReader.read(missing, null))
                .hasMessage(missing + ": no such file");
    }

    @Test
    void shouldKeepAlertsOfARunWithoutSeriesPoints(@TempDir Path tmp) throws Exception {
        Path series = tmp.resolve("series.jsonl");
        Files.writeString(series, "{\"run_id\":\"a\",\"step\":0,\"loss\":1}\n");
        Path alerts = tmp.resolve("alerts.jsonl");
        Files.writeString(
                alerts,
                "{\"run_id\":\"z\",\"kind\":\"STALL\",\"severity\":\"info\",\"status\":\"open\",\"step\":9}\n");
        ReportData data = JsonlReportReader.read(series, alerts);
        assertThat(data.runs()).extracting(ReportData.Run::runId).containsExactly("a", "z");
        assertThat(data.runs().get(1).points()).isEmpty();
        assertThat(data.runs().get(1).alerts().get(0).onsetStep()).isEqualTo(9);
    }
}
