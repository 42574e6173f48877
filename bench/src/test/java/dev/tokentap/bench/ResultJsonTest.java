package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code result.json} and the single-run {@code report.html} of runs against the emulator through
 * real sockets: every key vLLM {@code bench serve} writes (vllm/benchmarks/serve.py), with its
 * nulls, integers as integers, and the run's provenance.
 */
class ResultJsonTest {
  @RegisterExtension static final EmulatorExtension EMULATOR = new EmulatorExtension(EngineProfile.fast());
  /** vLLM's result keys with the default {@code --percentile-metrics} plus e2el, {@code --metric-percentiles 99}. */
  static final List<String> VLLM_KEYS = vllmKeys();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<String> vllmKeys() {
    List<String> keys = new ArrayList<>(List.of("date", "endpoint_type", "backend", "label", "model_id", "tokenizer_id", "num_prompts",
        "request_rate", "burstiness", "max_concurrency", "duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
        "request_throughput", "request_goodput", "output_throughput", "total_token_throughput", "max_output_tokens_per_s",
        "max_concurrent_requests"));
    for (String m : List.of("ttft", "tpot", "itl", "e2el")) {
      for (String s : List.of("mean", "median", "std", "p99")) {
        keys.add(s + "_" + m + "_ms");
      }
    }
    return List.copyOf(keys);
  }

  private static StepResults run(LoadPlan load, SloSpec slo, int requests) throws Exception {
    try (Bench bench = new Bench(EMULATOR.baseUri(), slo, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      BenchReport report = bench.run(new BenchRunner.Options(
          Workloads.parse("synthetic:input=32,output=uniform:4:12", "bench-model", 1), load, requests, null, 5, 7));
      return new StepResults("run", load.closedLoop() ? "concurrency" : "rate", Double.NaN, List.of(new LoadStep(1, load.level(), false, report)));
    }
  }

  private static RunInfo info() {
    return new RunInfo(List.of(EMULATOR.baseUri().toString()), 7, RunInfo.commandLine(List.of("bench", "--load", "concurrency:6", "--slo", "ttft=1 s")),
        Instant.parse("2026-01-02T03:04:05Z"));
  }

  @Test
  void aClosedLoopRunWritesEveryVllmKeyWithItsNullsAndIntegers(@TempDir Path dir) throws Exception {
    StepResults results = run(LoadPlan.closed(6), SloSpec.NONE, 40);
    results.write(dir, null, info());
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(fieldNames(json)).containsAll(VLLM_KEYS);
    assertThat(json.path("date").asText()).matches("\\d{8}-\\d{6}");
    assertThat(json.path("backend").asText()).isEqualTo("openai-chat");
    assertThat(json.path("endpoint_type").asText()).isEqualTo("openai-chat");
    assertThat(json.path("model_id").asText()).isEqualTo("bench-model");
    assertThat(json.path("tokenizer_id").asText()).isEqualTo("bench-model");
    assertThat(json.get("label").isNull()).isTrue();
    // A closed loop is vLLM's unlimited rate under a concurrency ceiling.
    assertThat(json.path("request_rate").asText()).isEqualTo("inf");
    assertThat(json.get("max_concurrency").isIntegralNumber()).as("6, not 6.0").isTrue();
    assertThat(json.get("max_concurrency").asInt()).isEqualTo(6);
    assertThat(json.get("burstiness").isIntegralNumber()).isTrue();
    assertThat(json.get("num_prompts").asInt()).isEqualTo(40);
    assertThat(json.get("completed").asInt()).isEqualTo(40);
    assertThat(json.get("warmup_requests").asInt()).isEqualTo(5);
    // No SLOs: vLLM writes request_goodput null.
    assertThat(json.get("request_goodput").isNull()).isTrue();
    assertThat(json.get("max_concurrent_requests").isIntegralNumber()).isTrue();
    // max_output_tokens_per_s: token-bearing events of the busiest second, vLLM's way.
    BenchReport report = results.steps().get(0).report();
    long events = report.measured().stream().mapToLong(s -> 1 + s.itlGapsNanos().length).sum();
    assertThat(Arrays.stream(report.timeline().outputChunks()).sum()).isEqualTo(events);
    assertThat(json.get("max_output_tokens_per_s").asDouble()).isEqualTo(report.timeline().maxOutputTokensPerSecond()).isPositive();
    assertThat(json.path("p99_ttft_ms").asDouble()).isEqualTo(report.ttftMs.p99());
    assertThat(json.path("median_itl_ms").asDouble()).isEqualTo(report.itlMs.median());
    // Provenance.
    assertThat(json.path("targets").get(0).asText()).isEqualTo(EMULATOR.baseUri().toString());
    assertThat(json.path("seed").asLong()).isEqualTo(7);
    assertThat(json.path("command_line").asText()).isEqualTo("tokentap bench --load concurrency:6 --slo 'ttft=1 s'");
    assertThat(json.path("started_at").asText()).isEqualTo("2026-01-02T03:04:05Z");
    assertThat(json.path("tokentap_version").asText()).isNotBlank().doesNotStartWith("${").isNotEqualTo("unknown");
    assertThat(json.path("git_commit").asText()).isNotBlank().doesNotStartWith("${");
    assertThat(json.path("jvm").asText()).contains(System.getProperty("java.runtime.version"));
    assertThat(json.get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
    // The self-check's verdict on lateness, always present.
    assertThat(json.get("generator_late").isBoolean()).isTrue();
    assertThat(json.path("generator").has("socket_lateness_p99_ms")).isTrue();
    assertThat(Files.readString(dir.resolve("result.json"))).doesNotContain("NaN");
  }

  @Test
  void anOpenLoopWithoutCeilingWritesMaxConcurrencyNullAndGoodputWithSlos(@TempDir Path dir) throws Exception {
    StepResults results = run(LoadPlan.open(ArrivalSchedule.Kind.POISSON, 100, 1, 0), SloSpec.parse("e2e=60s"), 30);
    results.write(dir, null, null);
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(fieldNames(json)).containsAll(VLLM_KEYS);
    assertThat(json.get("max_concurrency").isNull()).isTrue();
    assertThat(json.get("request_rate").isIntegralNumber()).isTrue();
    assertThat(json.get("request_rate").asInt()).isEqualTo(100);
    assertThat(json.get("request_goodput").asDouble()).isEqualTo(json.get("request_throughput").asDouble()).isPositive();
    assertThat(json.path("load").asText()).isEqualTo("poisson:100");
  }

  @Test
  void theSingleRunReportOpensWithTheHeadlineAndShowsDistributionsAndTimeSeries(@TempDir Path dir) throws Exception {
    StepResults results = run(LoadPlan.closed(3), SloSpec.parse("ttft=10s"), 30);
    results.write(dir, null, info());
    String html = Files.readString(dir.resolve("report.html"));
    BenchReport r = results.steps().get(0).report();
    int headline = html.indexOf("id=\"headline\"");
    assertThat(headline).isPositive().isLessThan(html.indexOf("<svg "));
    assertThat(html.substring(headline, html.indexOf("</div>\n</div>", headline)))
        .contains("requests", "req/s", "output tok/s", "TTFT p50 / p99", "TPOT p50 / p99", "ITL p50 / p99", "E2E p50 / p99",
            "SLO attainment", "100.0%", "failures");
    assertThat(html).contains("id=\"ttft-cdf\"", "id=\"tpot-cdf\"", "id=\"itl-cdf\"", "id=\"output-over-time\"", "id=\"ttft-over-time\"",
        "id=\"in-flight-over-time\"", "bench-model", "tokentap bench --load concurrency:6", RunInfo.version(),
        "(CDF, " + r.ttftMs.count() + " values)");
    assertThat(html).doesNotContain("no data");
  }

  private static List<String> fieldNames(JsonNode json) {
    List<String> names = new ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
