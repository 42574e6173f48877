package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.record.FinishedRequest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} parsed as Prometheus text: every metric and label of DESIGN §4 (the shadow counter
 * aside) is there, SLO thresholds are exact bucket boundaries, and the numbers add up to the
 * records of the requests that were sent.
 */
class MetricsEndpointTest {
  static Emulator emulator;
  static ProxyHarness proxy;
  static final List<FinishedRequest> records = new ArrayList<>();
  static String text;

  record Sample(String name, Map<String, String> labels, double value) {}

  static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)$");
  static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  static List<Sample> samples(String name) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher m = LINE.matcher(line);
      if (line.startsWith("#") || !m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> labels = new java.util.TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.add(new Sample(name, labels, Double.parseDouble(m.group(4))));
    }
    return out;
  }

  static double sum(String name, String labelName, String labelValue) {
    return samples(name).stream().filter(s -> labelName == null || labelValue.equals(s.labels().get(labelName))).mapToDouble(Sample::value).sum();
  }

  @BeforeAll
  static void trafficThenScrape() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of(
        "tokentap.slos", List.of(Map.of("model", "*", "route", "chat", "ttft", "250ms", "tpot", "37ms", "e2e", "12s"))));
    String body = "{\"model\":\"metrics-model\",\"stream\":true,\"max_tokens\":12,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < 4; i++) {
      proxy.post("/v1/chat/completions", body);
      records.add(proxy.next());
    }
    proxy.post("/v1/completions", "{\"model\":\"metrics-model\",\"stream\":true,\"max_tokens\":5,\"ignore_eos\":true,\"prompt\":\"hi\"}");
    records.add(proxy.next());
    proxy.http.send(HttpRequest.newBuilder(proxy.url("/v1/chat/completions")).header("x-emulator-fault", "status=500")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
    records.add(proxy.next());
    text = proxy.metrics();
  }

  @AfterAll
  static void stop() {
    proxy.close();
    emulator.close();
  }

  @Test
  void everyMetricOfTheDesignIsExposedWithItsLabels() {
    List<String> common = List.of("model", "route", "target", "role");
    for (String histogram : List.of("tokentap_time_to_first_token_seconds", "tokentap_time_to_first_output_token_seconds", "tokentap_time_to_first_byte_seconds",
        "tokentap_time_per_output_token_seconds", "tokentap_inter_token_latency_seconds")) {
      assertThat(samples(histogram + "_bucket")).as(histogram).isNotEmpty()
          .allSatisfy(s -> assertThat(s.labels().keySet()).containsAll(common).contains("le"));
      assertThat(samples(histogram + "_count")).isNotEmpty();
      assertThat(samples(histogram + "_sum")).isNotEmpty();
    }
    assertThat(samples("tokentap_request_duration_seconds_bucket"))
        .allSatisfy(s -> assertThat(s.labels().keySet()).containsAll(common).contains("outcome", "le"));
    assertThat(samples("tokentap_requests_total"))
        .allSatisfy(s -> assertThat(s.labels().keySet()).containsAll(common).contains("outcome", "slo"));
    assertThat(samples("tokentap_tokens_total")).extracting(s -> s.labels().get("type")).contains("input", "output");
    assertThat(samples("tokentap_request_tokens_bucket")).extracting(s -> s.labels().get("type")).contains("input", "output");
    assertThat(samples("tokentap_requests_in_flight")).singleElement()
        .satisfies(s -> assertThat(s.labels()).containsEntry("target", "production").containsEntry("role", "primary"))
        .satisfies(s -> assertThat(s.value()).isZero());
    assertThat(samples("tokentap_proxy_overhead_seconds_bucket")).extracting(s -> s.labels().get("direction")).contains("request", "response");
    assertThat(samples("jvm_memory_used_bytes")).isNotEmpty();
    assertThat(text).contains("netty_allocator_memory_used", "netty_eventexecutor_tasks_pending");
  }

  @Test
  void sloThresholdsAreExactBucketBoundaries() {
    assertThat(samples("tokentap_time_to_first_token_seconds_bucket")).extracting(s -> s.labels().get("le")).contains("0.25", "2560.0", "0.001");
    assertThat(samples("tokentap_time_per_output_token_seconds_bucket")).extracting(s -> s.labels().get("le")).contains("0.037", "0.075");
    assertThat(samples("tokentap_inter_token_latency_seconds_bucket")).extracting(s -> s.labels().get("le")).contains("0.037");
    assertThat(samples("tokentap_request_duration_seconds_bucket")).extracting(s -> s.labels().get("le")).contains("12.0", "7680.0");
  }

  @Test
  void countsAndSumsAgreeWithTheRecords() {
    assertThat(sum("tokentap_requests_total", null, null)).isEqualTo(records.size());
    assertThat(sum("tokentap_requests_total", "outcome", "error")).isEqualTo(1);
    assertThat(sum("tokentap_requests_total", "route", "completions")).isEqualTo(1);
    assertThat(sum("tokentap_requests_total", "slo", "met") + sum("tokentap_requests_total", "slo", "missed")).isEqualTo(5);
    long outputTokens = records.stream().mapToLong(r -> Math.max(0, r.outputTokens())).sum();
    assertThat(sum("tokentap_tokens_total", "type", "output")).isEqualTo(outputTokens).isEqualTo(4 * 12 + 5);
    long gaps = records.stream().filter(r -> r.meter() != null).mapToLong(r -> Math.max(0, r.meter().tokenEvents() - r.meter().choices())).sum();
    assertThat(sum("tokentap_inter_token_latency_seconds_count", null, null)).isEqualTo(gaps).isEqualTo(4 * 11 + 4);
    double ttftSum = records.stream().mapToDouble(FinishedRequest::ttftSeconds).filter(d -> !Double.isNaN(d)).sum();
    assertThat(sum("tokentap_time_to_first_token_seconds_sum", null, null)).isCloseTo(ttftSum, within(1e-6));
    double e2eSum = records.stream().mapToDouble(FinishedRequest::e2eSeconds).sum();
    assertThat(sum("tokentap_request_duration_seconds_sum", null, null)).isCloseTo(e2eSum, within(1e-6));
    assertThat(samples("tokentap_time_to_first_token_seconds_bucket")).allSatisfy(s -> assertThat(s.labels()).containsEntry("model", "metrics-model"));
  }

  @Test
  void healthAndReady() throws Exception {
    assertThat(proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl("/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    assertThat(proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl("/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
  }
}
