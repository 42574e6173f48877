package dev.tokentap.bench;

import static dev.tokentap.bench.HtmlReport.meta;

import dev.tokentap.bench.SvgChart.Dot;
import dev.tokentap.bench.SvgChart.Series;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code report.html} of a single run: the headline numbers first (requests, throughput, TTFT, TPOT,
 * ITL and E2E at p50 and p99, SLO attainment, failures), the generator's warnings, what was run and
 * where, then the distributions (TTFT, TPOT and ITL as CDFs) and the run second by second
 * ({@link RunTimeline}). Self-contained like {@link HtmlReport}: inline CSS and SVG, no script.
 */
final class RunHtmlReport {
  private static final String BLUE = "#1f77b4";
  private static final String ORANGE = "#ff7f0e";
  private static final String GREEN = "#2ca02c";
  private static final String PURPLE = "#9467bd";
  /** Points of a CDF: enough for a smooth curve, few enough for a small page. */
  private static final int CDF_POINTS = 200;

  private RunHtmlReport() {}

  static String render(BenchReport r, RunInfo info) {
    StringBuilder sb = new StringBuilder();
    HtmlReport.page(sb, "run");
    sb.append("<div class=\"headline\" id=\"headline\">\n");
    card(sb, "requests", Integer.toString(r.requests), r.completed + " completed");
    card(sb, "failures", Integer.toString(r.failed), r.errors.isEmpty() ? "none" : r.errors.toString());
    if (r.cancelled > 0) {
      card(sb, "cancelled", Integer.toString(r.cancelled), String.format(Locale.ROOT, "%.1f%%, not in the latencies", 100.0 * r.cancelled / r.requests));
    }
    card(sb, "req/s", num(r.requestThroughput), "request throughput");
    card(sb, "output tok/s", num(r.outputThroughput), "output token throughput");
    pair(sb, "TTFT", r.ttftMs);
    pair(sb, "TPOT", r.tpotMs);
    pair(sb, "ITL", r.itlMs);
    pair(sb, "E2E", r.e2elMs);
    card(sb, "SLO attainment", Double.isNaN(r.sloAttainment) ? "-" : String.format(Locale.ROOT, "%.1f%%", r.sloAttainment * 100),
        r.slo().isEmpty() ? "no SLO given" : r.slo().describe());
    sb.append("</div>\n");
    GeneratorCheck g = r.generator;
    if (g.late()) {
      sb.append("<p class=\"fail late\" id=\"generator-late\">Generator late: ").append(SvgChart.esc(g.lateness().reason()))
          .append(". TTFT and E2E include the generator's own delay; keep the warm-up on, or give the bench more CPU.</p>\n");
    }
    if (g.bottleneck()) {
      sb.append("<p class=\"fail\">Warning: the load generator, not the server, may have been the bottleneck (")
          .append(SvgChart.esc(String.join("; ", g.warnings()))).append(").</p>\n");
    }
    sb.append("<table class=\"meta\">\n");
    meta(sb, "workload", r.workload());
    meta(sb, "load", r.loadDescription());
    meta(sb, "SLO", r.slo().describe());
    HtmlReport.provenance(sb, r, info);
    meta(sb, "duration", String.format(Locale.ROOT, "%.3f s, after %d warm-up requests", r.durationSeconds, r.warmupRequests));
    SocketLateness late = g.lateness();
    if (late.ms().count() > 0) {
      meta(sb, "lateness at the socket", String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms, max %.2f ms (material above %.2f ms)",
          late.ms().p50(), late.ms().p99(), late.maxMs(), late.limitMs()));
    }
    sb.append("</table>\n");
    BreakdownHtml.targets(sb, r);
    sb.append("<h2>Distributions</h2>\n");
    double[][] values = perRequest(r);
    cdf(sb, "ttft-cdf", "TTFT", values[0]);
    cdf(sb, "tpot-cdf", "TPOT", values[1]);
    cdf(sb, "itl-cdf", "ITL (every gap)", values[2]);
    sb.append("<h2>Over time</h2>\n");
    RunTimeline t = r.timeline();
    double[] sec = t.seconds();
    sb.append(SvgChart.render("output-over-time", "Output per second", "seconds since the first request", "token events/s",
        List.of(new Series("output", BLUE, sec, t.outputChunks(), null, Dot.NONE),
            new Series("completed req", GREEN, sec, t.completed(), null, Dot.NONE)), null));
    sb.append(SvgChart.render("ttft-over-time", "TTFT by second of start", "seconds since the first request", "TTFT (ms)",
        List.of(new Series("p50 TTFT", BLUE, sec, t.ttftP50Ms(), null, Dot.CIRCLE),
            new Series("p99 TTFT", ORANGE, sec, t.ttftP99Ms(), HtmlReport.P99_DASH, Dot.HOLLOW_SQUARE)), null));
    sb.append(SvgChart.render("in-flight-over-time", "Requests active in each second (vLLM's count)", "seconds since the first request", "requests",
        List.of(new Series("active", PURPLE, sec, t.inFlight(), null, Dot.NONE)), null));
    BreakdownHtml.slices(sb, r);
    sb.append("<p>Formulas: docs/bench.md (vLLM <code>bench serve</code> definitions; attainment = good / measured requests).</p>\n")
        .append("</body></html>\n");
    return sb.toString();
  }

  /** TTFT, TPOT and every ITL gap of the completed requests, in ms. */
  private static double[][] perRequest(BenchReport r) {
    List<BenchSample> ok = r.measured().stream().filter(BenchSample::ok).toList();
    double[] ttft = ok.stream().mapToDouble(s -> s.record().ttftSeconds() * 1e3).filter(v -> !Double.isNaN(v)).toArray();
    double[] tpot = ok.stream().mapToDouble(s -> s.record().tpotSeconds() * 1e3).filter(v -> !Double.isNaN(v)).toArray();
    double[] itl = ok.stream().flatMapToLong(s -> Arrays.stream(s.itlGapsNanos())).mapToDouble(g -> g / 1e6).toArray();
    return new double[][] {ttft, tpot, itl};
  }

  /** The share of values at or below each x, as a line of at most {@value #CDF_POINTS} points. */
  private static void cdf(StringBuilder sb, String id, String name, double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = Math.min(sorted.length, CDF_POINTS);
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      int k = n == 1 ? sorted.length - 1 : (int) Math.round((double) i * (sorted.length - 1) / (n - 1));
      x[i] = sorted[k];
      y[i] = 100.0 * (k + 1) / sorted.length;
    }
    sb.append(SvgChart.render(id, name + " distribution (CDF, " + sorted.length + " values)", name + " (ms)", "percent at or below",
        List.of(new Series(name, BLUE, x, y, null, Dot.NONE)), null, 100));
  }

  private static void pair(StringBuilder sb, String name, Stats s) {
    card(sb, name + " p50 / p99", s.count() == 0 ? "-" : num(s.p50()) + " / " + num(s.p99()), "ms, " + s.count() + " values");
  }

  private static void card(StringBuilder sb, String label, String value, String note) {
    sb.append("<div><span>").append(SvgChart.esc(label)).append("</span><b>").append(SvgChart.esc(value)).append("</b><span>")
        .append(SvgChart.esc(note)).append("</span></div>\n");
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v);
  }
}
