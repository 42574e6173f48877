package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.TestPrometheus;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus scrapes the admin listener and answers PromQL about the traffic: request and
 * token totals equal the records, and an SLO ratio computed the way dashboards do it ({@code
 * bucket{le=threshold} / count}) equals the share of requests that met the threshold.
 *
 * <p>Needs the {@code prometheus} binary ({@link TestPrometheus}: Debian package {@code prometheus};
 * {@code .ci/run} installs it and sets {@code TOKENTAP_REQUIRE_PROMETHEUS=true}, so in CI a missing
 * binary fails).
 */
class PrometheusScrapeTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void prometheusScrapesAndAggregatesWhatTheRecordsSay(@TempDir Path dir) throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(),
            Map.of("tokentap.slos", List.of(Map.of("model", "*", "route", "*", "ttft", "2ms"))))) {
      List<FinishedRequest> records = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        proxy.post("/v1/chat/completions",
            "{\"model\":\"prom\",\"stream\":true,\"max_tokens\":" + (5 + i) + ",\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(400 * i) + "\"}]}");
        records.add(proxy.next());
      }

      try (TestPrometheus prometheus = TestPrometheus.scraping(dir, List.of(proxy.tokentap.adminAddress().getPort()))) {
        String base = prometheus.baseUri().toString();
        double total = awaitValue(proxy, base, "sum(tokentap_requests_total{model=\"prom\"})", records.size());
        assertThat(total).isEqualTo(records.size());
        assertThat(query(proxy, base, "up{job=\"tokentap\"}")).hasValue(1);
        long output = records.stream().mapToLong(FinishedRequest::outputTokens).sum();
        assertThat(query(proxy, base, "sum(tokentap_tokens_total{type=\"output\"})")).hasValue((double) output);
        long input = records.stream().mapToLong(FinishedRequest::inputTokens).sum();
        assertThat(query(proxy, base, "sum(tokentap_tokens_total{type=\"input\"})")).hasValue((double) input);

        long withinSlo = records.stream().filter(r -> Math.round(r.ttftSeconds() * 1e9) <= 2_000_000).count();
        OptionalDouble ratio = query(proxy, base,
            "sum(tokentap_time_to_first_token_seconds_bucket{le=\"0.002\"}) / sum(tokentap_time_to_first_token_seconds_count)");
        assertThat(ratio.orElseThrow()).isCloseTo((double) withinSlo / records.size(), within(1e-9));
        long met = records.stream().filter(r -> "met".equals(r.slo())).count();
        assertThat(query(proxy, base, "sum(tokentap_requests_total{slo=\"met\"}) or vector(0)")).hasValue((double) met);
        assertThat(query(proxy, base, "histogram_quantile(0.5, sum by (le) (tokentap_time_to_first_token_seconds_bucket))")).isPresent();
      }
    }
  }

  /** Polls until the query returns {@code expected} (scrapes every second), for up to 30 s. */
  static double awaitValue(ProxyHarness proxy, String base, String promql, double expected) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    OptionalDouble last = OptionalDouble.empty();
    while (System.nanoTime() < deadline) {
      try {
        last = query(proxy, base, promql);
        if (last.isPresent() && last.getAsDouble() == expected) {
          return expected;
        }
      } catch (java.io.IOException notUpYet) {
        // Prometheus is still starting.
      }
      Thread.sleep(250);
    }
    throw new AssertionError(promql + " never reached " + expected + ", last " + last);
  }

  /** The single value of an instant query, empty when the result is empty. */
  static OptionalDouble query(ProxyHarness proxy, String base, String promql) throws Exception {
    URI uri = URI.create(base + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> response = proxy.http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    JsonNode result = JSON.readTree(response.body()).path("data").path("result");
    if (!result.isArray() || result.isEmpty()) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(Double.parseDouble(result.get(0).path("value").get(1).asText()));
  }
}
