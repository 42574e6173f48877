package dev.tokentap.bench;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code slices.csv} ({@code --slice}): one row per time slice of each step, the numbers of
 * {@code result.json}'s {@code slices} (RFC 4180, header first, as {@link StepsCsv}); times in
 * seconds from the step's first request, latencies in milliseconds, empty cells where undefined.
 */
final class SlicesCsv {
  static final List<String> COLUMNS = columns();

  private SlicesCsv() {}

  private static List<String> columns() {
    List<String> c = new ArrayList<>(List.of("step", "slice", "start_s", "end_s", "requests", "completed", "failed", "cancelled",
        "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput"));
    for (String m : List.of("ttft", "tpot", "itl", "e2el")) {
      c.add("p50_" + m + "_ms");
      c.add("p99_" + m + "_ms");
    }
    return List.copyOf(c);
  }

  static void write(StepResults results, Path file) throws IOException {
    try (Writer w = StepsCsv.start(file, COLUMNS)) {
      for (LoadStep step : results.steps()) {
        List<TimeSlices.Slice> slices = step.report().slices();
        for (TimeSlices.Slice s : slices) {
          RequestTotals t = s.totals();
          long t0 = slices.get(0).startNanos();
          List<String> row = new ArrayList<>(List.of(Integer.toString(step.index()), Integer.toString(s.index()),
              StepsCsv.num((s.startNanos() - t0) / 1e9), StepsCsv.num((s.endNanos() - t0) / 1e9), Integer.toString(t.requests),
              Integer.toString(t.completed), Integer.toString(t.failed), Integer.toString(t.cancelled), Long.toString(t.inputTokens),
              Long.toString(t.outputTokens), StepsCsv.num(s.rate(t.completed)), StepsCsv.num(s.rate(t.outputTokens))));
          for (Stats st : List.of(t.ttftMs, t.tpotMs, t.itlMs, t.e2elMs)) {
            row.add(StepsCsv.num(st.p50()));
            row.add(StepsCsv.num(st.p99()));
          }
          StepsCsv.row(w, row);
        }
      }
    }
  }
}
