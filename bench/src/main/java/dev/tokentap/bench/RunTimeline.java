package dev.tokentap.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A run second by second, as vLLM {@code bench serve} counts it for {@code max_output_tokens_per_s}
 * ({@code vllm/benchmarks/serve.py}, {@code calculate_metrics}): over the completed requests, one-second
 * buckets from the earliest start; a request's token times are {@code start + TTFT} and then each
 * inter-token gap added in turn, so a bucket counts token-bearing events (chunks), not tokens; a
 * request is active in every bucket from the one it starts in to the one it ends in. The last
 * bucket is usually a partial second.
 *
 * <p>Also, for the report's time series, the completions per second and the TTFT percentiles of the
 * requests that started in each second.
 *
 * @param outputChunks token-bearing events per second
 * @param inFlight requests active at some time during each second
 * @param completed requests that finished (outcome ok) in each second
 * @param ttftP50Ms median TTFT of the requests that started in each second; NaN when none
 * @param ttftP99Ms p99 of the same
 */
public record RunTimeline(double[] outputChunks, double[] inFlight, double[] completed, double[] ttftP50Ms, double[] ttftP99Ms) {
  private static final long SECOND = 1_000_000_000L;

  static RunTimeline of(List<BenchSample> measured) {
    List<BenchSample> ok = measured.stream().filter(BenchSample::ok).toList();
    if (ok.isEmpty()) {
      return new RunTimeline(new double[0], new double[0], new double[0], new double[0], new double[0]);
    }
    long first = ok.stream().mapToLong(BenchSample::startNanos).min().orElseThrow();
    long last = ok.stream().mapToLong(BenchSample::endNanos).max().orElseThrow();
    int n = (int) ((last - first + SECOND - 1) / SECOND) + 1;
    double[] chunks = new double[n];
    double[] inFlight = new double[n];
    double[] completed = new double[n];
    List<List<Double>> ttftByStart = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ttftByStart.add(new ArrayList<>());
    }
    for (BenchSample s : ok) {
      int startBucket = bucket(s.startNanos(), first);
      double ttft = s.record().ttftSeconds();
      if (!Double.isNaN(ttft)) {
        long t = s.startNanos() + Math.round(ttft * 1e9);
        add(chunks, bucket(t, first));
        for (long gap : s.itlGapsNanos()) {
          t += gap;
          add(chunks, bucket(t, first));
        }
        ttftByStart.get(startBucket).add(ttft * 1e3);
      }
      int endBucket = Math.min(n - 1, bucket(s.endNanos(), first));
      for (int b = startBucket; b <= endBucket; b++) {
        inFlight[b]++;
      }
      completed[endBucket]++;
    }
    double[] p50 = new double[n];
    double[] p99 = new double[n];
    for (int i = 0; i < n; i++) {
      Stats st = Stats.of(ttftByStart.get(i).stream().mapToDouble(Double::doubleValue).toArray());
      p50[i] = st.p50();
      p99[i] = st.p99();
    }
    return new RunTimeline(chunks, inFlight, completed, p50, p99);
  }

  /** The most requests in flight at once, a sweep line over their {@code [t_start, t_end)}. */
  static int maxConcurrent(List<BenchSample> samples) {
    return deepest(samples.stream().mapToLong(BenchSample::startNanos).toArray(), samples.stream().mapToLong(BenchSample::endNanos).toArray());
  }

  /** The most intervals {@code [starts[i], ends[i])} that overlap at one instant (a sweep line). */
  static int deepest(long[] starts, long[] ends) {
    long[][] events = new long[starts.length * 2][];
    for (int i = 0; i < starts.length; i++) {
      events[2 * i] = new long[] {starts[i], 1};
      events[2 * i + 1] = new long[] {ends[i], -1};
    }
    // Ends before starts at the same instant: [start, end) intervals.
    Arrays.sort(events, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    int now = 0;
    int max = 0;
    for (long[] e : events) {
      now += (int) e[1];
      max = Math.max(max, now);
    }
    return max;
  }

  /** vLLM's {@code max_output_tokens_per_s}: the busiest second's token-bearing events; 0 without completed requests. */
  public double maxOutputTokensPerSecond() {
    double max = 0;
    for (double c : outputChunks) {
      max = Math.max(max, c);
    }
    return max;
  }

  /** Seconds since the first start: 0, 1, 2, … one per bucket. */
  public double[] seconds() {
    double[] x = new double[outputChunks.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }
    return x;
  }

  private static int bucket(long nanos, long first) {
    return (int) Math.max(0, (nanos - first) / SECOND);
  }

  private static void add(double[] buckets, int b) {
    if (b < buckets.length) {
      buckets[b]++;
    }
  }
}
