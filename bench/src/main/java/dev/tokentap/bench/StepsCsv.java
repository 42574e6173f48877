package dev.tokentap.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code steps.csv}: one row per load step in run order (RFC 4180, comma-separated, header first).
 * Latencies in milliseconds; empty cells where a value is undefined (no completed request, no SLO).
 */
final class StepsCsv {
  static final List<String> COLUMNS = columns();

  private StepsCsv() {}

  private static List<String> columns() {
    List<String> c = new ArrayList<>(List.of("step", "load", "level", "num_prompts", "completed", "failed",
        "cancelled", "duration", "achieved_request_rate", "request_throughput", "output_throughput"));
    for (String m : List.of("ttft", "tpot", "itl", "e2el")) {
      for (String p : List.of("p50", "p90", "p99")) {
        c.add(p + "_" + m + "_ms");
      }
    }
    c.addAll(List.of("request_goodput", "slo_attainment", "binding_constraint", "passed", "errors",
        "schedule_lag_p99_ms", "hiccup_p99_ms", "generator_bottleneck", "socket_lateness_p99_ms", "generator_late"));
    return List.copyOf(c);
  }

  static void write(StepResults results, Path file) throws IOException {
    try (Writer w = start(file, COLUMNS)) {
      for (LoadStep s : results.steps()) {
        BenchReport r = s.report();
        List<String> row = new ArrayList<>(List.of(Integer.toString(s.index()), quote(r.loadDescription()),
            num(s.level()), Integer.toString(r.requests), Integer.toString(r.completed), Integer.toString(r.failed),
            Integer.toString(r.cancelled), num(r.durationSeconds), num(r.achievedRequestRate), num(r.requestThroughput), num(r.outputThroughput)));
        for (Stats st : List.of(r.ttftMs, r.tpotMs, r.itlMs, r.e2elMs)) {
          row.add(num(st.p50()));
          row.add(num(st.p90()));
          row.add(num(st.p99()));
        }
        row.add(num(r.requestGoodput));
        row.add(num(r.sloAttainment));
        row.add(quote(r.bindingConstraint()));
        row.add(results.judged() ? Boolean.toString(s.passed()) : "");
        // e.g. "timeout=2;error=1": one cell, so the column count never varies.
        row.add(quote(r.errors.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(";"))));
        row.add(num(r.generator.scheduleLagMs().p99()));
        row.add(num(r.generator.hiccupMs().p99()));
        row.add(Boolean.toString(r.generator.bottleneck()));
        row.add(num(r.generator.lateness().ms().p99()));
        row.add(Boolean.toString(r.generator.late()));
        row(w, row);
      }
    }
  }

  /** Opens {@code file} and writes the header row (RFC 4180: comma-separated, CRLF). */
  static Writer start(Path file, List<String> columns) throws IOException {
    Writer w = Files.newBufferedWriter(file);
    row(w, columns);
    return w;
  }

  static void row(Writer w, List<String> cells) throws IOException {
    w.write(String.join(",", cells));
    w.write("\r\n");
  }

  static String num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "" : new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
  }

  static String quote(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
