package dev.tokentap.bench;

import java.util.Arrays;

/**
 * Summary statistics as numpy computes them for vLLM {@code bench serve}: mean, population standard
 * deviation ({@code np.std}, ddof 0), and percentiles by linear interpolation between closest ranks
 * ({@code np.percentile}'s default): rank {@code p/100 × (n − 1)}.
 */
public record Stats(int count, double mean, double std, double median, double p50, double p90, double p99) {
  public static final Stats EMPTY = new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

  public static Stats of(double[] values) {
    if (values.length == 0) {
      return EMPTY;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    double sum = 0;
    for (double x : v) {
      sum += x;
    }
    double mean = sum / v.length;
    double sq = 0;
    for (double x : v) {
      sq += (x - mean) * (x - mean);
    }
    double median = percentileOfSorted(v, 50);
    return new Stats(v.length, mean, Math.sqrt(sq / v.length), median, median,
        percentileOfSorted(v, 90), percentileOfSorted(v, 99));
  }

  /** {@code np.percentile(values, p)} of already sorted values. */
  public static double percentileOfSorted(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    double rank = p / 100 * (sorted.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
  }
}
