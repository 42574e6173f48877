package dev.tokentap.benchmarks.e2e;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The markdown tables of an end-to-end run. "Added" latency is a path's percentile minus the direct
 * path's percentile at the same load: a difference of distributions, since the client cannot pair
 * an event with the moment the emulator wrote it.
 */
final class EndToEndReport {
  private EndToEndReport() {}

  static String markdown(
      String header,
      List<Map<String, PathResult>> levels,
      Map<String, Long> idleRss,
      Map<String, Long> idleHeap,
      double jitSettleSeconds) {
    StringBuilder md = new StringBuilder(header);
    md.append(String.format(Locale.ROOT,
        "%nAfter the fixed warm-up, 10 streams ran on tokentap %.0f s more, until its JIT compiler threads and "
            + "the emulator's used at most 2 %% of a core over 5 s: the windows measure the steady state.%n",
        jitSettleSeconds));
    md.append("\n### Latency (µs)\n\n")
        .append("Added = the path's percentile minus the direct path's at the same load. ")
        .append("ITL is the gap between consecutive SSE events of one stream at the client.\n\n")
        .append("| Streams | Path | TTFT p50 | TTFT p99 | added TTFT p50 | added TTFT p99 | ITL p50 | ITL p99 | added ITL p50 | added ITL p99 |\n")
        .append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, PathResult> level : levels) {
      PathResult direct = level.get("direct");
      for (PathResult r : level.values()) {
        boolean isDirect = r == direct;
        md.append(String.format(Locale.ROOT, "| %,d | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
            r.streams, r.path,
            num(PathResult.micros(r.ttft, 50)), num(PathResult.micros(r.ttft, 99)),
            isDirect ? "—" : signed(PathResult.micros(r.ttft, 50) - PathResult.micros(direct.ttft, 50)),
            isDirect ? "—" : signed(PathResult.micros(r.ttft, 99) - PathResult.micros(direct.ttft, 99)),
            num(PathResult.micros(r.itl, 50)), num(PathResult.micros(r.itl, 99)),
            isDirect ? "—" : signed(PathResult.micros(r.itl, 50) - PathResult.micros(direct.itl, 50)),
            isDirect ? "—" : signed(PathResult.micros(r.itl, 99) - PathResult.micros(direct.itl, 99))));
      }
    }
    md.append("\n### Throughput, CPU and memory\n\n")
        .append("Closed loop: every stream sends its next request when the last one ends, so events/s and ")
        .append("requests/s at the highest load are the most each path delivered on this machine. CPU is ")
        .append("the path's server process (the emulator for direct, the proxy otherwise; nginx master plus ")
        .append("workers), user + system, per million events relayed. Memory per 1,000 streams is ")
        .append("(value with every stream open − idle value after warm-up) × 1,000 / streams; heap is the ")
        .append("live heap after a full GC. JIT is the share of that CPU the JVM's compiler threads used.\n\n")
        .append("| Streams | Path | events/s | × direct | × nginx | requests/s | errors (reconnects) | CPU s per M events | × nginx | JIT | RSS MiB per 1k streams | heap MiB per 1k streams |\n")
        .append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, PathResult> level : levels) {
      PathResult direct = level.get("direct");
      PathResult nginx = level.get("nginx");
      for (PathResult r : level.values()) {
        boolean proxy = r != direct;
        md.append(String.format(Locale.ROOT, "| %,d | %s | %,.0f | %.2f | %.2f | %,.0f | %d (%d) | %s | %s | %s | %s | %s |%n",
            r.streams, r.path, r.eventsPerSecond(),
            r.eventsPerSecond() / direct.eventsPerSecond(),
            r.eventsPerSecond() / nginx.eventsPerSecond(),
            r.requestsPerSecond(), r.errors, r.reconnects,
            String.format(Locale.ROOT, "%.2f", r.cpuSecondsPerMillionEvents()) + (proxy ? "" : " (emulator)"),
            proxy ? String.format(Locale.ROOT, "%.2f", r.cpuSecondsPerMillionEvents() / nginx.cpuSecondsPerMillionEvents()) : "—",
            r.path.equals("nginx") || r.cpuSeconds <= 0 ? "—" : String.format(Locale.ROOT, "%.1f %%", 100 * r.jitSeconds / r.cpuSeconds),
            perThousand(r.rssBytes, idleRss.get(r.path), r.streams, proxy),
            perThousand(r.heapBytes, idleHeap.get(r.path), r.streams, proxy && r.heapBytes >= 0)));
      }
    }
    md.append("\nIdle after warm-up: ");
    for (String path : idleRss.keySet()) {
      md.append(String.format(Locale.ROOT, "%s RSS %.0f MiB%s; ", path, idleRss.get(path) / 1048576.0,
          idleHeap.get(path) >= 0 ? String.format(Locale.ROOT, ", live heap %.1f MiB", idleHeap.get(path) / 1048576.0) : ""));
    }
    md.setLength(md.length() - 2);
    md.append(".\n");
    return md.toString();
  }

  private static String perThousand(long loaded, Long idle, int streams, boolean show) {
    if (!show || loaded < 0 || idle == null || idle < 0) {
      return "—";
    }
    return String.format(Locale.ROOT, "%.1f", (loaded - idle) / 1048576.0 * 1000 / streams);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String signed(double v) {
    return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%+,.0f", v);
  }
}
