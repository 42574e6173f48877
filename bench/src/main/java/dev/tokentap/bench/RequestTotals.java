package dev.tokentap.bench;

import dev.tokentap.proxy.record.FinishedRequest;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts, tokens and latency statistics of a set of measured requests: a whole run ({@link
 * BenchReport}), one target's share of it, or one time slice. One implementation, so a part is
 * computed exactly as the whole is.
 *
 * <ul>
 *   <li>completed: outcome {@code ok}; cancelled: abandoned by the bench ({@code --cancel}); failed:
 *       the rest, broken down by outcome in {@link #errors};
 *   <li>tokens, TTFT, TPOT (N ≥ 2), E2E and every ITL gap: over the completed requests only, so a
 *       cancelled request never enters a percentile;
 *   <li>good: {@code ok} and every SLO met; {@link #metTtft} etc.: completed and that SLO met.
 * </ul>
 */
final class RequestTotals {
  final int requests;
  final int completed;
  final int cancelled;
  final int failed;
  final int good;
  final long inputTokens;
  final long outputTokens;
  final Stats ttftMs;
  final Stats tpotMs;
  final Stats itlMs;
  final Stats e2elMs;
  /** Failures by outcome label ({@code error}, {@code timeout}, …); cancellations are not failures. */
  final Map<String, Integer> errors;
  final int metTtft;
  final int metTpot;
  final int metE2e;
  /** Earliest {@code t_start} and latest {@code t_end}; 0 when there is no request. */
  final long firstStartNanos;
  final long lastEndNanos;

  private RequestTotals(List<BenchSample> samples, SloSpec slo) {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    int ok = 0;
    int abandoned = 0;
    int goodCount = 0;
    long in = 0;
    long out = 0;
    int itlCount = 0;
    double[] ttft = new double[samples.size()];
    double[] tpot = new double[samples.size()];
    double[] e2e = new double[samples.size()];
    int nTtft = 0;
    int nTpot = 0;
    int[] met = new int[3];
    Map<String, Integer> errorCounts = new TreeMap<>();
    for (BenchSample s : samples) {
      first = Math.min(first, s.startNanos());
      last = Math.max(last, s.endNanos());
      FinishedRequest r = s.record();
      if (s.good()) {
        goodCount++;
      }
      if (s.cancelled()) {
        abandoned++;
        continue;
      }
      if (!s.ok()) {
        errorCounts.merge(r.outcome().label(), 1, Integer::sum);
        continue;
      }
      in += Math.max(0, r.inputTokens());
      out += Math.max(0, r.outputTokens());
      if (!Double.isNaN(r.ttftSeconds())) {
        ttft[nTtft++] = r.ttftSeconds() * 1e3;
      }
      if (!Double.isNaN(r.tpotSeconds())) {
        tpot[nTpot++] = r.tpotSeconds() * 1e3;
      }
      e2e[ok++] = r.e2eSeconds() * 1e3;
      itlCount += s.itlGapsNanos().length;
      met[0] += within(r.ttftSeconds(), slo.ttft());
      met[1] += within(r.tpotSeconds(), slo.tpot());
      met[2] += within(r.e2eSeconds(), slo.e2e());
    }
    double[] itl = new double[itlCount];
    int k = 0;
    for (BenchSample s : samples) {
      if (s.ok()) {
        for (long g : s.itlGapsNanos()) {
          itl[k++] = g / 1e6;
        }
      }
    }
    this.requests = samples.size();
    this.completed = ok;
    this.cancelled = abandoned;
    this.failed = requests - ok - abandoned;
    this.good = goodCount;
    this.inputTokens = in;
    this.outputTokens = out;
    this.ttftMs = Stats.of(Arrays.copyOf(ttft, nTtft));
    this.tpotMs = Stats.of(Arrays.copyOf(tpot, nTpot));
    this.itlMs = Stats.of(itl);
    this.e2elMs = Stats.of(Arrays.copyOf(e2e, ok));
    this.errors = Map.copyOf(errorCounts);
    this.metTtft = met[0];
    this.metTpot = met[1];
    this.metE2e = met[2];
    this.firstStartNanos = requests == 0 ? 0 : first;
    this.lastEndNanos = requests == 0 ? 0 : last;
  }

  static RequestTotals of(List<BenchSample> samples, SloSpec slo) {
    return new RequestTotals(samples, slo);
  }

  /** Requests that were given the chance to finish: all but the cancelled; what SLO attainment is a share of. */
  int judged() {
    return requests - cancelled;
  }

  private static int within(double seconds, Duration threshold) {
    // Same rule as SloPolicy: nanosecond comparison, an undefined quantity is not held against it.
    return threshold == null || Double.isNaN(seconds) || Math.round(seconds * 1e9) <= threshold.toNanos() ? 1 : 0;
  }
}
