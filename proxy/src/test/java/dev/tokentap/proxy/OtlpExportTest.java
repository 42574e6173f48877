package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.sun.net.httpserver.HttpServer;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tokentap.otlp through a real proxy and emulator, into an OTLP/HTTP receiver in the test that
 * decodes the protobuf: the GenAI names, units, attributes and histograms (exponential, or explicit
 * at the conventions' boundaries) carry the same counts and sums as /metrics for the same requests.
 */
class OtlpExportTest {
  private static final int REQUESTS = 3;

  /** One data point, whichever kind of histogram carried it. */
  private record Point(long count, double sum, long inBuckets, Map<String, String> attributes, List<Double> bounds, double zeroThreshold) {
    static Point of(ExponentialHistogramDataPoint p) {
      return new Point(p.getCount(), p.getSum(), p.getZeroCount() + p.getPositive().getBucketCountsList().stream().mapToLong(Long::longValue).sum(),
          attributesOf(p.getAttributesList()), List.of(), p.getZeroThreshold());
    }

    static Point of(HistogramDataPoint p) {
      return new Point(p.getCount(), p.getSum(), p.getBucketCountsList().stream().mapToLong(Long::longValue).sum(),
          attributesOf(p.getAttributesList()), p.getExplicitBoundsList(), 0);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"exponential", "explicit"})
  void genAiMetricsMatchTheScrape(String histograms) throws Exception {
    List<ExportMetricsServiceRequest> received = new CopyOnWriteArrayList<>();
    List<String> headers = new CopyOnWriteArrayList<>();
    HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/v1/metrics", exchange -> {
      try (InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("content-encoding"))
          ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
        received.add(ExportMetricsServiceRequest.parseFrom(in.readAllBytes()));
        headers.add(exchange.getRequestHeaders().getFirst("x-collector-token"));
      }
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    receiver.start();
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of(
            "tokentap.otlp.endpoint", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/metrics",
            "tokentap.otlp.interval", "1s",
            "tokentap.otlp.histograms", histograms,
            "tokentap.otlp.headers", Map.of("x-collector-token", "t0ken"),
            "tokentap.metrics.tenant.source", "header"))) {
      for (int i = 0; i < REQUESTS; i++) {
        HttpResponse<String> r = proxy.http.send(HttpRequest.newBuilder(proxy.url("/v1/chat/completions")).header("x-tenant-id", "acme")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"otel\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"max_tokens\":" + (4 + i) + ",\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        proxy.next();
      }
      String metrics = proxy.metrics();
      Map<String, Metric> latest = awaitExport(received);
      assertThat(headers).contains("t0ken");
      assertThat(received.get(received.size() - 1).getResourceMetrics(0).getResource().getAttributesList())
          .anySatisfy(kv -> assertThat(kv.getKey() + "=" + kv.getValue().getStringValue()).isEqualTo("service.name=tokentap"));

      boolean exponential = histograms.equals("exponential");
      compare(latest.get("gen_ai.server.time_to_first_token"), "s", null, metrics, "tokentap_time_to_first_token_seconds", exponential);
      compare(latest.get("gen_ai.server.time_per_output_token"), "s", null, metrics, "tokentap_time_per_output_token_seconds", exponential);
      compare(latest.get("gen_ai.client.operation.duration"), "s", null, metrics, "tokentap_request_duration_seconds", exponential);
      compare(latest.get("gen_ai.client.token.usage"), "{token}", "output", metrics, "tokentap_request_tokens", exponential);
      compare(latest.get("gen_ai.client.token.usage"), "{token}", "input", metrics, "tokentap_request_tokens", exponential);
      assertThat(point(latest.get("gen_ai.client.token.usage"), "output").sum()).isEqualTo(4 + 5 + 6);
      if (!exponential) {
        assertThat(point(latest.get("gen_ai.server.time_to_first_token"), null).bounds())
            .containsExactly(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
      }
    } finally {
      receiver.stop(0);
    }
  }

  /** The newest export holding every request's TTFT, by metric name. */
  private static Map<String, Metric> awaitExport(List<ExportMetricsServiceRequest> received) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline) {
      Map<String, Metric> byName = new HashMap<>();
      for (ExportMetricsServiceRequest export : received) {
        for (ResourceMetrics rm : export.getResourceMetricsList()) {
          for (ScopeMetrics sm : rm.getScopeMetricsList()) {
            sm.getMetricsList().forEach(m -> byName.put(m.getName(), m));
          }
        }
      }
      Metric ttft = byName.get("gen_ai.server.time_to_first_token");
      if (ttft != null && point(ttft, null).count() == REQUESTS && byName.size() >= 4) {
        return byName;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no OTLP export with " + REQUESTS + " requests; got " + received.size() + " exports, the last: "
        + (received.isEmpty() ? "" : received.get(received.size() - 1)));
  }

  private static void compare(Metric metric, String unit, String tokenType, String scrape, String family, boolean exponential) {
    assertThat(metric).as(family).isNotNull();
    assertThat(metric.getUnit()).isEqualTo(unit);
    assertThat(exponential ? metric.hasExponentialHistogram() : metric.hasHistogram()).as("histogram kind").isTrue();
    Point p = point(metric, tokenType);
    assertThat(p.attributes()).containsEntry("gen_ai.request.model", "otel").containsEntry("gen_ai.operation.name", "chat")
        .containsEntry("gen_ai.provider.name", "openai").containsEntry("tokentap.tenant", "acme").containsEntry("tokentap.target", "production");
    String labels = tokenType == null ? "" : ".*type=\"" + tokenType + "\"";
    assertThat(p.count()).as(metric.getName() + " count").isEqualTo(REQUESTS).isEqualTo((long) scraped(scrape, family + "_count", labels));
    assertThat(p.sum()).as(metric.getName() + " sum").isCloseTo(scraped(scrape, family + "_sum", labels), within(1e-6));
    // Exponential: below 1 µs (a TPOT of tokens that came in one event) is the zero bucket; every value has a bucket.
    assertThat(p.zeroThreshold()).isLessThanOrEqualTo(unit.equals("s") ? 1e-6 : 1);
    assertThat(p.inBuckets()).isEqualTo(REQUESTS);
  }

  private static Point point(Metric metric, String tokenType) {
    List<Point> points = new ArrayList<>();
    metric.getExponentialHistogram().getDataPointsList().forEach(p -> points.add(Point.of(p)));
    metric.getHistogram().getDataPointsList().forEach(p -> points.add(Point.of(p)));
    for (Point p : points) {
      if (tokenType == null || tokenType.equals(p.attributes().get("gen_ai.token.type"))) {
        return p;
      }
    }
    throw new AssertionError("no data point of " + tokenType + " in " + metric.getName());
  }

  private static Map<String, String> attributesOf(List<KeyValue> list) {
    Map<String, String> out = new HashMap<>();
    for (KeyValue kv : list) {
      out.put(kv.getKey(), kv.getValue().getStringValue());
    }
    return out;
  }

  /** The one sample of {@code series} whose labels match, from the scrape (tenant acme, model otel). */
  private static double scraped(String scrape, String series, String labels) {
    List<Double> values = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^" + series + "\\{([^}]*model=\"otel\"[^}]*tenant=\"acme\"[^}]*)\\} (\\S+)$").matcher(scrape);
    while (m.find()) {
      if (m.group(1).matches(labels.isEmpty() ? ".*" : labels + ".*")) {
        values.add(Double.parseDouble(m.group(2)));
      }
    }
    assertThat(values).as(series + labels).hasSize(1);
    return values.get(0);
  }
}
