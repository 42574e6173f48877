package dev.tokentap.proxy.metrics;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.config.SloRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides the {@code slo} label of a finished request (DESIGN §3 "good"): {@code met} when its outcome
 * is ok and every threshold of the first matching rule holds, {@code missed} otherwise (errors,
 * aborts and timeouts stay in the denominator), {@code none} when no rule matches. A threshold whose
 * quantity the request lacks (TPOT with fewer than two tokens, TTFT of a non-streaming response) is
 * not held against it.
 */
public final class SloPolicy {
  public static final String MET = "met";
  public static final String MISSED = "missed";
  public static final String NONE = "none";

  private final List<SloRule> rules;

  public SloPolicy(List<SloRule> rules) {
    this.rules = List.copyOf(rules);
  }

  public String judge(String model, String route, Outcome outcome, double ttftSeconds, double tpotSeconds, double e2eSeconds) {
    if ("other".equals(route)) {
      return NONE; // not an inference request: no verdict, so it can never inflate goodput
    }
    for (SloRule rule : rules) {
      if (rule.matches(model, route)) {
        boolean good =
            outcome == Outcome.OK
                && within(ttftSeconds, rule.ttft())
                && within(tpotSeconds, rule.tpot())
                && within(e2eSeconds, rule.e2e());
        return good ? MET : MISSED;
      }
    }
    return NONE;
  }

  private static boolean within(double seconds, Duration threshold) {
    // Compared in nanoseconds, like the histogram bucket {le=threshold} the ratio is computed from.
    return threshold == null || Double.isNaN(seconds) || Math.round(seconds * 1e9) <= threshold.toNanos();
  }

  /** Every threshold of one quantity, to be added to that histogram's buckets. */
  public List<Duration> thresholds(java.util.function.Function<SloRule, Duration> quantity) {
    List<Duration> out = new ArrayList<>();
    for (SloRule r : rules) {
      Duration d = quantity.apply(r);
      if (d != null) {
        out.add(d);
      }
    }
    return out;
  }
}
