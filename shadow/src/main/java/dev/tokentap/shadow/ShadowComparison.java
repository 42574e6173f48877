package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.admin.AdminEndpoint;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestListener;
import dev.tokentap.proxy.record.Role;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /admin/shadow/summary[?window=60s]}: production and each shadow target side by side
 * over a recent window, from the same finished-request records the metrics come from. For each
 * target, production is restricted to the requests that target mirrors (its routes and models),
 * so both sides answer the same traffic.
 *
 * <p>Per side: request rate; TTFT, TPOT and E2E p50/p95/p99 and mean (nearest rank over the
 * window's requests); error rate (outcome error, upstream_abort, timeout or rejected; a client's
 * abort is no server error); goodput (requests/s with {@code slo="met"}) and SLO attainment
 * (met / (met + missed)); mean output tokens; the finish-reason distribution. Then the ratios
 * shadow / production, and the finish-reason agreement: the overlap of the two distributions,
 * Σ min(p_production, p_shadow), 1 when staging stops for the same reasons as often as production.
 *
 * <p>With output comparison on, each target also gets {@code compare} (its pairs' figures, {@link
 * PairStats}) and, beside a baseline target, {@code compare_vs_baseline}.
 *
 * <p>Each side keeps its last {@code max-samples} requests; when the window holds more, the
 * figures cover the newest ones and say {@code "truncated": true}.
 */
final class ShadowComparison implements RequestListener, AdminEndpoint {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double[] QUANTILES = {0.5, 0.95, 0.99};

  private final Duration window;
  private final List<StagingTarget> targets;
  private final RecentRequests production;
  private final Map<String, RecentRequests> shadows = new java.util.HashMap<>();
  private final long startNanos = System.nanoTime();
  private final OutputComparison outputs; // null: outputs not compared

  ShadowComparison(List<StagingTarget> targets, Duration window, int maxSamples) {
    this(targets, window, maxSamples, null);
  }

  ShadowComparison(List<StagingTarget> targets, Duration window, int maxSamples, OutputComparison outputs) {
    this.outputs = outputs;
    this.window = window;
    this.targets = List.copyOf(targets);
    this.production = new RecentRequests(maxSamples);
    for (StagingTarget t : targets) {
      shadows.put(t.name(), new RecentRequests(maxSamples));
    }
  }

  @Override
  public void onFinished(FinishedRequest request) {
    if (request.route() == Route.OTHER) {
      return; // not inference: nothing to compare
    }
    if (request.role() == Role.PRIMARY) {
      production.add(request);
    } else if (request.role() == Role.SHADOW) {
      RecentRequests side = shadows.get(request.target());
      if (side != null) {
        side.add(request);
      }
    }
  }

  /** The shadow copies of {@code target} that finished at or after {@code sinceNanos}. */
  RecentRequests.Snapshot shadowSince(String target, long sinceNanos) {
    RecentRequests side = shadows.get(target);
    return side == null ? new RecentRequests.Snapshot(List.of(), false) : side.since(sinceNanos, e -> true);
  }

  /** The {@code compare} figures of {@code target}'s pairs scored since {@code sinceNanos}; null with comparison off. */
  ObjectNode outputsSince(String target, long sinceNanos) {
    if (outputs == null || !outputs.enabled()) {
      return null;
    }
    ObjectNode node = JSON.createObjectNode();
    outputs.summary(target, sinceNanos, node);
    return (ObjectNode) node.get("compare");
  }

  @Override
  public String path() {
    return "/admin/shadow/summary";
  }

  @Override
  public Response handle(String method, String query, byte[] body) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return Response.json(405, "{\"error\":\"GET\"}");
    }
    Duration w = window;
    for (String pair : query.split("&")) {
      if (pair.startsWith("window=")) {
        try {
          w = parseDuration(pair.substring("window=".length()));
        } catch (IllegalArgumentException e) {
          return Response.json(400, "{\"error\":\"window: expected a duration such as 60s or 5m\"}");
        }
        if (w.isZero() || w.isNegative() || w.compareTo(window) > 0) {
          return Response.json(400, "{\"error\":\"window: expected more than 0 and at most " + window.toSeconds() + "s\"}");
        }
      }
    }
    return Response.json(200, summary(w, System.nanoTime()).toString() + "\n");
  }

  ObjectNode summary(Duration w, long nowNanos) {
    long since = nowNanos - w.toNanos();
    ObjectNode root = JSON.createObjectNode();
    root.put("window_seconds", w.toMillis() / 1000.0);
    var list = root.putArray("targets");
    for (StagingTarget t : targets) {
      Predicate<RecentRequests.Entry> mirrored = e -> mirrors(t, e);
      RecentRequests.Snapshot prod = production.since(since, mirrored);
      RecentRequests.Snapshot shadow = shadows.get(t.name()).since(since, e -> true);
      ObjectNode node = list.addObject();
      node.put("target", t.name()).put("factor", t.factor()).put("circuit_breaker", t.breakerState().name());
      Side p = new Side(prod, span(prod, since, nowNanos));
      Side s = new Side(shadow, span(shadow, since, nowNanos));
      node.set("production", p.json());
      node.set("shadow", s.json());
      ObjectNode ratios = node.putObject("shadow_to_production");
      ratio(ratios, "request_rate", s.rate(), p.rate());
      for (String q : List.of("p50", "p95", "p99")) {
        ratio(ratios, "ttft_" + q, s.quantile(Side.TTFT, q), p.quantile(Side.TTFT, q));
        ratio(ratios, "tpot_" + q, s.quantile(Side.TPOT, q), p.quantile(Side.TPOT, q));
        ratio(ratios, "e2e_" + q, s.quantile(Side.E2E, q), p.quantile(Side.E2E, q));
      }
      ratio(ratios, "output_tokens", s.meanOutputTokens(), p.meanOutputTokens());
      ratio(ratios, "goodput", s.goodput(), p.goodput());
      number(node, "finish_reason_agreement", agreement(p.finishShares(), s.finishShares()));
      if (outputs != null) {
        outputs.summary(t.name(), since, node);
      }
    }
    if (outputs != null && outputs.enabled()) {
      root.put("compare_pairs_pending", outputs.pending()).put("compare_pairs_pending_max", outputs.mostPending());
    }
    return root;
  }

  /**
   * Seconds the window covers for a side: the window, unless the proxy started later or the ring
   * overwrote part of it (then from its oldest entry).
   */
  private double span(RecentRequests.Snapshot snap, long since, long now) {
    long from = Math.max(since, startNanos);
    if (snap.truncated() && !snap.entries().isEmpty()) {
      from = Math.max(from, snap.entries().get(0).endNanos());
    }
    return Math.max(1e-3, (now - from) / 1e9);
  }

  private static boolean mirrors(StagingTarget t, RecentRequests.Entry e) {
    var s = t.settings();
    boolean route = s.routes().contains("*") || s.routes().contains(e.route().label());
    boolean model = s.models().contains("*") || (e.model() != null && s.models().contains(e.model()));
    return route && model;
  }

  static double agreement(Map<FinishReason, Double> a, Map<FinishReason, Double> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return Double.NaN;
    }
    double overlap = 0;
    for (FinishReason r : FinishReason.values()) {
      overlap += Math.min(a.getOrDefault(r, 0.0), b.getOrDefault(r, 0.0));
    }
    return overlap;
  }

  private static void ratio(ObjectNode node, String name, double numerator, double denominator) {
    number(node, name, denominator > 0 ? numerator / denominator : Double.NaN);
  }

  private static void number(ObjectNode node, String name, double value) {
    if (Double.isFinite(value)) {
      node.put(name, Math.round(value * 1e4) / 1e4);
    } else {
      node.putNull(name);
    }
  }

  /** {@code 90s}, {@code 5m}, {@code 1h}, {@code 500ms}; a bare number is seconds. */
  static Duration parseDuration(String text) {
    var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(text);
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /** The figures of one side over the window. */
  private static final class Side {
    static final ToDoubleFunction<RecentRequests.Entry> TTFT = RecentRequests.Entry::ttftSeconds;
    static final ToDoubleFunction<RecentRequests.Entry> TPOT = RecentRequests.Entry::tpotSeconds;
    static final ToDoubleFunction<RecentRequests.Entry> E2E = RecentRequests.Entry::e2eSeconds;

    private final RecentRequests.Snapshot snap;
    private final double seconds;
    private final Map<ToDoubleFunction<RecentRequests.Entry>, double[]> sorted = new java.util.HashMap<>();

    Side(RecentRequests.Snapshot snap, double seconds) {
      this.snap = snap;
      this.seconds = seconds;
    }

    int count() {
      return snap.entries().size();
    }

    double rate() {
      return count() / seconds;
    }

    double[] values(ToDoubleFunction<RecentRequests.Entry> f) {
      return sorted.computeIfAbsent(f, k -> snap.entries().stream().mapToDouble(k).filter(Double::isFinite).sorted().toArray());
    }

    double quantile(ToDoubleFunction<RecentRequests.Entry> f, String q) {
      return quantile(values(f), Double.parseDouble(q.substring(1)) / 100);
    }

    /** Nearest rank, as vLLM's bench reports percentiles of its samples. */
    static double quantile(double[] sortedValues, double q) {
      if (sortedValues.length == 0) {
        return Double.NaN;
      }
      int rank = (int) Math.ceil(q * sortedValues.length);
      return sortedValues[Math.max(0, Math.min(sortedValues.length, rank) - 1)];
    }

    double goodput() {
      return snap.entries().stream().filter(e -> "met".equals(e.slo())).count() / seconds;
    }

    double attainment() {
      long met = snap.entries().stream().filter(e -> "met".equals(e.slo())).count();
      long missed = snap.entries().stream().filter(e -> "missed".equals(e.slo())).count();
      return met + missed == 0 ? Double.NaN : (double) met / (met + missed);
    }

    double errorRate() {
      long errors = snap.entries().stream().filter(e -> e.outcome() != Outcome.OK && e.outcome() != Outcome.CLIENT_ABORT).count();
      return count() == 0 ? Double.NaN : (double) errors / count();
    }

    double meanOutputTokens() {
      return snap.entries().stream().mapToLong(RecentRequests.Entry::outputTokens).filter(n -> n >= 0).average().orElse(Double.NaN);
    }

    Map<FinishReason, Double> finishShares() {
      Map<FinishReason, Double> shares = new EnumMap<>(FinishReason.class);
      long known = snap.entries().stream().filter(e -> e.finishReason() != null).count();
      if (known == 0) {
        return shares;
      }
      for (RecentRequests.Entry e : snap.entries()) {
        if (e.finishReason() != null) {
          shares.merge(e.finishReason(), 1.0 / known, Double::sum);
        }
      }
      return shares;
    }

    ObjectNode json() {
      ObjectNode n = JSON.createObjectNode();
      n.put("requests", count());
      n.put("truncated", snap.truncated());
      number(n, "request_rate", rate());
      latency(n, "ttft_ms", TTFT);
      latency(n, "tpot_ms", TPOT);
      latency(n, "e2e_ms", E2E);
      number(n, "error_rate", errorRate());
      number(n, "goodput", goodput());
      number(n, "slo_attainment", attainment());
      number(n, "output_tokens_mean", meanOutputTokens());
      ObjectNode reasons = n.putObject("finish_reasons");
      finishShares().forEach((r, share) -> number(reasons, r.label(), share));
      return n;
    }

    private void latency(ObjectNode parent, String name, ToDoubleFunction<RecentRequests.Entry> f) {
      double[] v = values(f);
      ObjectNode n = parent.putObject(name);
      for (double q : QUANTILES) {
        number(n, "p" + Math.round(q * 100), quantile(v, q) * 1000);
      }
      number(n, "mean", v.length == 0 ? Double.NaN : Arrays.stream(v).average().orElse(Double.NaN) * 1000);
    }
  }
}
