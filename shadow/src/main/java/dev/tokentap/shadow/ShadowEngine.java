package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.proxy.admin.AdminEndpoint;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.ShadowTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import dev.tokentap.proxy.record.OutputObserver;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.tap.RequestTap;
import dev.tokentap.proxy.tap.RequestTapFactory;
import dev.tokentap.proxy.tap.TappedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors and amplifies live traffic to staging targets: the proxy hands it each inspected request
 * (a {@link RequestTap}) and each {@link StagingTarget} plans, queues and sends its own copies on
 * its own event loops. Nothing here blocks or throws into the relay.
 */
public final class ShadowEngine implements RequestTap, AdminEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowEngine.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<StagingTarget> targets;
  private final ShadowComparison comparison;
  private final ShadowRampEndpoint ramps;
  private final OutputComparison outputs;
  private final FactorLeases leases;

  private ShadowEngine(List<StagingTarget> targets, ShadowComparison comparison, OutputComparison outputs) {
    this.targets = List.copyOf(targets);
    this.comparison = comparison;
    this.outputs = outputs;
    this.leases = new FactorLeases(this.targets);
    this.ramps = new ShadowRampEndpoint(this.targets, comparison, leases);
  }

  /** Starts the targets' event loops; null {@code seed} for unseeded randomness. */
  public static ShadowEngine start(Settings.Shadow settings, RequestRecorder recorder, Long seed) {
    List<StagingTarget> targets = new ArrayList<>();
    for (ShadowTarget t : settings.targets()) {
      Random random = seed == null ? new Random() : new Random(seed + targets.size());
      targets.add(new StagingTarget(t, recorder, random));
      LOG.info("shadow target {}: {} at factor {}", t.name(), t.upstream(), t.factor());
    }
    OutputComparison outputs;
    try {
      outputs = new OutputComparison(settings.compare(), targets, recorder.metrics(), settings.summaryMaxSamples());
    } catch (IOException e) {
      targets.forEach(StagingTarget::close);
      throw new UncheckedIOException("tokentap.shadow.compare.samples.file: " + settings.compare().samplesFile() + ": " + e.getMessage(), e);
    }
    ShadowComparison comparison = new ShadowComparison(targets, settings.summaryWindow(), settings.summaryMaxSamples(), outputs);
    recorder.addListener(comparison);
    return new ShadowEngine(targets, comparison, outputs);
  }

  /** For {@code Tokentap.start}: an engine for {@code settings} measured with the proxy's recorder. */
  public static RequestTapFactory factory(Settings.Shadow settings) {
    return recorder -> start(settings, recorder, null);
  }

  /**
   * {@code /admin/shadow} (factors), {@code /admin/shadow/summary} (side by side) and {@code
   * /admin/shadow/ramp} (a load test of a target on live traffic).
   */
  @Override
  public List<AdminEndpoint> adminEndpoints() {
    return List.of(this, comparison, ramps);
  }

  /** Offers the request to every target; nothing is compared (no one would show production's output). */
  @Override
  public void onRequest(TappedRequest request) {
    offer(request, null);
  }

  /** Offers the request to every target; for a request sampled for comparison, production's side. */
  @Override
  public OutputObserver onRequestWatchingOutput(TappedRequest request) {
    OutputPair pair = outputs.sample(request, targets);
    offer(request, pair);
    return pair != null && pair.seal() ? pair.production() : null;
  }

  private void offer(TappedRequest request, OutputPair pair) {
    for (StagingTarget t : targets) {
      try {
        t.offer(request, pair);
      } catch (RuntimeException e) {
        LOG.warn("shadow target {} could not take a copy", t.name(), e);
      }
    }
  }

  @Override
  public void onRequestTooLarge(TappedRequest request) {
    for (StagingTarget t : targets) {
      try {
        t.offerTooLarge(request);
      } catch (RuntimeException e) {
        LOG.warn("shadow target {} could not count a copy", t.name(), e);
      }
    }
  }

  /** The current factor of the named target, or NaN when there is none. */
  public double factor(String target) {
    return targets.stream().filter(t -> t.name().equals(target)).mapToDouble(StagingTarget::factor).findFirst().orElse(Double.NaN);
  }

  /** Changes a target's factor at run time for good (ending any lease); false when there is no such target. */
  public boolean factor(String target, double factor) {
    return factor(target, factor, null);
  }

  /**
   * Changes a target's factor at run time; with a {@code ttl}, on a lease: unless set again before
   * it runs out, the target goes back to its configured factor. False when there is no such target.
   */
  public boolean factor(String target, double factor, Duration ttl) {
    if (!(factor >= 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("factor: " + factor + " (expected: a number >= 0)");
    }
    StagingTarget t = target(target);
    if (t == null) {
      return false;
    }
    if (t.factor() != factor || ttl == null || !leases.held(target)) { // renewals at the same factor are not news
      LOG.info("shadow target {}: factor {} -> {}{}", target, t.factor(), factor, ttl == null ? "" : " on a lease of " + ttl.toMillis() / 1000.0 + "s");
    }
    leases.set(t, factor, ttl);
    return true;
  }

  private StagingTarget target(String name) {
    return targets.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
  }

  /** The circuit breaker state of the named target (CLOSED, OPEN, HALF_OPEN...), or null. */
  public String breakerState(String target) {
    return targets.stream().filter(t -> t.name().equals(target)).map(t -> t.breakerState().name()).findFirst().orElse(null);
  }

  @Override
  public String path() {
    return "/admin/shadow";
  }

  /**
   * {@code GET /admin/shadow}: each target's factor, configured factor, lease and breaker state.
   * {@code PUT /admin/shadow?target=NAME&factor=K[&ttl=30s]} (or a JSON body {@code {"target": NAME,
   * "factor": K, "ttl": "30s"}}): changes a factor, effective from the next production request; with
   * a ttl on a lease ({@link FactorLeases}). {@code DELETE ?target=NAME}: back to the configured factor.
   */
  @Override
  public Response handle(String method, String query, byte[] body) {
    if (method.equals("GET") || method.equals("HEAD")) {
      return Response.json(200, state());
    }
    Map<String, String> params = AdminEndpoint.queryParams(query);
    if (method.equals("DELETE")) {
      StagingTarget t = target(params.getOrDefault("target", ""));
      if (t == null) {
        return Response.json(404, "{\"error\":\"expected target=NAME of a configured shadow target\"}");
      }
      LOG.info("shadow target {}: factor {} -> {} (configured), released", t.name(), t.factor(), t.settings().factor());
      leases.release(t);
      return Response.json(200, state());
    }
    if (!method.equals("PUT") && !method.equals("POST")) {
      return Response.json(405, "{\"error\":\"GET, PUT or DELETE\"}");
    }
    if (body.length > 0) {
      try {
        JSON.readTree(body).fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
      } catch (IOException e) {
        return Response.json(400, "{\"error\":\"body: not JSON\"}");
      }
    }
    String target = params.get("target");
    double factor;
    try {
      factor = Double.parseDouble(params.getOrDefault("factor", ""));
    } catch (NumberFormatException e) {
      factor = Double.NaN;
    }
    if (target == null || !(factor >= 0) || Double.isInfinite(factor)) {
      return Response.json(400, "{\"error\":\"expected target=NAME and factor=K with K >= 0\"}");
    }
    Duration ttl;
    try {
      ttl = params.containsKey("ttl") ? FactorLeases.parseTtl(params.get("ttl")) : null;
    } catch (IllegalArgumentException e) {
      return Response.json(400, "{\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}");
    }
    if (ttl != null && ramps.running(target)) {
      return Response.json(409, "{\"error\":\"a shadow ramp of " + target + " is running; DELETE /admin/shadow/ramp first\"}");
    }
    if (!factor(target, factor, ttl)) {
      return Response.json(404, "{\"error\":\"no shadow target " + target.replaceAll("[^A-Za-z0-9_.:-]", "?") + "\"}");
    }
    return Response.json(200, state());
  }

  private String state() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("targets");
    for (StagingTarget t : targets) {
      ObjectNode n = list.addObject().put("name", t.name()).put("upstream", t.settings().upstream().toString()).put("factor", t.factor())
          .put("configured_factor", t.settings().factor());
      double left = leases.secondsLeft(t.name());
      if (Double.isNaN(left)) {
        n.putNull("lease_seconds_left"); // set for good (or configured)
      } else {
        n.put("lease_seconds_left", Math.round(left * 1000) / 1000.0);
      }
      n.put("circuit_breaker", t.breakerState().name());
    }
    return root.toString() + "\n";
  }

  @Override
  public void close() {
    ramps.close();
    leases.close();
    for (StagingTarget t : targets) {
      t.close();
    }
    outputs.close(); // after the targets: the last pairs are scored
  }
}
