package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * Capacity sizing from a knee (the highest passing step of a sweep or stage list), for a peak load
 * and a headroom:
 *
 * <pre>
 * replicas                 = ceil(peak × (1 + headroom) / knee_throughput)
 * knee_in_flight           = the knee's concurrency (closed loop), or its mean requests in flight,
 *                            Σ(t_end − t_start) / duration over its measured requests (Little's law)
 * in_flight_per_replica    = max(1, floor(knee_in_flight / (1 + headroom)))   scale out above this
 * target_saturation        = 1 / (1 + headroom)      in_flight / capacity, for a ratio autoscaler
 * </pre>
 *
 * {@code knee_throughput} is the knee's measured request throughput for a peak in requests/s, its
 * output token throughput for a peak in tokens/s. In-flight counts requests the replica holds,
 * queued or running, as the proxy's {@code tokentap_in_flight} does.
 */
public record CapacityPlan(
    String kind,
    double kneeLevel,
    double kneeRequestThroughput,
    double kneeOutputThroughput,
    int kneeInFlight,
    String kneeInFlightSource,
    Peak peak,
    double headroom,
    int replicas,
    int inFlightPerReplica) {

  /** A peak load: requests/s or output tokens/s. */
  public record Peak(double value, boolean tokens) {
    /** {@code 40rps}, {@code 40req/s}, {@code 5000tok/s}, {@code 5000tps}. */
    public static Peak parse(String spec) {
      String s = spec.trim().toLowerCase(Locale.ROOT);
      boolean tokens;
      String number;
      if (s.endsWith("rps") || s.endsWith("req/s")) {
        tokens = false;
        number = s.substring(0, s.length() - (s.endsWith("rps") ? 3 : 5));
      } else if (s.endsWith("tps") || s.endsWith("tok/s")) {
        tokens = true;
        number = s.substring(0, s.length() - (s.endsWith("tps") ? 3 : 5));
      } else {
        throw new IllegalArgumentException("--peak " + spec + " (expected: requests/s such as 40rps, or output tokens/s such as 5000tok/s)");
      }
      try {
        double v = Double.parseDouble(number.trim());
        if (v > 0 && Double.isFinite(v)) {
          return new Peak(v, tokens);
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("--peak " + spec + " (expected: a positive number with rps or tok/s, e.g. 40rps)");
    }

    public String unit() {
      return tokens ? "output tok/s" : "req/s";
    }
  }

  public CapacityPlan {
    requireNonNull(kind, "kind");
    requireNonNull(peak, "peak");
  }

  /**
   * Sizes for {@code peak} from the knee of {@code results}; throws when the steps show no passing
   * load to size from.
   */
  public static CapacityPlan size(StepResults results, Peak peak, double headroom) {
    if (!(headroom >= 0) || Double.isInfinite(headroom)) {
      throw new IllegalArgumentException("--headroom: " + headroom + " (expected: >= 0, e.g. 0.3 for 30%)");
    }
    LoadStep knee = results.highestPassing();
    if (knee == null) {
      throw new IllegalArgumentException("no step met the SLOs, so there is no knee to size from; start the sweep at a lower load");
    }
    BenchReport r = knee.report();
    boolean closed = results.kind().equals("concurrency");
    int inFlight = kneeInFlight(knee, closed);
    double throughput = peak.tokens() ? r.outputThroughput : r.requestThroughput;
    if (!(throughput > 0)) {
      throw new IllegalArgumentException("the knee step completed nothing, so there is no throughput to size from");
    }
    int replicas = (int) Math.ceil(peak.value() * (1 + headroom) / throughput - 1e-9);
    int perReplica = (int) Math.max(1, Math.floor(inFlight / (1 + headroom)));
    return new CapacityPlan(results.kind(), knee.level(), r.requestThroughput, r.outputThroughput, inFlight,
        closed ? "concurrency" : "littles_law", peak, headroom, Math.max(1, replicas), perReplica);
  }

  /** The knee's in-flight level: its concurrency, or its mean in flight by Little's law (at least 1). */
  public static int kneeInFlight(LoadStep knee, boolean closedLoop) {
    return closedLoop ? (int) Math.round(knee.level()) : (int) Math.max(1, Math.floor(meanInFlight(knee.report())));
  }

  /** Σ(t_end − t_start) / duration: the time-average of requests in flight (Little's law, measured). */
  static double meanInFlight(BenchReport r) {
    if (!(r.durationSeconds > 0)) {
      return 0;
    }
    double busy = r.measured().stream().mapToLong(s -> s.endNanos() - s.startNanos()).sum() / 1e9;
    return busy / r.durationSeconds;
  }

  public double targetSaturation() {
    return 1 / (1 + headroom);
  }

  /** The admin call that gives the proxy this knee as {@code tokentap_capacity_in_flight{target}}. */
  public static String capacityUrl(String admin, String target, int inFlight) {
    return admin.replaceAll("/+$", "") + "/admin/capacity?target=" + URLEncoder.encode(target, StandardCharsets.UTF_8)
        + "&in-flight=" + inFlight;
  }

  public ObjectNode toJson() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("knee_" + kind, kneeLevel);
    o.put("knee_request_throughput", kneeRequestThroughput);
    o.put("knee_output_throughput", kneeOutputThroughput);
    o.put("knee_in_flight", kneeInFlight);
    o.put("knee_in_flight_source", kneeInFlightSource);
    o.put("peak", peak.value());
    o.put("peak_unit", peak.tokens() ? "output_tokens_per_s" : "requests_per_s");
    o.put("headroom", headroom);
    o.put("replicas", replicas);
    o.put("in_flight_per_replica_threshold", inFlightPerReplica);
    o.put("target_saturation", targetSaturation());
    return o;
  }

  public void print(PrintWriter out, String admin, String target) {
    double kneeThroughput = peak.tokens() ? kneeOutputThroughput : kneeRequestThroughput;
    out.printf("============ capacity ============%n");
    out.printf("knee: %s %s -> %.2f req/s, %.1f output tok/s, %d in flight (%s)%n", kind, StepResults.fmt(kneeLevel),
        kneeRequestThroughput, kneeOutputThroughput, kneeInFlight, kneeInFlightSource.equals("concurrency") ? "its concurrency" : "Little's law");
    out.printf(Locale.ROOT, "replicas: ceil(%s %s x (1 + %s) / %.2f %s) = %d%n", StepResults.fmt(peak.value()), peak.unit(),
        StepResults.fmt(headroom), kneeThroughput, peak.unit(), replicas);
    out.printf(Locale.ROOT, "autoscale: scale out above %d in flight per replica (in_flight / capacity above %.2f)%n",
        inFlightPerReplica, targetSaturation());
    printCurl(out, admin, target, kneeInFlight);
    out.flush();
  }

  /** The exact line that gives a proxy this knee; placeholders where the admin or target is unknown. */
  public static void printCurl(PrintWriter out, String admin, String target, int inFlight) {
    String url = target == null
        ? capacityUrl(admin == null ? "http://<admin>" : admin, "TARGET", inFlight).replace("TARGET", "<name>")
        : capacityUrl(admin == null ? "http://<admin>" : admin, target, inFlight);
    out.printf("give the proxy the knee: curl -X PUT '%s'%n", url);
    out.flush();
  }

  /** PUTs the knee to a proxy's admin API; throws unless it answers 2xx. */
  public static void publish(URI admin, String target, int inFlight) throws IOException, InterruptedException {
    URI uri = URI.create(capacityUrl(admin.toString(), target, inFlight));
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> r;
    try {
      r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException("--publish-capacity: cannot reach " + uri + " (" + e + ")", e);
    }
    if (r.statusCode() / 100 != 2) {
      throw new IOException("--publish-capacity: PUT " + uri + " answered " + r.statusCode() + ": " + r.body().strip());
    }
  }
}
