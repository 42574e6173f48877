package dev.tokentap.bench;

import dev.tokentap.bench.SvgChart.Dot;
import dev.tokentap.bench.SvgChart.Marker;
import dev.tokentap.bench.SvgChart.Series;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code report.html} of a sweep or a stage list: one self-contained page (inline CSS and SVG, no
 * script, nothing fetched) with the throughput–latency curve and the knee, TTFT and TPOT percentiles
 * per step, goodput per step, and a table of the steps. Steps are drawn in order of load, not of the
 * runs. p50 is a solid line with dots, p99 a dashed line with hollow squares, so both show where they
 * coincide. A single run's page is {@link RunHtmlReport}.
 */
final class HtmlReport {
  private static final String BLUE = "#1f77b4";
  private static final String ORANGE = "#ff7f0e";
  private static final String GREEN = "#2ca02c";
  private static final String GREY = "#7f7f7f";
  static final String P90_DASH = "2 4";
  static final String P99_DASH = "8 5";

  private HtmlReport() {}

  static String render(StepResults results) {
    return render(results, null);
  }

  static String render(StepResults results, RunInfo info) {
    List<LoadStep> steps = results.byLevel();
    LoadStep knee = results.highestPassing();
    BenchReport first = steps.get(0).report();
    String unit = results.kind().equals("rate") ? "offered rate (requests/s)" : "concurrency";
    double[] level = steps.stream().mapToDouble(LoadStep::level).toArray();
    double[] throughput = of(steps, r -> r.requestThroughput);
    StringBuilder sb = new StringBuilder();
    page(sb, results.mode());
    sb.append("<table class=\"meta\">\n");
    meta(sb, "workload", first.workload());
    meta(sb, "load", results.kind() + " (" + steps.size() + " step" + (steps.size() == 1 ? "" : "s") + ")");
    meta(sb, "SLO", first.slo().describe());
    provenance(sb, first, info);
    if (results.judged()) {
      meta(sb, "attainment target", String.format(Locale.ROOT, "%.0f%%", results.target() * 100));
      LoadStep fail = results.firstFailing();
      meta(sb, "knee (highest passing " + results.kind() + ")", knee == null ? "none" : StepResults.fmt(knee.level()));
      meta(sb, "first failing " + results.kind(), fail == null ? "none found" : StepResults.fmt(fail.level()));
      meta(sb, "binding constraint", fail == null ? "-" : results.bindingConstraint());
    }
    sb.append("</table>\n");
    List<LoadStep> late = results.steps().stream().filter(s -> s.report().generator.late()).toList();
    if (!late.isEmpty()) {
      sb.append("<p class=\"fail late\">Warning: generator late at step");
      late.forEach(s -> sb.append(' ').append(s.index()));
      sb.append(" (").append(SvgChart.esc(late.get(0).report().generator.lateness().reason())).append("); its TTFT and E2E include that delay.</p>\n");
    }
    List<LoadStep> bound = results.steps().stream().filter(s -> s.report().generator.bottleneck()).toList();
    if (!bound.isEmpty()) {
      sb.append("<p class=\"fail\">Warning: the load generator, not the server, may have been the bottleneck at step");
      bound.forEach(s -> sb.append(' ').append(s.index()));
      sb.append(" (").append(SvgChart.esc(bound.get(0).report().generator.warnings().get(0))).append("); its latencies include the generator's own delay.</p>\n");
    }

    String kneeLabel = knee == null ? null : "knee: " + StepResults.fmt(knee.level());
    sb.append(SvgChart.render("throughput-latency", "Throughput vs latency", "request throughput (requests/s)", "E2E latency (ms)",
        List.of(new Series("p50 E2E", BLUE, throughput, of(steps, r -> r.e2elMs.p50())),
            new Series("p99 E2E", ORANGE, throughput, of(steps, r -> r.e2elMs.p99()), P99_DASH, Dot.HOLLOW_SQUARE)),
        knee == null ? null : new Marker(knee.report().requestThroughput, knee.report().e2elMs.p99(), kneeLabel)));
    sb.append(SvgChart.render("ttft", "TTFT percentiles per step", unit, "TTFT (ms)", percentiles(steps, level, "TTFT", r -> r.ttftMs),
        knee == null ? null : new Marker(knee.level(), Double.NaN, kneeLabel)));
    sb.append(SvgChart.render("tpot", "TPOT percentiles per step", unit, "TPOT (ms)", percentiles(steps, level, "TPOT", r -> r.tpotMs),
        knee == null ? null : new Marker(knee.level(), Double.NaN, kneeLabel)));
    List<Series> rates = results.judged()
        ? List.of(new Series("throughput", GREY, level, throughput), new Series("goodput", GREEN, level, of(steps, r -> r.requestGoodput)))
        : List.of(new Series("throughput", GREY, level, throughput));
    sb.append(SvgChart.render("goodput", "Goodput per step", unit, "requests/s", rates,
        knee == null ? null : new Marker(knee.level(), knee.report().requestGoodput, kneeLabel)));

    sb.append("<h2>Steps</h2>\n<table>\n<tr><th>step</th><th>load</th><th>requests</th><th>failed</th><th>cancelled</th><th>req/s</th><th>output tok/s</th>")
        .append("<th>p50 TTFT ms</th><th>p99 TTFT ms</th><th>p50 TPOT ms</th><th>p99 TPOT ms</th><th>p99 E2E ms</th>")
        .append("<th>goodput req/s</th><th>attainment</th><th></th><th>generator</th></tr>\n");
    for (LoadStep s : results.steps()) {
      BenchReport r = s.report();
      sb.append("<tr><td>").append(s.index()).append("</td><td>").append(SvgChart.esc(r.loadDescription())).append("</td>")
          .append(td(r.requests)).append(td(r.failed)).append(td(r.cancelled)).append(td(r.requestThroughput)).append(td(r.outputThroughput))
          .append(td(r.ttftMs.p50())).append(td(r.ttftMs.p99())).append(td(r.tpotMs.p50())).append(td(r.tpotMs.p99()))
          .append(td(r.e2elMs.p99())).append(td(r.requestGoodput))
          .append("<td>").append(Double.isNaN(r.sloAttainment) ? "" : String.format(Locale.ROOT, "%.1f%%", r.sloAttainment * 100)).append("</td>")
          .append(!results.judged() ? "<td></td>" : s.passed() ? "<td>pass</td>" : "<td class=\"fail\">FAIL</td>")
          .append(r.generator.bottleneck() ? "<td class=\"fail\">bottleneck</td>" : "<td>ok</td>")
          .append("</tr>\n");
    }
    sb.append("</table>\n<p>Formulas: docs/bench.md (vLLM <code>bench serve</code> definitions; attainment = good / measured requests).</p>\n")
        .append("</body></html>\n");
    return sb.toString();
  }

  private static List<Series> percentiles(List<LoadStep> steps, double[] level, String name, java.util.function.Function<BenchReport, Stats> stats) {
    return List.of(
        new Series("p50 " + name, BLUE, level, of(steps, r -> stats.apply(r).p50())),
        new Series("p90 " + name, GREEN, level, of(steps, r -> stats.apply(r).p90()), P90_DASH, Dot.CIRCLE),
        new Series("p99 " + name, ORANGE, level, of(steps, r -> stats.apply(r).p99()), P99_DASH, Dot.HOLLOW_SQUARE));
  }

  private static double[] of(List<LoadStep> steps, ToDoubleFunction<BenchReport> f) {
    return steps.stream().mapToDouble(s -> f.applyAsDouble(s.report())).toArray();
  }

  /** The page's head, its style and the heading. */
  static void page(StringBuilder sb, String mode) {
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>tokentap bench report</title>\n<style>\n")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}")
        .append("h1{font-size:22px}table{border-collapse:collapse;font-size:13px}")
        .append("td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}")
        .append(".fail{color:#d62728;font-weight:bold}.chart{display:block;margin:12px 0}.meta td{text-align:left}")
        .append(".late{background:#fde8e8;border:2px solid #d62728;padding:8px 12px}")
        .append(".headline{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}")
        .append(".headline div{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}")
        .append(".headline b{display:block;font-size:20px}.headline span{font-size:12px;color:#555}\n")
        .append("</style></head><body>\n<h1>tokentap bench: ").append(SvgChart.esc(mode)).append("</h1>\n");
  }

  /** Rows of the meta table: what was measured, where, when, how and by what. */
  static void provenance(StringBuilder sb, BenchReport report, RunInfo info) {
    var json = ResultJson.of(report);
    meta(sb, "model", json.path("model_id").asText("unknown"));
    meta(sb, "date", json.path("date").asText());
    if (info != null) {
      meta(sb, "target", String.join(", ", info.targets()));
      meta(sb, "seed", Long.toString(info.seed()));
      if (info.commandLine() != null) {
        meta(sb, "command", info.commandLine());
      }
      meta(sb, "tokentap", RunInfo.version() + " (commit " + RunInfo.commit() + ")");
      meta(sb, "machine", Runtime.getRuntime().availableProcessors() + " cores, " + RunInfo.jvm());
    }
  }

  static void meta(StringBuilder sb, String k, String v) {
    sb.append("<tr><th>").append(SvgChart.esc(k)).append("</th><td>").append(SvgChart.esc(v)).append("</td></tr>\n");
  }

  private static String td(double v) {
    return "<td>" + (Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v)) + "</td>";
  }

  private static String td(int v) {
    return "<td>" + v + "</td>";
  }
}
