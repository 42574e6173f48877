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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One sidecar's admin listener, as the fleet controller uses it: its production request count from
 * {@code /metrics}, and a shadow target's factor through {@code /admin/shadow} (set on a lease, or
 * released). With a token, every request carries {@code Authorization: Bearer <token>}.
 */
public final class SidecarAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PRIMARY_REQUESTS =
      Pattern.compile("(?m)^tokentap_requests_total\\{([^}]*)} (\\S+)$");

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

  /** The production requests this sidecar has finished: Σ tokentap_requests_total{role="primary"}. */
  public double primaryRequests() throws IOException, InterruptedException {
    String metrics = send(request("/metrics").GET());
    double sum = 0;
    Matcher m = PRIMARY_REQUESTS.matcher(metrics);
    while (m.find()) {
      if (m.group(1).contains("role=\"primary\"")) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
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
