package dev.tokentap.bench;

import java.util.List;
import java.util.Locale;

/** The parts of a single run's {@code report.html} ({@link RunHtmlReport}): each target's share and the time slices. */
final class BreakdownHtml {
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
