package dev.tokentap.proxy.admin;

import java.util.ArrayList;
import java.util.List;

/**
 * Where SLO attainment crosses its goal, as a function of the requests in flight: a pure function of
 * the counts, so it is tested without sockets.
 *
 * <ol>
 *   <li>The distinct in-flight counts, ascending, are grouped into bins of at least {@code
 *       minRequests} requests; a thin top bin is left out (too few to judge).
 *   <li>Attainment (met / judged) per bin is fitted non-increasing in the in-flight count by
 *       isotonic regression (pool-adjacent-violators, weighted by requests): more load never helps.
 *   <li>Each fitted value gets a standard error from its pooled block (Agresti-Coull: {@code p̃ =
 *       (met + 2) / (n + 4)}, {@code se = √(p̃(1 − p̃) / (n + 4))}), so a block of 20 requests that
 *       all passed still counts as uncertain and a block of 2,000 hardly.
 *   <li>The crossing of the fit with the goal is interpolated linearly between the last bin at or
 *       above it and the first below, at the bins' mean in-flight counts. Its standard deviation
 *       follows from the two bins' standard errors (delta method); the bounds are the crossing ± two
 *       of them.
 *   <li>The estimate is the crossing of {@code fit − se} instead: where the evidence is thin it
 *       errs low, and it is kept within the bounds.
 * </ol>
 *
 * Without a bin below the goal the knee lies beyond the traffic seen: the estimate and the lower
 * bound are the highest in-flight count of the last bin, the upper bound is unknown (NaN). Where even
 * the first bin is below the goal, all three are NaN: the knee is below the traffic seen.
 */
final class KneeFit {
  /** Requests seen at one in-flight count. */
  record Point(long inFlight, int requests, int met) {}

  /** One bin after the fit: its in-flight range, mean, requests, attainment and fitted attainment. */
  record Bin(long from, long to, double mean, int requests, int met, double fitted, double stderr) {}

  /** {@code estimate}, {@code lower}, {@code upper}: NaN where unknown. */
  record Result(double estimate, double lower, double upper, boolean kneeSeen, List<Bin> bins) {
    static final Result NONE = new Result(Double.NaN, Double.NaN, Double.NaN, false, List.of());
  }

  private KneeFit() {}

  /** {@code points}: ascending in-flight counts, each once. */
  static Result fit(List<Point> points, double goal, int minRequests) {
    List<long[]> raw = bins(points, Math.max(1, minRequests)); // from, to, requests, met, Σ inFlight·requests
    if (raw.isEmpty()) {
      return Result.NONE;
    }
    int n = raw.size();
    double[] fitted = new double[n];
    double[] stderr = new double[n];
    isotonic(raw, fitted, stderr);
    List<Bin> bins = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long[] b = raw.get(i);
      bins.add(new Bin(b[0], b[1], (double) b[4] / b[2], (int) b[2], (int) b[3], fitted[i], stderr[i]));
    }
    int j = 0;
    while (j < n && fitted[j] >= goal) {
      j++;
    }
    if (j == n) {
      double top = bins.get(n - 1).to(); // every bin passed: a lower bound only
      return new Result(top, top, Double.NaN, false, bins);
    }
    if (j == 0) {
      return new Result(Double.NaN, Double.NaN, Double.NaN, true, bins);
    }
    Bin pass = bins.get(j - 1);
    Bin fail = bins.get(j);
    double width = fail.mean() - pass.mean();
    double drop = pass.fitted() - fail.fitted();
    double x = pass.mean() + (pass.fitted() - goal) / drop * width;
    // ∂x/∂f_pass = width·(goal − f_fail)/drop², ∂x/∂f_fail = width·(f_pass − goal)/drop²
    double sd = Math.hypot(width * (goal - fail.fitted()) / (drop * drop) * pass.stderr(),
        width * (pass.fitted() - goal) / (drop * drop) * fail.stderr());
    double lower = Math.max(0, x - 2 * sd);
    double upper = x + 2 * sd;
    double cautious = crossing(bins, goal, -1);
    double estimate = Double.isNaN(cautious) ? lower : Math.max(lower, Math.min(x, cautious));
    return new Result(estimate, lower, upper, true, bins);
  }

  /** Where {@code fitted + z·stderr} falls below {@code goal}; NaN when the first bin already does or none does. */
  private static double crossing(List<Bin> bins, double goal, double z) {
    for (int j = 0; j < bins.size(); j++) {
      double gj = bins.get(j).fitted() + z * bins.get(j).stderr();
      if (gj < goal) {
        if (j == 0) {
          return Double.NaN; // below every level seen: no evidence where the knee is
        }
        Bin pass = bins.get(j - 1);
        double gi = pass.fitted() + z * pass.stderr();
        return pass.mean() + (gi - goal) / (gi - gj) * (bins.get(j).mean() - pass.mean());
      }
    }
    return Double.NaN;
  }

  private static List<long[]> bins(List<Point> points, int minRequests) {
    List<long[]> out = new ArrayList<>();
    long[] open = null;
    for (Point p : points) {
      if (p.requests() == 0) {
        continue;
      }
      if (open == null) {
        open = new long[] {p.inFlight(), p.inFlight(), 0, 0, 0};
      }
      open[1] = p.inFlight();
      open[2] += p.requests();
      open[3] += p.met();
      open[4] += p.inFlight() * p.requests();
      if (open[2] >= minRequests) {
        out.add(open);
        open = null;
      }
    }
    return out;
  }

  /** Pool-adjacent-violators for a non-increasing fit of met/requests, weighted by requests. */
  private static void isotonic(List<long[]> bins, double[] fitted, double[] stderr) {
    int n = bins.size();
    long[] blockRequests = new long[n];
    long[] blockMet = new long[n];
    int[] blockEnd = new int[n]; // exclusive end index of each block on the stack
    int top = -1;
    for (int i = 0; i < n; i++) {
      top++;
      blockRequests[top] = bins.get(i)[2];
      blockMet[top] = bins.get(i)[3];
      blockEnd[top] = i + 1;
      // a block whose attainment is above the one before it breaks "non-increasing": pool them
      while (top > 0 && blockMet[top] * blockRequests[top - 1] > blockMet[top - 1] * blockRequests[top]) {
        blockRequests[top - 1] += blockRequests[top];
        blockMet[top - 1] += blockMet[top];
        blockEnd[top - 1] = blockEnd[top];
        top--;
      }
    }
    int start = 0;
    for (int b = 0; b <= top; b++) {
      double p = (double) blockMet[b] / blockRequests[b];
      double adjusted = (blockMet[b] + 2.0) / (blockRequests[b] + 4.0);
      double se = Math.sqrt(adjusted * (1 - adjusted) / (blockRequests[b] + 4.0));
      for (int i = start; i < blockEnd[b]; i++) {
        fitted[i] = p;
        stderr[i] = se;
      }
      start = blockEnd[b];
    }
  }
}
