package dev.tokentap.app.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The fleet's figures from the Prometheus that scrapes its sidecars, through the HTTP API's instant
 * query ({@code GET /api/v1/query}), summed over every sidecar that {@code selector} matches:
 *
 * <pre>
 * production   sum(rate(tokentap_requests_total{SEL,role="primary"}[W]))
 * staging      sum by (slo, outcome) (rate(tokentap_requests_total{SEL,role="shadow",target="T"}[W]))
 * in flight    sum(rate(tokentap_request_duration_seconds_sum{SEL,role="shadow",target="T"}[W]))
 * </pre>
 *
 * The sidecars' list is not used: Prometheus already knows them. An unreachable Prometheus, an
 * error answer, or no production series (nothing scraped that matches) is an IOException that says
 * which; staging without series yet reads as no copies.
 */
public final class FleetPrometheus implements FleetReadings {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MATCHER = "[a-zA-Z_][a-zA-Z0-9_]*\\s*(?:=~|!~|!=|=)\\s*\"(?:[^\"\\\\]|\\\\.)*\"";
  private static final Pattern MATCHERS = Pattern.compile("\\s*(?:" + MATCHER + "(?:\\s*,\\s*" + MATCHER + ")*)?\\s*");

  private final URI base;
  private final String selector; // "job=\"tokentap\"," or ""
  private final String window;   // PromQL duration
  private final HttpClient http;
  private final Duration timeout;

  public FleetPrometheus(URI base, String selector, Duration window, HttpClient http, Duration timeout) {
    if (base.getScheme() == null || !base.getScheme().matches("https?") || base.getHost() == null) {
      throw new IllegalArgumentException("prometheus: " + base + " (expected: the URL of the Prometheus that scrapes the sidecars, such as http://prometheus:9090)");
    }
    if (selector == null || !MATCHERS.matcher(selector).matches()) {
      throw new IllegalArgumentException("prometheus-selector: " + selector + " (expected: PromQL label matchers for the sidecars' series, such as job=\"tokentap\", or empty)");
    }
    if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("prometheus-window: " + window.toMillis() + "ms (expected: 1s to 1h, at least two scrape intervals)");
    }
    String text = base.toString();
    this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    this.selector = selector.isBlank() ? "" : selector.strip() + ",";
    this.window = window.toMillis() % 1000 == 0 ? window.toSeconds() + "s" : window.toMillis() + "ms";
    this.http = http;
    this.timeout = timeout;
  }

  @Override
  public Reading read(String target, List<SidecarAdmin> sidecars) throws IOException, InterruptedException {
    return new Reading(productionRate(), staging(target));
  }

  /** The fleet's production requests/s over the window. */
  public double productionRate() throws IOException, InterruptedException {
    List<Sample> production = query("sum(rate(tokentap_requests_total{" + selector + "role=\"primary\"}[" + window + "]))");
    if (production.isEmpty()) {
      throw new IOException("Prometheus at " + base + " has no production series (tokentap_requests_total{" + selector
          + "role=\"primary\"}): are the sidecars scraped, and does --prometheus-selector match them?");
    }
    return production.get(0).value();
  }

  /** Staging's results over the window, summed over the sidecars. */
  public StagingResults staging(String target) throws IOException, InterruptedException {
    String series = "{" + selector + "role=\"shadow\",target=\"" + target + "\"}";
    double requests = 0;
    double met = 0;
    double missed = 0;
    double errors = 0;
    for (Sample s : query("sum by (slo, outcome) (rate(tokentap_requests_total" + series + "[" + window + "]))")) {
      requests += s.value();
      met += "met".equals(s.labels().get("slo")) ? s.value() : 0;
      missed += "missed".equals(s.labels().get("slo")) ? s.value() : 0;
      errors += SidecarAdmin.ERRORS.contains(s.labels().get("outcome")) ? s.value() : 0;
    }
    List<Sample> seconds = query("sum(rate(tokentap_request_duration_seconds_sum" + series + "[" + window + "]))");
    return new StagingResults(requests, met, met + missed == 0 ? Double.NaN : met / (met + missed), errors,
        seconds.isEmpty() ? 0 : seconds.get(0).value());
  }

  /** One series of an instant vector. */
  record Sample(Map<String, String> labels, double value) {}

  private List<Sample> query(String promql) throws IOException, InterruptedException {
    URI uri = URI.create(base + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new IOException("Prometheus at " + base + " did not answer within " + timeout.toMillis() + "ms", e);
    } catch (ConnectException e) {
      throw new IOException("Prometheus at " + base + " is unreachable (" + e + ")", e);
    }
    JsonNode body;
    try {
      body = JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IOException("Prometheus at " + base + " answered " + response.statusCode() + " with no JSON for " + promql, e);
    }
    if (response.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new IOException("Prometheus at " + base + " answered " + response.statusCode() + " for " + promql + ": " + body.path("error").asText());
    }
    List<Sample> out = new ArrayList<>();
    for (JsonNode r : body.path("data").path("result")) {
      double v = Double.parseDouble(r.path("value").path(1).asText("NaN"));
      if (Double.isFinite(v)) {
        Map<String, String> labels = new TreeMap<>();
        r.path("metric").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        out.add(new Sample(labels, v));
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "Prometheus at " + base + (selector.isEmpty() ? "" : " {" + selector.substring(0, selector.length() - 1) + "}");
  }
}
