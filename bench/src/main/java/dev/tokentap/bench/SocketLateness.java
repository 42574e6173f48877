package dev.tokentap.bench;

import dev.tokentap.meter.MeterResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How late each measured request reached the socket against the time it was due: the part of the
 * generator's own delay that the dispatcher's schedule lag cannot see (a cold JVM loading classes,
 * connections being opened, a busy event loop). The issue behind it: a fresh bench process sent its
 * first requests 200-900 ms late while the schedule lag read zero.
 *
 * <p>Per request: the generator's own lag ({@link GeneratorCheck#ownLagNanos}: intended time to the
 * dispatcher's hand-off, a concurrency ceiling's wait left out) plus hand-off to the moment the
 * request's bytes were written ({@code record.sentNanos()}, stamped by {@code MeteredCall} when
 * the write completed). A closed loop's request, and a conversation's later turn, is due when it is
 * handed over. Requests never written (connection refused) have no lateness.
 *
 * <p>It is <b>material</b> when its p99 is above {@value #TTFT_SHARE} of the run's TTFT p50 and
 * above {@value #FLOOR_MS} ms (no TTFT measured: above {@value #NO_TTFT_LIMIT_MS} ms): then the
 * TTFT and E2E figures carry the generator's delay and the run is flagged {@code generator_late}.
 *
 * @param ms per-request lateness
 * @param maxMs the largest; NaN when none
 * @param limitMs the p99 above which the lateness is material
 * @param reason why the run is flagged; null when it is not
 */
public record SocketLateness(Stats ms, double maxMs, double limitMs, String reason) {
  public static final double TTFT_SHARE = 0.10;
  public static final double FLOOR_MS = 1;
  public static final double NO_TTFT_LIMIT_MS = 5;

  public static final SocketLateness NONE = new SocketLateness(Stats.EMPTY, Double.NaN, Double.NaN, null);

  /** The lateness of the measured requests of {@code all} (warm-up included, as predecessors), judged against {@code ttftP50Ms}. */
  static SocketLateness of(List<BenchSample> all, boolean closedLoop, boolean ceiling, double ttftP50Ms) {
    return judge(latenessMs(all, closedLoop, ceiling), ttftP50Ms);
  }

  static SocketLateness judge(double[] latenessMs, double ttftP50Ms) {
    Stats stats = Stats.of(latenessMs);
    double max = Arrays.stream(latenessMs).max().orElse(Double.NaN);
    double limit = Double.isNaN(ttftP50Ms) ? NO_TTFT_LIMIT_MS : Math.max(FLOOR_MS, TTFT_SHARE * ttftP50Ms);
    String reason = null;
    if (stats.count() > 0 && stats.p99() > limit) {
      reason = Double.isNaN(ttftP50Ms)
          ? String.format(Locale.ROOT, "requests reached the socket late: p99 %.1f ms (max %.1f ms) > %.0f ms", stats.p99(), max, limit)
          : String.format(Locale.ROOT, "requests reached the socket late: p99 %.1f ms (max %.1f ms) > %.1f ms, %.0f%% of TTFT p50 %.1f ms",
              stats.p99(), max, limit, TTFT_SHARE * 100, ttftP50Ms);
    }
    return new SocketLateness(stats, max, limit, reason);
  }

  static double[] latenessMs(List<BenchSample> all, boolean closedLoop, boolean ceiling) {
    Map<BenchSample, Long> ownLag = new IdentityHashMap<>();
    if (!closedLoop) {
      GeneratorCheck.ownLagNanos(all, ceiling).forEach(e -> ownLag.put(e.getKey(), e.getValue()));
    }
    List<Double> out = new ArrayList<>();
    for (BenchSample s : all) {
      long sent = s.record().sentNanos();
      if (s.warmup() || sent == MeterResult.NEVER) {
        continue;
      }
      out.add((ownLag.getOrDefault(s, 0L) + Math.max(0, sent - s.sendNanos())) / 1e6);
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The generator was late enough to move the latencies it measured. */
  public boolean late() {
    return reason != null;
  }
}
