package dev.tokentap.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The parts of a run in {@code result.json}, after the whole: the cancelled requests ({@code
 * --cancel}), each target's share ({@code per_target}, with several {@code --target}s) and the time
 * slices ({@code slices}, with {@code --slice}). Each part is a {@link RequestTotals}, computed from
 * its own records as the whole is.
 */
final class ResultBreakdowns {
  private ResultBreakdowns() {}

  static void addTo(ObjectNode o, BenchReport r) {
    o.put("cancelled", r.cancelled);
    ResultJson.number(o, "cancelled_ratio", r.requests == 0 ? Double.NaN : (double) r.cancelled / r.requests);
    BenchSetup setup = r.setup();
    if (setup == null) {
      return;
    }
    if (setup.cancellation().enabled()) {
      ObjectNode c = o.putObject("cancel");
      ResultJson.number(c, "ratio", setup.cancellation().ratio());
      ResultJson.number(c, "delay_ms", setup.cancellation().delay().toNanos() / 1e6);
    }
    if (setup.targets().size() > 1) {
      o.put("target_policy", setup.policy().label());
      ArrayNode targets = o.putArray("per_target");
      List<String> names = setup.targetNames();
      List<RequestTotals> parts = r.perTarget();
      for (int t = 0; t < names.size(); t++) {
        ObjectNode n = targets.addObject().put("target", names.get(t));
        totals(n, parts.get(t), r.durationSeconds);
      }
    }
    if (setup.sliceWidth() != null) {
      ResultJson.number(o, "slice_seconds", setup.sliceWidth().toNanos() / 1e9);
      ArrayNode slices = o.putArray("slices");
      for (TimeSlices.Slice s : r.slices()) {
        ObjectNode n = slices.addObject().put("slice", s.index());
        ResultJson.number(n, "start_s", (s.startNanos() - r.slices().get(0).startNanos()) / 1e9);
        ResultJson.number(n, "end_s", (s.endNanos() - r.slices().get(0).startNanos()) / 1e9);
        totals(n, s.totals(), s.seconds());
      }
    }
  }

  /** Counts, tokens, rates over {@code seconds} and p50/p99 of one part, with the whole's key names. */
  private static void totals(ObjectNode n, RequestTotals t, double seconds) {
    n.put("requests", t.requests);
    n.put("completed", t.completed);
    n.put("failed", t.failed);
    n.put("cancelled", t.cancelled);
    ObjectNode err = n.putObject("errors");
    t.errors.forEach(err::put);
    n.put("total_input_tokens", t.inputTokens);
    n.put("total_output_tokens", t.outputTokens);
    boolean span = seconds > 0;
    ResultJson.number(n, "request_throughput", span ? t.completed / seconds : Double.NaN);
    ResultJson.number(n, "output_throughput", span ? t.outputTokens / seconds : Double.NaN);
    percentiles(n, "ttft", t.ttftMs);
    percentiles(n, "tpot", t.tpotMs);
    percentiles(n, "itl", t.itlMs);
    percentiles(n, "e2el", t.e2elMs);
  }

  private static void percentiles(ObjectNode n, String name, Stats s) {
    ResultJson.number(n, "p50_" + name + "_ms", s.p50());
    ResultJson.number(n, "p99_" + name + "_ms", s.p99());
  }
}
