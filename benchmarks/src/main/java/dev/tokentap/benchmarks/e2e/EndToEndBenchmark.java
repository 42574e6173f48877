package dev.tokentap.benchmarks.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives the end-to-end comparison that {@code benchmarks/e2e/run.sh} sets up: the same streaming
 * chat workload, direct to the emulator, through tokentap and through nginx, at each load level,
 * with the paths interleaved round by round (the order rotates each round) so drift in the shared
 * machine spreads over all of them. Writes {@code e2e.md} and {@code e2e.json}.
 *
 * <p>Arguments, all {@code --key=value}: {@code direct}, {@code tokentap}, {@code nginx} (host:port
 * each), {@code emulator-pid}, {@code tokentap-pid}, {@code nginx-pid}, {@code out} (directory),
 * {@code loads} (comma-separated stream counts, default {@code 1,10,1000,10000}), {@code
 * max-tokens} (default 64), {@code max-tokens-top} (for loads of 5,000 streams and more, default
 * 512), {@code header} (a markdown file prepended to the report: date,
 * commit, machine, command).
 */
public final class EndToEndBenchmark {
  private static final String[] PATHS = {"direct", "tokentap", "nginx"};

  private final Map<String, InetSocketAddress> targets = new LinkedHashMap<>();
  private final Map<String, ProcessProbe> probes = new HashMap<>();
  private final Map<String, Long> idleRss = new HashMap<>();
  private final Map<String, Long> idleHeap = new HashMap<>();
  private static final int JIT_SLICE_SECONDS = 5;
  private static final int JIT_SETTLE_MAX_SECONDS = 120;
  /** How long {@link #settleJit} kept warming tokentap. */
  private double jitSettleSeconds;
  private int idleEmulatorFiles;
  private final SseLoadClient client;
  private final int maxTokens;
  private final int maxTokensTop;

  private EndToEndBenchmark(Map<String, String> args) {
    for (String path : PATHS) {
      targets.put(path, address(require(args, path)));
    }
    probes.put("direct", new ProcessProbe(Long.parseLong(require(args, "emulator-pid")), true));
    probes.put("tokentap", new ProcessProbe(Long.parseLong(require(args, "tokentap-pid")), true));
    probes.put("nginx", new ProcessProbe(Long.parseLong(require(args, "nginx-pid")), false));
    maxTokens = Integer.parseInt(args.getOrDefault("max-tokens", "64"));
    maxTokensTop = Integer.parseInt(args.getOrDefault("max-tokens-top", "512"));
    client = new SseLoadClient("tokentap-emulator-8b");
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (String a : argv) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException(a + " (expected: --key=value)");
      }
      args.put(a.substring(2, eq), a.substring(eq + 1));
    }
    List<Integer> loads = new ArrayList<>();
    for (String l : args.getOrDefault("loads", "1,10,1000,10000").split(",")) {
      loads.add(Integer.parseInt(l.trim()));
    }
    Path out = Path.of(require(args, "out"));
    Files.createDirectories(out);
    EndToEndBenchmark bench = new EndToEndBenchmark(args);
    try {
      List<Map<String, PathResult>> results = bench.run(loads);
      String header = args.containsKey("header") ? Files.readString(Path.of(args.get("header"))) : "";
      String md = EndToEndReport.markdown(header, results, bench.idleRss, bench.idleHeap, bench.jitSettleSeconds);
      Files.writeString(out.resolve("e2e.md"), md);
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("finished", Instant.now().toString());
      json.put("idleRssBytes", bench.idleRss);
      json.put("idleHeapBytes", bench.idleHeap);
      json.put("jitSettleSeconds", bench.jitSettleSeconds);
      List<Object> levels = new ArrayList<>();
      for (Map<String, PathResult> level : results) {
        List<Object> rows = new ArrayList<>();
        level.values().forEach(r -> rows.add(r.toJson()));
        levels.add(rows);
      }
      json.put("loads", levels);
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(out.resolve("e2e.json").toFile(), json);
      System.out.println(md);
    } finally {
      bench.client.close();
    }
  }

  private List<Map<String, PathResult>> run(List<Integer> loads) throws Exception {
    log("JIT warm-up: 10 then 200 streams on each path");
    for (String path : PATHS) {
      warm(path, 10, 4);
      warm(path, 200, 4);
    }
    settleJit();
    Thread.sleep(2000);
    for (String path : PATHS) {
      ProcessProbe probe = probes.get(path);
      idleRss.put(path, probe.rssBytes());
      idleHeap.put(path, probe.liveHeapBytes());
    }
    idleEmulatorFiles = probes.get("direct").openFiles();
    log("idle RSS " + idleRss + ", idle live heap " + idleHeap);
    List<Map<String, PathResult>> results = new ArrayList<>();
    for (int streams : loads) {
      Map<String, PathResult> level = new LinkedHashMap<>();
      for (String path : PATHS) {
        level.put(path, new PathResult(path, streams));
      }
      boolean high = streams >= 1000;
      int rounds = streams >= 5_000 ? 1 : 2; // two rounds, in rotated order, below the top load
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < PATHS.length; i++) {
          String path = PATHS[(i + round) % PATHS.length];
          measure(level.get(path), high, round == rounds - 1);
        }
      }
      results.add(level);
    }
    return results;
  }

  /**
   * Keeps 10 streams on tokentap until neither JVM's JIT compilers (tokentap's, and the
   * emulator's, which every path shares) used more than 2 % of a core in a 5 s slice, at most
   * {@value #JIT_SETTLE_MAX_SECONDS} s. C2 goes on compiling for about 30 s of load after
   * start-up; a window measured before then charges the compiler's CPU to the proxy's per-event
   * cost, which is a start-up cost, not the steady state the targets are about.
   */
  private void settleJit() throws Exception {
    ProcessProbe proxy = probes.get("tokentap");
    ProcessProbe emulator = probes.get("direct");
    long start = System.nanoTime();
    while (true) {
      double before = proxy.jitCpuSeconds() + emulator.jitCpuSeconds();
      warm("tokentap", 10, JIT_SLICE_SECONDS);
      double used = proxy.jitCpuSeconds() + emulator.jitCpuSeconds() - before;
      jitSettleSeconds = (System.nanoTime() - start) / 1e9;
      if (used <= 0.02 * JIT_SLICE_SECONDS || jitSettleSeconds >= JIT_SETTLE_MAX_SECONDS) {
        log(String.format("JIT %s after %.0f s more on tokentap (last %d s slice: %.2f s of compiler CPU)",
            used <= 0.02 * JIT_SLICE_SECONDS ? "settled" : "still busy", jitSettleSeconds, JIT_SLICE_SECONDS, used));
        return;
      }
    }
  }

  private void warm(String path, int streams, int seconds) throws Exception {
    try (SseLoadClient.Phase phase = client.phase(targets.get(path), maxTokens)) {
      phase.open(streams, 500, 0);
      Thread.sleep(seconds * 1000L);
    }
    Thread.sleep(500);
  }

  /** One round of one path: open, settle, measure, sample memory with every stream open, close. */
  private void measure(PathResult result, boolean high, boolean sampleMemory) throws Exception {
    String path = result.path;
    int streams = result.streams;
    ProcessProbe probe = probes.get(path);
    boolean top = streams >= 5_000;
    long measureMillis = top ? 10_000 : high ? 6_000 : 5_000;
    // At the top load the emulator cannot start every stream at once (on 2 cores it makes a few
    // tens of thousands of events/s in all), so streams are long and the window opens only when
    // the start-up herd is over: every stream has had its first event and is decoding.
    try (SseLoadClient.Phase phase = client.phase(targets.get(path), top ? maxTokensTop : maxTokens)) {
      long t0 = System.nanoTime();
      phase.open(streams, 500, top ? 500 : 0);
      double rampSeconds = (System.nanoTime() - t0) / 1e9;
      if (top) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (phase.flowing() < streams * 0.99 && System.nanoTime() < deadline) {
          Thread.sleep(250);
        }
        rampSeconds = (System.nanoTime() - t0) / 1e9;
      }
      Thread.sleep(high ? 3000 : 1000);
      client.reset();
      double cpu0 = probe.cpuSeconds();
      double jit0 = probe.jitCpuSeconds();
      long start = System.nanoTime();
      Thread.sleep(measureMillis);
      SseLoadClient.Stats stats = client.snapshot();
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpu = probe.cpuSeconds() - cpu0;
      result.add(stats, seconds, cpu, probe.jitCpuSeconds() - jit0);
      if (high && sampleMemory) {
        result.rssBytes = probe.rssBytes();
        result.heapBytes = probe.liveHeapBytes();
      }
      result.openAtEnd = phase.openConnections();
      log(String.format(
          "%-8s %5d streams (all started in %.1fs): %,.0f events/s, %,.0f req/s, TTFT p50 %.0f us, ITL p50/p99 %.0f/%.0f us, errors %d %s, reconnects %d, cpu %.2fs",
          path, streams, rampSeconds, stats.events / seconds, stats.requests / seconds,
          PathResult.micros(stats.ttft, 50), PathResult.micros(stats.itl, 50),
          PathResult.micros(stats.itl, 99), stats.errors, stats.errorKinds, stats.reconnects, cpu));
    }
    // Let closed streams drain, and idle pooled upstream connections (4 s in both proxies) close,
    // before the next path: the emulator's sockets must be back near idle, or the next path
    // starts against a server still closing thousands of connections (and out of descriptors).
    Thread.sleep(high ? 5000 : 500);
    ProcessProbe emulator = probes.get("direct");
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (emulator.openFiles() > idleEmulatorFiles + 200 && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
  }

  private static void log(String line) {
    System.err.println("[e2e " + Instant.now() + "] " + line);
  }

  private static String require(Map<String, String> args, String key) {
    String v = args.get(key);
    if (v == null) {
      throw new IllegalArgumentException("--" + key + " is required");
    }
    return v;
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
