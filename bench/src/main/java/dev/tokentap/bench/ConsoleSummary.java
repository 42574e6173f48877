package dev.tokentap.bench;

import java.io.PrintWriter;
import java.util.List;

/** The table a run prints on the console: vLLM {@code bench serve}'s summary, plus the self-check's lines and banners. */
final class ConsoleSummary {
  private ConsoleSummary() {}

  static void print(BenchReport r, PrintWriter out) {
    out.printf("============ tokentap bench ============%n");
    out.printf("%-34s %s%n", "Workload:", r.workload());
    out.printf("%-34s %s%n", "Load:", r.loadDescription());
    out.printf("%-34s %s%n", "SLO:", r.slo().describe());
    out.printf("%-34s %d (after %d warm-up)%n", "Requests (measured):", r.requests, r.warmupRequests);
    out.printf("%-34s %d%n", "Completed:", r.completed);
    out.printf("%-34s %d %s%n", "Failed:", r.failed, r.errors.isEmpty() ? "" : r.errors.toString());
    BenchSetup setup = r.setup();
    if (r.cancelled > 0 || setup != null && setup.cancellation().enabled()) {
      out.printf("%-34s %d (%.1f%%; --cancel %s; not in the latencies)%n", "Cancelled:", r.cancelled,
          r.requests == 0 ? 0.0 : 100.0 * r.cancelled / r.requests, setup == null ? "-" : setup.cancellation().describe());
    }
    out.printf("%-34s %.3f%n", "Duration (s):", r.durationSeconds);
    out.printf("%-34s %d / %d%n", "Input / output tokens:", r.totalInputTokens, r.totalOutputTokens);
    out.printf("%-34s %.2f%n", "Request throughput (req/s):", r.requestThroughput);
    out.printf("%-34s %.2f%n", "Output token throughput (tok/s):", r.outputThroughput);
    out.printf("%-34s %.0f%n", "Peak output (token events/s):", r.timeline().maxOutputTokensPerSecond());
    if (!r.slo().isEmpty()) {
      out.printf("%-34s %.2f%n", "Request goodput (req/s):", r.requestGoodput);
      out.printf("%-34s %.1f%% (binding: %s)%n", "SLO attainment:", r.sloAttainment * 100, r.bindingConstraint());
    }
    out.printf("%-34s %d (client in flight %d)%n", "Max concurrent requests:", r.maxConcurrentRequests, r.maxInFlight());
    out.printf("%-12s %10s %10s %10s %10s %10s%n", "(ms)", "mean", "p50", "p90", "p99", "count");
    row(out, "TTFT", r.ttftMs);
    row(out, "TPOT", r.tpotMs);
    row(out, "ITL", r.itlMs);
    row(out, "E2E", r.e2elMs);
    row(out, "queue", r.queueMs);
    if (!r.load().closedLoop()) {
      row(out, "sched. lag", r.scheduleLagMs);
      out.printf("%-34s %.2f (target %.2f, schedule %.2f)%n", "Achieved request rate (req/s):", r.achievedRequestRate, r.targetRequestRate(),
          r.scheduledRequestRate);
    }
    SocketLateness late = r.generator.lateness();
    if (late.ms().count() > 0) {
      out.printf("%-34s p50 %.2f, p99 %.2f, max %.2f ms (material above %.2f ms)%n", "Lateness at the socket:", late.ms().p50(),
          late.ms().p99(), late.maxMs(), late.limitMs());
    }
    Stats h = r.generator.hiccupMs();
    if (h.count() > 0) {
      out.printf("%-34s p50 %.2f, p99 %.2f, max %.2f ms; GC %d ms%n", "Generator hiccups:", h.p50(), h.p99(), r.generator.hiccupMaxMs(),
          r.generator.gcPauseMillis());
    }
    if (setup != null && setup.targets().size() > 1) {
      perTarget(r, setup, out);
    }
    r.generator.printWarning(out);
    out.flush();
  }

  /** One line per target: its share of the requests and its own TTFT and TPOT. */
  private static void perTarget(BenchReport r, BenchSetup setup, PrintWriter out) {
    out.printf("Per target (%s):%n", setup.policy().label());
    List<RequestTotals> parts = r.perTarget();
    for (int t = 0; t < parts.size(); t++) {
      RequestTotals p = parts.get(t);
      out.printf("  %-32s %6d req, %6d ok, %4d failed, %4d cancelled; TTFT p50/p99 %s/%s ms, TPOT p50/p99 %s/%s ms%n",
          setup.targetNames().get(t), p.requests, p.completed, p.failed, p.cancelled,
          ms(p.ttftMs.p50()), ms(p.ttftMs.p99()), ms(p.tpotMs.p50()), ms(p.tpotMs.p99()));
    }
  }

  private static String ms(double v) {
    return Double.isNaN(v) ? "-" : String.format(java.util.Locale.ROOT, "%.2f", v);
  }

  private static void row(PrintWriter out, String name, Stats s) {
    if (s.count() == 0) { // nothing measured: a dash, not NaN
      out.printf("%-12s %10s %10s %10s %10s %10d%n", name, "-", "-", "-", "-", 0);
      return;
    }
    out.printf("%-12s %10.2f %10.2f %10.2f %10.2f %10d%n", name, s.mean(), s.p50(), s.p90(), s.p99(), s.count());
  }
}
