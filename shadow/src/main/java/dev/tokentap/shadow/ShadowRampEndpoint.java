package dev.tokentap.shadow;

import dev.tokentap.proxy.admin.AdminEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code /admin/shadow/ramp}: {@code POST ?target=NAME&factors=1,1.5,2,3,4[&warmup=30s][&hold=60s]
 * [&attainment=0.9][&min-requests=20]} starts a {@link ShadowRamp} (one at a time); {@code GET}
 * shows the running or last one, step by step, with the knee once found; {@code DELETE} cancels it
 * and puts the factor back.
 */
final class ShadowRampEndpoint implements AdminEndpoint, AutoCloseable {
  private final List<StagingTarget> targets;
  private final ShadowComparison comparison;
  private final FactorLeases leases;
  private ScheduledExecutorService scheduler;
  private ShadowRamp ramp;

  ShadowRampEndpoint(List<StagingTarget> targets, ShadowComparison comparison, FactorLeases leases) {
    this.targets = targets;
    this.comparison = comparison;
    this.leases = leases;
  }

  /** Whether a ramp of {@code target} is running: it owns the factor until it ends. */
  synchronized boolean running(String target) {
    return ramp != null && ramp.state() == RampSteps.State.RUNNING && ramp.targetName().equals(target);
  }

  @Override
  public String path() {
    return "/admin/shadow/ramp";
  }

  @Override
  public synchronized Response handle(String method, String query, byte[] body) {
    switch (method) {
      case "GET", "HEAD" -> {
        return ramp == null ? Response.json(404, "{\"error\":\"no shadow ramp has run\"}") : Response.json(200, ramp.json() + "\n");
      }
      case "DELETE" -> {
        if (ramp == null || ramp.state() != RampSteps.State.RUNNING) {
          return Response.json(404, "{\"error\":\"no shadow ramp is running\"}");
        }
        ramp.cancel();
        return Response.json(200, ramp.json() + "\n");
      }
      case "POST", "PUT" -> {
        return start(AdminEndpoint.queryParams(query));
      }
      default -> {
        return Response.json(405, "{\"error\":\"GET, POST or DELETE\"}");
      }
    }
  }

  private Response start(Map<String, String> p) {
    if (ramp != null && ramp.state() == RampSteps.State.RUNNING) {
      return Response.json(409, "{\"error\":\"a shadow ramp of " + ramp.targetName() + " is running; DELETE it first\"}");
    }
    StagingTarget target = targets.stream().filter(t -> t.name().equals(p.get("target"))).findFirst().orElse(null);
    if (target == null) {
      return Response.json(404, "{\"error\":\"expected target=NAME of a configured shadow target\"}");
    }
    if (leases.held(target.name())) {
      return Response.json(409, "{\"error\":\"a controller holds the factor of " + target.name()
          + " on a lease; stop it or DELETE /admin/shadow?target=" + target.name() + " first\"}");
    }
    RampSteps.Plan plan;
    try {
      double goal = Double.parseDouble(p.getOrDefault("attainment", "0.9"));
      int minRequests = Integer.parseInt(p.getOrDefault("min-requests", "20"));
      if (!(goal > 0 && goal <= 1) || minRequests < 1) {
        throw new IllegalArgumentException("attainment: expected more than 0 and at most 1; min-requests: at least 1");
      }
      plan = new RampSteps.Plan(target.name(), RampSteps.parseFactors(p.getOrDefault("factors", "1,1.5,2,3,4")),
          positive("warmup", p.getOrDefault("warmup", "30s")), positive("hold", p.getOrDefault("hold", "60s")), goal, minRequests);
    } catch (IllegalArgumentException e) {
      return Response.json(400, "{\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}");
    }
    if (scheduler == null) {
      scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tokentap-shadow-ramp");
        t.setDaemon(true);
        return t;
      });
    }
    ramp = new ShadowRamp(plan, target, comparison, scheduler);
    ramp.start();
    return Response.json(202, ramp.json() + "\n");
  }

  private static Duration positive(String name, String text) {
    Duration d;
    try {
      d = ShadowComparison.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + text + " (expected: a duration such as 30s or 2m)");
    }
    if (d.isZero()) {
      throw new IllegalArgumentException(name + ": expected more than 0");
    }
    return d;
  }

  @Override
  public synchronized void close() {
    if (ramp != null) {
      ramp.cancel();
    }
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }
}
