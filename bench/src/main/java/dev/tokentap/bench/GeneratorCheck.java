package dev.tokentap.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Is the generator, rather than the server, the bottleneck? The pitfall every load-testing guide
 * warns about: a late generator under-delivers the rate and adds its own delay to every latency.
 *
 * <ul>
 *   <li><b>Schedule lag</b> (open loop): how late the dispatcher reached each request's intended
 *       time. With a {@code --max-concurrency} ceiling the dispatcher also waits for the ceiling,
 *       which is the server's slowness, not the generator's, so a request's lag is counted from the
 *       later of its intended time and the previous request's hand-off.
 *   <li><b>Hiccups</b>: how late a thread that wakes every millisecond runs ({@link HiccupMonitor}),
 *       i.e. GC pauses and CPU starvation; plus the GC time the JVM reports.
 *   <li><b>Socket lateness</b> ({@link SocketLateness}): how late each request reached the socket,
 *       which also sees a cold JVM and connection set-up; judged against the TTFT measured, it
 *       flags the run {@linkplain #late() late} on its own, apart from the bottleneck verdict.
 * </ul>
 *
 * The generator is called the bottleneck when lag p99 is above {@value #LAG_P99_LIMIT_MS} ms, more
 * than {@value #LATE_FRACTION_LIMIT} of the requests are over {@value #LATE_MS} ms late, or hiccup
 * p99 is above {@value #HICCUP_P99_LIMIT_MS} ms.
 */
public record GeneratorCheck(Stats scheduleLagMs, double lagMaxMs, double lateFraction, Stats hiccupMs, double hiccupMaxMs,
    long gcPauseMillis, long gcCount, List<String> warnings, SocketLateness lateness) {
  public static final double LAG_P99_LIMIT_MS = 10;
  public static final double LATE_MS = 50;
  public static final double LATE_FRACTION_LIMIT = 0.01;
  public static final double HICCUP_P99_LIMIT_MS = 10;

  public GeneratorCheck {
    warnings = List.copyOf(warnings);
    Objects.requireNonNull(lateness, "lateness");
  }

  /** From the generator's own lag per request (empty for closed loops) and the hiccup monitor. */
  public static GeneratorCheck evaluate(double[] lagMs, double[] hiccupMs, long gcPauseMillis, long gcCount) {
    return evaluate(lagMs, hiccupMs, gcPauseMillis, gcCount, SocketLateness.NONE);
  }

  /** As above, with the requests' lateness at the socket. */
  public static GeneratorCheck evaluate(double[] lagMs, double[] hiccupMs, long gcPauseMillis, long gcCount, SocketLateness lateness) {
    Stats lag = Stats.of(lagMs);
    Stats hiccups = Stats.of(hiccupMs);
    double lagMax = Arrays.stream(lagMs).max().orElse(Double.NaN);
    double hiccupMax = Arrays.stream(hiccupMs).max().orElse(Double.NaN);
    double late = lagMs.length == 0 ? Double.NaN : Arrays.stream(lagMs).filter(v -> v > LATE_MS).count() / (double) lagMs.length;
    List<String> warnings = new ArrayList<>();
    if (lag.count() > 0 && lag.p99() > LAG_P99_LIMIT_MS) {
      warnings.add(String.format(Locale.ROOT, "schedule lag p99 %.1f ms > %.0f ms (max %.1f ms)", lag.p99(), LAG_P99_LIMIT_MS, lagMax));
    }
    if (late > LATE_FRACTION_LIMIT) {
      warnings.add(String.format(Locale.ROOT, "%.1f%% of requests were sent more than %.0f ms late (limit %.0f%%)",
          late * 100, LATE_MS, LATE_FRACTION_LIMIT * 100));
    }
    if (hiccups.count() > 0 && hiccups.p99() > HICCUP_P99_LIMIT_MS) {
      warnings.add(String.format(Locale.ROOT, "the JVM stalled: hiccup p99 %.1f ms > %.0f ms (max %.1f ms, GC %d ms in %d collections)",
          hiccups.p99(), HICCUP_P99_LIMIT_MS, hiccupMax, gcPauseMillis, gcCount));
    }
    return new GeneratorCheck(lag, lagMax, late, hiccups, hiccupMax, gcPauseMillis, gcCount, warnings, lateness);
  }

  /** The check of one run: its samples' lag and socket lateness, its hiccups and GC; lateness judged against {@code ttftP50Ms}. */
  static GeneratorCheck of(BenchRunner.Run run, LoadPlan load, double ttftP50Ms) {
    boolean ceiling = !load.closedLoop() && load.concurrency() > 0;
    return evaluate(generatorLagMs(run.samples(), load.closedLoop(), ceiling), run.hiccups().delaysMs(), run.hiccups().gcPauseMillis(),
        run.hiccups().gcCount(), SocketLateness.of(run.samples(), load.closedLoop(), ceiling, ttftP50Ms));
  }

  /**
   * The generator's own lag per measured request: dispatch minus the later of the intended time
   * and, under a ceiling, the previous request's hand-off (warm-up requests count as predecessors);
   * scheduled requests only.
   */
  static double[] generatorLagMs(List<BenchSample> all, boolean closedLoop, boolean ceiling) {
    if (closedLoop) {
      return new double[0];
    }
    return ownLagNanos(all, ceiling).stream().filter(e -> !e.getKey().warmup()).mapToDouble(e -> e.getValue() / 1e6).toArray();
  }

  /**
   * Each scheduled request's own lag in nanoseconds, in index order, warm-up included: dispatch
   * minus the later of its intended time and, under a ceiling, the previous request's hand-off.
   */
  static List<Map.Entry<BenchSample, Long>> ownLagNanos(List<BenchSample> all, boolean ceiling) {
    // A conversation's later turns are not scheduled: they are sent when the previous turn ends.
    List<BenchSample> byIndex = all.stream().filter(s -> s.turn() == 0)
        .sorted(java.util.Comparator.comparingLong(BenchSample::index)).toList();
    List<Map.Entry<BenchSample, Long>> out = new ArrayList<>(byIndex.size());
    long previousSend = Long.MIN_VALUE;
    for (BenchSample s : byIndex) {
      long from = ceiling && previousSend != Long.MIN_VALUE ? Math.max(s.startNanos(), previousSend) : s.startNanos();
      out.add(Map.entry(s, Math.max(0, s.dispatchNanos() - from)));
      previousSend = s.sendNanos();
    }
    return out;
  }

  /** The same check with {@code more} warnings (a merged run's: a shard's generator was the bottleneck). */
  GeneratorCheck withWarnings(List<String> more) {
    List<String> all = new ArrayList<>(warnings);
    all.addAll(more);
    return new GeneratorCheck(scheduleLagMs, lagMaxMs, lateFraction, hiccupMs, hiccupMaxMs, gcPauseMillis, gcCount, all, lateness);
  }

  public boolean bottleneck() {
    return !warnings.isEmpty();
  }

  /** The requests reached the socket late enough to move the TTFT measured ({@link SocketLateness}). */
  public boolean late() {
    return lateness.late();
  }

  public ObjectNode toJson() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    if (scheduleLagMs.count() > 0) {
      o.put("schedule_lag_p50_ms", scheduleLagMs.p50());
      o.put("schedule_lag_p99_ms", scheduleLagMs.p99());
      o.put("schedule_lag_max_ms", lagMaxMs);
      o.put("late_over_50ms_fraction", lateFraction);
    }
    if (hiccupMs.count() > 0) {
      o.put("hiccup_p50_ms", hiccupMs.p50());
      o.put("hiccup_p99_ms", hiccupMs.p99());
      o.put("hiccup_max_ms", hiccupMaxMs);
    }
    if (lateness.ms().count() > 0) {
      o.put("socket_lateness_p50_ms", lateness.ms().p50());
      o.put("socket_lateness_p99_ms", lateness.ms().p99());
      o.put("socket_lateness_max_ms", lateness.maxMs());
      o.put("socket_lateness_limit_ms", lateness.limitMs());
    }
    o.put("late", late());
    o.put("gc_pause_ms", gcPauseMillis);
    o.put("gc_count", gcCount);
    o.put("bottleneck", bottleneck());
    var w = o.putArray("warnings");
    warnings.forEach(w::add);
    return o;
  }

  /** A banner nobody can miss, when the generator was the bottleneck or late; nothing otherwise. */
  public void printWarning(PrintWriter out) {
    String bar = "!".repeat(78);
    if (late()) {
      out.println(bar);
      out.println("!! WARNING: generator late: " + lateness.reason());
      out.println("!! TTFT and E2E include that delay. Keep the warm-up on (--warmup), lower the rate per");
      out.println("!! process or give the bench more CPU.");
      out.println(bar);
    }
    if (!bottleneck()) {
      out.flush();
      return;
    }
    out.println(bar);
    out.println("!! WARNING: the load generator, not the server, may be the bottleneck:");
    for (String w : warnings) {
      out.println("!!   " + w);
    }
    out.println("!! Latencies include the generator's own delay and the achieved rate may fall short.");
    out.println("!! Lower the rate per process, give the bench more CPU, or run it on another machine.");
    out.println(bar);
    out.flush();
  }
}
