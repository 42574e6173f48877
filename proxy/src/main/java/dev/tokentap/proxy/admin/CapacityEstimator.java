package dev.tokentap.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestListener;
import dev.tokentap.proxy.record.Role;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Estimates each target's capacity passively, from production traffic alone: every finished request
 * is kept with the number of requests in flight when it started (in rings per level 1, 2, 3, 4, 6, 8,
 * 12, ..., so every level keeps its recent verdicts), and the knee is where SLO attainment, fitted
 * non-increasing in that number, crosses the goal ({@link KneeFit}): {@code
 * tokentap_capacity_estimate_in_flight{target}}, with {@code _lower} and {@code _upper} bounds beside
 * it. The estimate errs low where the evidence is thin. While attainment has not fallen below the
 * goal the knee lies beyond the traffic seen, and the estimate is only a lower bound (the evidence
 * says so).
 *
 * <p>{@code GET /admin/capacity/estimate} shows the evidence: per level, requests, attainment, TTFT
 * and TPOT p50/p99, and the fitted bins. Only requests with an SLO verdict count (DistServe's
 * attainment: met / (met + missed)); those of role shadow and bench are left to their own tools.
 */
public final class CapacityEstimator implements RequestListener, AdminEndpoint {
  static final String METRIC = "tokentap.capacity.estimate.in.flight";
  /** Upper bounds of the in-flight levels; a request at 5 in flight is filed under 6. */
  static final long[] LEVELS = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 4096, Long.MAX_VALUE};
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_TARGETS = 64;

  private final MeterRegistry registry;
  private final Settings.Capacity.Estimate settings;
  private final Map<String, TargetLevels> targets = new ConcurrentHashMap<>();

  public CapacityEstimator(MeterRegistry registry, Settings.Capacity.Estimate settings) {
    this.registry = registry;
    this.settings = settings;
  }

  @Override
  public void onFinished(FinishedRequest r) {
    if (r.role() != Role.PRIMARY || r.inFlightAtStart() < 1 || SloPolicy.NONE.equals(r.slo())) {
      return;
    }
    TargetLevels t = targets.get(r.target());
    if (t == null) {
      if (targets.size() >= MAX_TARGETS) {
        return;
      }
      t = targets.computeIfAbsent(r.target(), this::register);
    }
    t.add(r);
  }

  private TargetLevels register(String target) {
    TargetLevels t = new TargetLevels(settings.samplesPerLevel());
    Gauge.builder(METRIC, t, levels -> levels.cached().estimate())
        .description("Requests in flight where SLO attainment (fitted non-increasing) crosses the goal, from production traffic; errs low on thin evidence, a lower bound until attainment falls below the goal")
        .tag("target", target)
        .register(registry);
    Gauge.builder(METRIC + ".lower", t, levels -> levels.cached().lower())
        .description("Lower bound of tokentap_capacity_estimate_in_flight: the crossing with attainment two standard errors lower")
        .tag("target", target)
        .register(registry);
    Gauge.builder(METRIC + ".upper", t, levels -> levels.cached().upper())
        .description("Upper bound of tokentap_capacity_estimate_in_flight: the crossing with attainment two standard errors higher; NaN while no level fails")
        .tag("target", target)
        .register(registry);
    return t;
  }

  /** The estimate of {@code target} now; NaN when there is not enough evidence. */
  public double estimate(String target) {
    TargetLevels t = targets.get(target);
    return t == null ? Double.NaN : t.estimate(System.nanoTime()).estimate();
  }

  @Override
  public String path() {
    return "/admin/capacity/estimate";
  }

  @Override
  public Response handle(String method, String query, byte[] body) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return Response.json(405, "{\"error\":\"GET\"}");
    }
    long now = System.nanoTime();
    ObjectNode root = JSON.createObjectNode();
    root.put("slo_attainment_goal", settings.goal());
    root.put("min_requests", settings.minRequests());
    root.put("window_seconds", settings.window().toSeconds());
    ObjectNode all = root.putObject("targets");
    new TreeMap<>(targets).forEach((name, t) -> all.set(name, t.evidence(now)));
    return Response.json(200, root + "\n");
  }

  /** One target's levels; each keeps a ring of its last requests. */
  private final class TargetLevels {
    private final long[][] endNanos;
    private final long[][] inFlight;
    private final boolean[][] met;
    private final double[][] ttft;
    private final double[][] tpot;
    private final long[] written;
    private KneeFit.Result cached = KneeFit.Result.NONE;
    private long cachedAt = System.nanoTime() - 2_000_000_000L;

    TargetLevels(int samples) {
      endNanos = new long[LEVELS.length][samples];
      inFlight = new long[LEVELS.length][samples];
      met = new boolean[LEVELS.length][samples];
      ttft = new double[LEVELS.length][samples];
      tpot = new double[LEVELS.length][samples];
      written = new long[LEVELS.length];
    }

    synchronized void add(FinishedRequest r) {
      int level = level(r.inFlightAtStart());
      int i = (int) (written[level]++ % endNanos[level].length);
      endNanos[level][i] = r.endNanos();
      inFlight[level][i] = r.inFlightAtStart();
      met[level][i] = SloPolicy.MET.equals(r.slo());
      ttft[level][i] = r.ttftSeconds();
      tpot[level][i] = r.tpotSeconds();
    }

    /** Requests of {@code level} inside the window, and how many of them met their SLOs. */
    private int[] counts(int level, long since) {
      int n = 0;
      int good = 0;
      int held = (int) Math.min(written[level], endNanos[level].length);
      for (int i = 0; i < held; i++) {
        if (endNanos[level][i] - since >= 0) {
          n++;
          good += met[level][i] ? 1 : 0;
        }
      }
      return new int[] {n, good};
    }

    /** The estimate of the last second: a scrape reads three gauges of it. */
    synchronized KneeFit.Result cached() {
      long now = System.nanoTime();
      if (now - cachedAt >= 1_000_000_000L) {
        cached = estimate(now);
        cachedAt = now;
      }
      return cached;
    }

    synchronized KneeFit.Result estimate(long now) {
      long since = now - settings.window().toNanos();
      TreeMap<Long, int[]> counts = new TreeMap<>(); // in flight -> requests, met
      for (int level = 0; level < LEVELS.length; level++) {
        int held = (int) Math.min(written[level], endNanos[level].length);
        for (int i = 0; i < held; i++) {
          if (endNanos[level][i] - since >= 0) {
            int[] c = counts.computeIfAbsent(inFlight[level][i], k -> new int[2]);
            c[0]++;
            c[1] += met[level][i] ? 1 : 0;
          }
        }
      }
      List<KneeFit.Point> points = new ArrayList<>();
      counts.forEach((c, n) -> points.add(new KneeFit.Point(c, n[0], n[1])));
      return KneeFit.fit(points, settings.goal(), settings.minRequests());
    }

    synchronized ObjectNode evidence(long now) {
      long since = now - settings.window().toNanos();
      ObjectNode n = JSON.createObjectNode();
      KneeFit.Result e = estimate(now);
      put(n, "estimate_in_flight", e.estimate());
      put(n, "estimate_in_flight_lower", e.lower());
      put(n, "estimate_in_flight_upper", e.upper());
      n.put("knee_seen", e.kneeSeen()); // false: every judged bin passed, the knee is higher still
      ArrayNode fit = n.putArray("fit");
      for (KneeFit.Bin b : e.bins()) {
        ObjectNode f = fit.addObject();
        f.put("in_flight_from", b.from());
        f.put("in_flight_to", b.to());
        f.put("requests", b.requests());
        put(f, "slo_attainment", (double) b.met() / b.requests());
        put(f, "fitted", b.fitted());
        put(f, "stderr", b.stderr());
      }
      ArrayNode levels = n.putArray("levels");
      for (int level = 0; level < LEVELS.length; level++) {
        int[] c = counts(level, since);
        if (c[0] == 0) {
          continue;
        }
        ObjectNode l = levels.addObject();
        l.put("in_flight_from", level == 0 ? 1 : LEVELS[level - 1] + 1);
        if (LEVELS[level] == Long.MAX_VALUE) {
          l.putNull("in_flight_to");
        } else {
          l.put("in_flight_to", LEVELS[level]);
        }
        l.put("requests", c[0]);
        l.put("slo_attainment", Math.round(1e4 * c[1] / c[0]) / 1e4);
        l.put("judged", c[0] >= settings.minRequests());
        put(l, "ttft_p50_ms", quantile(ttft[level], endNanos[level], level, since, 0.5));
        put(l, "ttft_p99_ms", quantile(ttft[level], endNanos[level], level, since, 0.99));
        put(l, "tpot_p50_ms", quantile(tpot[level], endNanos[level], level, since, 0.5));
        put(l, "tpot_p99_ms", quantile(tpot[level], endNanos[level], level, since, 0.99));
      }
      return n;
    }

    private double quantile(double[] values, long[] ends, int level, long since, double q) {
      int held = (int) Math.min(written[level], ends.length);
      double[] in = new double[held];
      int n = 0;
      for (int i = 0; i < held; i++) {
        if (ends[i] - since >= 0 && Double.isFinite(values[i])) {
          in[n++] = values[i];
        }
      }
      if (n == 0) {
        return Double.NaN;
      }
      Arrays.sort(in, 0, n);
      return in[Math.max(0, (int) Math.ceil(q * n) - 1)] * 1000;
    }
  }

  private static void put(ObjectNode n, String name, double v) {
    if (Double.isFinite(v)) {
      n.put(name, Math.round(v * 1e3) / 1e3);
    } else {
      n.putNull(name);
    }
  }

  static int level(long inFlight) {
    for (int i = 0; i < LEVELS.length; i++) {
      if (inFlight <= LEVELS[i]) {
        return i;
      }
    }
    return LEVELS.length - 1;
  }
}
