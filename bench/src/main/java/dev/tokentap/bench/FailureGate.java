package dev.tokentap.bench;

import java.util.Map;
import java.util.TreeMap;

/**
 * Whether a bench run as a whole failed, so that a CI job running {@code tokentap bench} fails with
 * it: a run (every step of a sweep or stage list together) with no completed request, or with more
 * failed requests than {@code --max-failure-ratio} allows. docs/bench.md, "Exit status".
 */
public final class FailureGate {
  /** The default {@code --max-failure-ratio}: strict, since a healthy server fails no request. */
  public static final double DEFAULT_MAX_FAILURE_RATIO = 0.01;

  private FailureGate() {}

  /** Null when the run passes; otherwise the reason, one line, naming the counts and the failures' kinds. */
  public static String verdict(StepResults results, double maxFailureRatio) {
    long requests = 0;
    long completed = 0;
    long failed = 0;
    Map<String, Integer> errors = new TreeMap<>();
    for (LoadStep step : results.steps()) {
      requests += step.report().requests;
      completed += step.report().completed;
      failed += step.report().failed;
      step.report().errors.forEach((k, v) -> errors.merge(k, v, Integer::sum));
    }
    if (requests == 0) {
      return "no request was measured";
    }
    if (completed == 0) {
      return "no request completed: all " + requests + " failed " + errors;
    }
    double ratio = (double) failed / requests;
    if (ratio > maxFailureRatio) {
      return String.format(java.util.Locale.ROOT, "%d of %d requests failed (%.2f%%, more than --max-failure-ratio %s) %s",
          failed, requests, ratio * 100, maxFailureRatio, errors);
    }
    return null;
  }
}
