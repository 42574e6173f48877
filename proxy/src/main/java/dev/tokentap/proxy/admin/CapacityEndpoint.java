package dev.tokentap.proxy.admin;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The knee of each target, in requests in flight, as {@code tokentap_capacity_in_flight{target}}:
 * set from {@code tokentap.capacity.in-flight} at start-up and changed with {@code PUT
 * /admin/capacity?target=NAME&in-flight=N} (a bench sweep or a shadow ramp found a new one). With
 * {@code tokentap_requests_in_flight} it makes the saturation ratio an autoscaler targets. {@code
 * GET} lists them; {@code DELETE ?target=NAME} stops exporting one.
 */
public final class CapacityEndpoint implements AdminEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(CapacityEndpoint.class);
  static final String METRIC = "tokentap.capacity.in.flight";
  private static final int MAX_TARGETS = 64; // a label set from an API: bounded like every other

  private final MeterRegistry registry;
  private final Map<String, AtomicReference<Double>> knees = new ConcurrentHashMap<>();

  public CapacityEndpoint(MeterRegistry registry, Map<String, Double> configured) {
    this.registry = registry;
    configured.forEach(this::set);
  }

  @Override
  public String path() {
    return "/admin/capacity";
  }

  @Override
  public Response handle(String method, String query, byte[] body) {
    Map<String, String> params = AdminEndpoint.queryParams(query);
    switch (method) {
      case "GET", "HEAD" -> {
        return Response.json(200, state());
      }
      case "PUT", "POST" -> {
        String target = params.get("target");
        double knee;
        try {
          knee = Double.parseDouble(params.getOrDefault("in-flight", ""));
        } catch (NumberFormatException e) {
          knee = Double.NaN;
        }
        if (target == null || !target.matches("[A-Za-z0-9_.:-]{1,64}") || !(knee > 0) || Double.isInfinite(knee)) {
          return Response.json(400, "{\"error\":\"expected target=NAME (letters, digits, _.:-) and in-flight=N with N > 0\"}");
        }
        if (!knees.containsKey(target) && knees.size() >= MAX_TARGETS) {
          return Response.json(409, "{\"error\":\"at most " + MAX_TARGETS + " targets\"}");
        }
        LOG.info("capacity of {}: {} -> {} requests in flight", target, knees.containsKey(target) ? knees.get(target).get() : "none", knee);
        set(target, knee);
        return Response.json(200, state());
      }
      case "DELETE" -> {
        String target = params.get("target");
        AtomicReference<Double> removed = target == null ? null : knees.remove(target);
        if (removed == null) {
          return Response.json(404, "{\"error\":\"no capacity set for that target\"}");
        }
        registry.find(METRIC).tag("target", target).meters().forEach(registry::remove);
        LOG.info("capacity of {}: {} -> none", target, removed.get());
        return Response.json(200, state());
      }
      default -> {
        return Response.json(405, "{\"error\":\"GET, PUT or DELETE\"}");
      }
    }
  }

  /** The knee of {@code target}, or NaN when none is set. */
  public double inFlight(String target) {
    AtomicReference<Double> knee = knees.get(target);
    return knee == null ? Double.NaN : knee.get();
  }

  private void set(String target, double knee) {
    knees.computeIfAbsent(target, t -> {
      AtomicReference<Double> ref = new AtomicReference<>(knee);
      Gauge.builder(METRIC, ref, AtomicReference::get)
          .description("Requests in flight at the knee of this target (a bench sweep or a shadow ramp found it); in flight / this = saturation")
          .tag("target", t)
          .register(registry);
      return ref;
    }).set(knee);
  }

  private String state() {
    StringBuilder json = new StringBuilder("{\"in_flight\":{");
    new TreeMap<>(knees).forEach((t, k) -> json.append(json.charAt(json.length() - 1) == '{' ? "" : ",")
        .append('"').append(t).append("\":").append(k.get()));
    return json.append("}}\n").toString();
  }
}
