package dev.tokentap.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestListener;
import dev.tokentap.proxy.record.Role;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One side of the demo's live table (production, or the staging target's shadow copies), computed
 * from the proxy's own finished-request records (the numbers that also go to /metrics): requests/s,
 * share ok, TTFT and TPOT percentiles, goodput (requests/s that met every SLO), output tokens/s and
 * requests in flight.
 */
final class DemoSummary implements RequestListener {
  static final String HEADER = String.format("%8s %-10s %7s %6s | %27s | %27s | %9s %9s %8s",
      "window", "side", "req/s", "ok%", "TTFT ms p50 / p95 / p99", "TPOT ms p50 / p95 / p99", "goodput/s", "out tok/s", "inflight");

  private final Tokentap tokentap;
  private final Role role;
  private final String side;
  private final ConcurrentLinkedQueue<FinishedRequest> window = new ConcurrentLinkedQueue<>();
  private final List<FinishedRequest> all = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private long windowStartNanos = startNanos;

  /** The requests of {@code role}, labelled {@code side} in the table. */
  DemoSummary(Tokentap tokentap, Role role, String side) {
    this.tokentap = tokentap;
    this.role = role;
    this.side = side;
  }

  @Override
  public void onFinished(FinishedRequest request) {
    if (request.role() == role) {
      window.add(request);
    }
  }

  /** The line for the requests finished since the last call. */
  synchronized String window() {
    List<FinishedRequest> batch = new ArrayList<>();
    FinishedRequest r;
    while ((r = window.poll()) != null) {
      batch.add(r);
    }
    all.addAll(batch);
    long now = System.nanoTime();
    String line = line(String.format("%6.0fs", (now - startNanos) / 1e9), batch, (now - windowStartNanos) / 1e9);
    windowStartNanos = now;
    return line;
  }

  /** The line for the whole run. */
  synchronized String total() {
    window();
    return line("total", all, (System.nanoTime() - startNanos) / 1e9);
  }

  private String line(String label, List<FinishedRequest> requests, double seconds) {
    double[] ttft = requests.stream().mapToDouble(FinishedRequest::ttftSeconds).filter(d -> !Double.isNaN(d)).sorted().toArray();
    double[] tpot = requests.stream().mapToDouble(FinishedRequest::tpotSeconds).filter(d -> !Double.isNaN(d)).sorted().toArray();
    long ok = requests.stream().filter(x -> x.outcome() == Outcome.OK).count();
    long good = requests.stream().filter(x -> "met".equals(x.slo())).count();
    long outTokens = requests.stream().mapToLong(x -> Math.max(0, x.outputTokens())).sum();
    double inFlight = tokentap.registry().find("tokentap.requests.in.flight").tag("role", role.label()).gauges().stream()
        .mapToDouble(Gauge::value).sum();
    return String.format("%8s %-10s %7.2f %5.1f%% | %27s | %27s | %9.2f %9.0f %8.0f",
        label, side, requests.size() / seconds, requests.isEmpty() ? 0 : 100.0 * ok / requests.size(),
        percentiles(ttft), percentiles(tpot), good / seconds, outTokens / seconds, inFlight);
  }

  private static String percentiles(double[] sorted) {
    if (sorted.length == 0) {
      return "-";
    }
    return String.format("%7.1f / %7.1f / %7.1f", ms(sorted, 0.50), ms(sorted, 0.95), ms(sorted, 0.99));
  }

  /** Nearest-rank percentile, in milliseconds. */
  private static double ms(double[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] * 1000;
  }

  /**
   * The answers compared, staging against production, from the summary endpoint: pairs, mean
   * similarity, output-length ratio, finish-reason agreement and refusals on each side.
   */
  static String comparison(String summaryUrl, double divergence) {
    try {
      HttpClient http = HttpClient.newHttpClient();
      String body = http.send(HttpRequest.newBuilder(URI.create(summaryUrl)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      JsonNode c = new ObjectMapper().readTree(body).path("targets").path(0).path("compare");
      return String.format("answers compared (staging divergence %.2f): %d pairs, similarity %s, output ratio %s, finish reasons agree %s, refusals %s production / %s staging",
          divergence, c.path("pairs").path("compared").asInt(0), figure(c.get("similarity_mean")), figure(c.get("output_ratio_geomean")),
          figure(c.get("finish_reason_agreement")), figure(c.path("production").get("refusal_rate")), figure(c.path("shadow").get("refusal_rate")));
    } catch (IOException e) {
      return "answers compared: summary unavailable (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "answers compared: interrupted";
    }
  }

  private static String figure(JsonNode n) {
    return n == null || !n.isNumber() ? "-" : String.format("%.2f", n.asDouble());
  }
}
