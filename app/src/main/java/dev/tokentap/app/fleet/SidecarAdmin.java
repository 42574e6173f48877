package dev.tokentap.app.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One sidecar's admin listener, as the fleet controller uses it: its production and a shadow
 * target's counters from {@code /metrics}, and a shadow target's factor through {@code /admin/shadow} (set on a lease, or
 * released). With a token, every request carries {@code Authorization: Bearer <token>}.
 */
public final class SidecarAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SERIES =
      Pattern.compile("(?m)^(tokentap_requests_total|tokentap_request_duration_seconds_sum)\\{([^}]*)} (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");
  /** The outcomes that count as a target's errors (client aborts are not the server's doing). */
  static final Set<String> ERRORS = Set.of("error", "upstream_abort", "timeout", "rejected");

  private final URI base;
  private final String token;
  private final HttpClient http;
  private final Duration timeout;

  public SidecarAdmin(URI base, String token, HttpClient http, Duration timeout) {
    if (base.getScheme() == null || !base.getScheme().matches("https?") || base.getHost() == null) {
      throw new IllegalArgumentException("sidecar: " + base + " (expected: the admin listener's URL, such as http://10.0.0.5:9464)");
    }
    String text = base.toString();
    this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    this.token = token;
    this.http = http;
    this.timeout = timeout;
  }

  public URI base() {
    return base;
  }

  /**
   * This sidecar's counters for production and shadow target {@code target}, from its {@code
   * /metrics}: finished production requests, finished copies (good, missed, failed) and the copies'
   * E2E seconds.
   */
  public record Counts(double primary, double copies, double met, double missed, double errors, double copySeconds) {}

  /** Its counters now (see {@link Counts}). */
  public Counts counts(String target) throws IOException, InterruptedException {
    String metrics = send(request("/metrics").GET());
    double primary = 0;
    double copies = 0;
    double met = 0;
    double missed = 0;
    double errors = 0;
    double seconds = 0;
    Matcher m = SERIES.matcher(metrics);
    while (m.find()) {
      Map<String, String> labels = new HashMap<>();
      Matcher l = LABEL.matcher(m.group(2));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      double v = Double.parseDouble(m.group(3));
      boolean copy = "shadow".equals(labels.get("role")) && target.equals(labels.get("target"));
      if (m.group(1).equals("tokentap_request_duration_seconds_sum")) {
        seconds += copy ? v : 0;
      } else if ("primary".equals(labels.get("role"))) {
        primary += v;
      } else if (copy) {
        copies += v;
        met += "met".equals(labels.get("slo")) ? v : 0;
        missed += "missed".equals(labels.get("slo")) ? v : 0;
        errors += ERRORS.contains(labels.get("outcome")) ? v : 0;
      }
    }
    return new Counts(primary, copies, met, missed, errors, seconds);
  }

  /** Sets {@code target}'s factor on a lease of {@code ttl}; returns the factor the sidecar reports. */
  public double lease(String target, double factor, Duration ttl) throws IOException, InterruptedException {
    String query = "?target=" + URLEncoder.encode(target, StandardCharsets.UTF_8) + "&factor=" + factor + "&ttl=" + ttl.toMillis() + "ms";
    return factorOf(send(request("/admin/shadow" + query).PUT(HttpRequest.BodyPublishers.noBody())), target);
  }

  /** Ends the lease on {@code target}: the sidecar returns to its configured factor. */
  public void release(String target) throws IOException, InterruptedException {
    send(request("/admin/shadow?target=" + URLEncoder.encode(target, StandardCharsets.UTF_8)).DELETE());
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private String send(HttpRequest.Builder b) throws IOException, InterruptedException {
    HttpRequest req = b.build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(req.method() + " " + req.uri() + ": " + r.statusCode() + " " + r.body().strip());
    }
    return r.body();
  }

  private static double factorOf(String state, String target) throws IOException {
    for (JsonNode t : JSON.readTree(state).path("targets")) {
      if (t.path("name").asText().equals(target)) {
        return t.path("factor").asDouble();
      }
    }
    throw new IOException("no shadow target " + target + " in the sidecar's answer");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SidecarAdmin other && other.base.equals(base);
  }

  @Override
  public int hashCode() {
    return base.hashCode();
  }

  @Override
  public String toString() {
    return base.toString();
  }
}
