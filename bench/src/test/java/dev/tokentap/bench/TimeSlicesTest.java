package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --slice}: a Poisson run against the emulator, some requests cancelled, cut in slices of
 * 500 ms. The slices add up to the whole, each slice's percentiles come from the records that ended
 * in it, and the CSV and the HTML report carry the same slices.
 */
class TimeSlicesTest {
  @RegisterExtension
  static final EmulatorExtension EMULATOR = new EmulatorExtension(EngineProfile.fast().withBaseStep(Duration.ofMillis(2)));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WIDTH = Duration.ofMillis(500);

  @Test
  void slicesAddUpToTheWholeAndEachIsComputedFromItsOwnRecords(@TempDir Path dir) throws Exception {
    BenchSetup setup = new BenchSetup(List.of(EMULATOR.baseUri()), TargetPolicy.ROUND_ROBIN, Cancellation.parse("0.2@20ms"), WIDTH);
    BenchReport report;
    try (Bench bench = new Bench(setup, SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30), BenchListener.NONE)) {
      report = bench.run(new BenchRunner.Options(Workloads.parse("synthetic:input=32,output=uniform:10:30", "bench-model", 4),
          LoadPlan.parse("poisson:40", 0), Long.MAX_VALUE, Duration.ofMillis(2500), 0, 4));
    }
    StepResults results = new StepResults("run", "rate", Double.NaN, List.of(new LoadStep(1, 40, false, report)));
    results.write(dir, null, null);
    assertThat(results.files()).contains("slices.csv");
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(json.path("slice_seconds").asDouble()).isEqualTo(0.5);
    JsonNode slices = json.path("slices");

    // As many slices as the window from the first start to the last end needs, back to back.
    long t0 = report.measured().stream().mapToLong(BenchSample::startNanos).min().orElseThrow();
    long last = report.measured().stream().mapToLong(BenchSample::endNanos).max().orElseThrow();
    int n = (int) ((last - t0) / WIDTH.toNanos()) + 1;
    assertThat(slices).hasSize(n);
    assertThat(n).isGreaterThanOrEqualTo(5);

    // The slices add up to the whole.
    assertThat(sum(slices, "requests")).isEqualTo(report.requests).isEqualTo(json.path("num_prompts").asLong());
    assertThat(sum(slices, "completed")).isEqualTo(report.completed);
    assertThat(sum(slices, "failed")).isEqualTo(report.failed);
    assertThat(sum(slices, "cancelled")).isEqualTo(report.cancelled);
    assertThat(report.cancelled).isPositive();
    assertThat(sum(slices, "total_output_tokens")).isEqualTo(report.totalOutputTokens).isEqualTo(json.path("total_output_tokens").asLong());
    assertThat(sum(slices, "total_input_tokens")).isEqualTo(report.totalInputTokens);

    // Each slice: the requests that ended in it, its percentiles from those records alone.
    for (int k = 0; k < n; k++) {
      JsonNode slice = slices.get(k);
      int index = k;
      List<BenchSample> own = report.measured().stream().filter(s -> (s.endNanos() - t0) / WIDTH.toNanos() == index).toList();
      assertThat(slice.path("slice").asInt()).isEqualTo(k);
      assertThat(slice.path("start_s").asDouble()).isEqualTo(k * 0.5);
      assertThat(slice.path("requests").asInt()).isEqualTo(own.size());
      double[] ttft = own.stream().filter(BenchSample::ok).mapToDouble(s -> s.record().ttftSeconds() * 1e3).toArray();
      double[] e2e = own.stream().filter(BenchSample::ok).mapToDouble(s -> s.record().e2eSeconds() * 1e3).toArray();
      // Boxed, so a slice without completions compares null (NaN) with NaN as equal.
      assertThat(Double.valueOf(number(slice, "p50_ttft_ms"))).isEqualTo(Double.valueOf(Stats.of(ttft).p50()));
      assertThat(Double.valueOf(number(slice, "p99_ttft_ms"))).isEqualTo(Double.valueOf(Stats.of(ttft).p99()));
      assertThat(Double.valueOf(number(slice, "p99_e2el_ms"))).isEqualTo(Double.valueOf(Stats.of(e2e).p99()));
      long out = own.stream().filter(BenchSample::ok).mapToLong(s -> s.record().outputTokens()).sum();
      double seconds = k < n - 1 ? 0.5 : (last - (t0 + k * WIDTH.toNanos())) / 1e9;
      assertThat(slice.path("output_throughput").asDouble()).isCloseTo(out / seconds, org.assertj.core.data.Offset.offset(1e-6));
      if (own.stream().anyMatch(BenchSample::ok)) {
        assertThat(slice.path("p50_ttft_ms").isNumber()).isTrue();
      }
    }

    // slices.csv: the same slices, one row each.
    List<String> csv = Files.readAllLines(dir.resolve("slices.csv"));
    assertThat(csv).hasSize(n + 1);
    assertThat(csv.get(0)).isEqualTo(String.join(",", SlicesCsv.COLUMNS));
    int requestsColumn = SlicesCsv.COLUMNS.indexOf("requests");
    for (int k = 0; k < n; k++) {
      assertThat(csv.get(k + 1).split(",", -1)[requestsColumn]).isEqualTo(slices.get(k).path("requests").asText());
    }
    // report.html: the slices' time series and table.
    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html).contains("id=\"slices\"", "id=\"slice-throughput\"", "id=\"slice-ttft\"", "id=\"slice-tpot\"", "id=\"slice-table\"");
  }

  private static long sum(JsonNode slices, String key) {
    long total = 0;
    for (JsonNode s : slices) {
      total += s.path(key).asLong();
    }
    return total;
  }

  /** A JSON number, or NaN where the file has null (a slice with no completed request). */
  private static double number(JsonNode node, String key) {
    return node.path(key).isNull() ? Double.NaN : node.path(key).asDouble();
  }
}
