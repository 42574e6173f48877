package dev.tokentap.bench;

import dev.tokentap.bench.SvgChart.Dot;
import dev.tokentap.bench.SvgChart.Series;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** The parts of a single run's {@code report.html} ({@link RunHtmlReport}): each target's share and the time slices. */
final class BreakdownHtml {
  private static final String BLUE = "#1f77b4";
  private static final String ORANGE = "#ff7f0e";
  private static final String GREEN = "#2ca02c";

  private BreakdownHtml() {}

  /** A table of the targets' shares, when the run had several. */
  static void targets(StringBuilder sb, BenchReport r) {
    BenchSetup setup = r.setup();
    if (setup == null || setup.targets().size() < 2) {
      return;
    }
    sb.append("<h2>Targets (").append(SvgChart.esc(setup.policy().label())).append(")</h2>\n<table id=\"per-target\">\n");
    header(sb, "target");
    List<RequestTotals> parts = r.perTarget();
    for (int t = 0; t < parts.size(); t++) {
      row(sb, setup.targetNames().get(t), parts.get(t), r.durationSeconds);
    }
    sb.append("</table>\n");
  }

  /**
   * With {@code --slice}: the run slice by slice, as time series (throughput, TTFT, TPOT and ITL at
   * p50 and p99, x the slice's start) and a table.
   */
  static void slices(StringBuilder sb, BenchReport r) {
    List<TimeSlices.Slice> slices = r.slices();
    if (slices.isEmpty()) {
      return;
    }
    long t0 = slices.get(0).startNanos();
    double[] x = slices.stream().mapToDouble(s -> (s.startNanos() - t0) / 1e9).toArray();
    String width = String.format(Locale.ROOT, "%.3g s", r.setup().sliceWidth().toNanos() / 1e9);
    String axis = "slice start (seconds since the first request)";
    sb.append("<h2 id=\"slices\">Slices of ").append(width).append(" (a request counts in the slice it ended in)</h2>\n");
    sb.append(SvgChart.render("slice-throughput", "Completed requests per second, by slice", axis, "requests/s",
        List.of(new Series("completed req/s", GREEN, x, of(slices, s -> s.rate(s.totals().completed)), null, Dot.CIRCLE)), null));
    sb.append(SvgChart.render("slice-output", "Output tokens per second, by slice", axis, "tokens/s",
        List.of(new Series("output tok/s", BLUE, x, of(slices, s -> s.rate(s.totals().outputTokens)), null, Dot.CIRCLE)), null));
    percentiles(sb, "slice-ttft", "TTFT", x, slices, t -> t.ttftMs);
    percentiles(sb, "slice-tpot", "TPOT", x, slices, t -> t.tpotMs);
    percentiles(sb, "slice-itl", "ITL", x, slices, t -> t.itlMs);
    percentiles(sb, "slice-e2e", "E2E", x, slices, t -> t.e2elMs);
    sb.append("<table id=\"slice-table\">\n");
    header(sb, "slice start s");
    for (TimeSlices.Slice s : slices) {
      row(sb, String.format(Locale.ROOT, "%.1f", (s.startNanos() - t0) / 1e9), s.totals(), s.seconds());
    }
    sb.append("</table>\n");
  }

  private static void percentiles(StringBuilder sb, String id, String name, double[] x, List<TimeSlices.Slice> slices,
      Function<RequestTotals, Stats> stats) {
    sb.append(SvgChart.render(id, name + " by slice", "slice start (seconds since the first request)", name + " (ms)",
        List.of(new Series("p50 " + name, BLUE, x, of(slices, s -> stats.apply(s.totals()).p50()), null, Dot.CIRCLE),
            new Series("p99 " + name, ORANGE, x, of(slices, s -> stats.apply(s.totals()).p99()), HtmlReport.P99_DASH, Dot.HOLLOW_SQUARE)),
        null));
  }

  private static double[] of(List<TimeSlices.Slice> slices, ToDoubleFunction<TimeSlices.Slice> f) {
    return slices.stream().mapToDouble(f).toArray();
  }

  private static void header(StringBuilder sb, String first) {
    sb.append("<tr><th>").append(first).append("</th><th>requests</th><th>completed</th><th>failed</th><th>cancelled</th>")
        .append("<th>req/s</th><th>output tok/s</th><th>p50 TTFT ms</th><th>p99 TTFT ms</th><th>p50 TPOT ms</th><th>p99 TPOT ms</th>")
        .append("<th>p50 ITL ms</th><th>p99 ITL ms</th><th>p50 E2E ms</th><th>p99 E2E ms</th></tr>\n");
  }

  private static void row(StringBuilder sb, String name, RequestTotals t, double seconds) {
    sb.append("<tr><td>").append(SvgChart.esc(name)).append("</td>").append(td(t.requests)).append(td(t.completed))
        .append(td(t.failed)).append(td(t.cancelled))
        .append(td(seconds > 0 ? t.completed / seconds : Double.NaN)).append(td(seconds > 0 ? t.outputTokens / seconds : Double.NaN));
    for (Stats s : List.of(t.ttftMs, t.tpotMs, t.itlMs, t.e2elMs)) {
      sb.append(td(s.p50())).append(td(s.p99()));
    }
    sb.append("</tr>\n");
  }

  private static String td(double v) {
    return "<td>" + (Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v)) + "</td>";
  }

  private static String td(int v) {
    return "<td>" + v + "</td>";
  }
}
