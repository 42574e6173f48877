package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of a target's pairs over a window, for {@code /admin/shadow/summary}: counts by
 * result, then over the compared pairs the rates of each check, the mean similarity, the geometric
 * mean output ratio, and each side's refusal, empty and invalid-JSON rates.
 *
 * <p><b>Against the baseline.</b> A rate of a candidate is judged against the baseline's with a
 * two-proportion z-test, {@code z = (p1 − p2) / sqrt(p(1 − p)(1/n1 + 1/n2))} with the pooled share
 * p; a mean (similarity, log output ratio) with Welch's {@code z = (m1 − m2) / sqrt(s1²/n1 +
 * s2²/n2)}. The difference exceeds the baseline's noise when |z| &gt; {@value #Z_LIMIT} (three
 * standard errors: about one false alarm in 370 per figure when the models answer alike), and
 * neither is judged below {@value #MIN_PAIRS} pairs a side.
 */
final class PairStats {
  static final double Z_LIMIT = 3;
  static final int MIN_PAIRS = 10;

  private final Map<String, Long> results = new TreeMap<>();
  private final Rate exactMatch = new Rate();
  private final Rate finishReason = new Rate();
  private final Rate toolCalls = new Rate();
  private final Rate json = new Rate();
  private final Rate productionRefusal = new Rate();
  private final Rate shadowRefusal = new Rate();
  private final Rate productionEmpty = new Rate();
  private final Rate shadowEmpty = new Rate();
  private final Rate productionJsonValid = new Rate();
  private final Rate shadowJsonValid = new Rate();
  private final Mean similarity = new Mean();
  private final Mean logOutputRatio = new Mean();

  PairStats(List<PairScores> pairs) {
    for (PairScores p : pairs) {
      results.merge(p.result(), 1L, Long::sum);
      if (!p.result().equals(PairScores.COMPARED)) {
        continue;
      }
      if (p.deterministic()) {
        exactMatch.add(p.exactMatch());
      }
      finishReason.add(p.finishReasonAgrees());
      if (p.toolCallsAgree() != null) {
        toolCalls.add(p.toolCallsAgree());
      }
      if (p.jsonAsked()) {
        json.add(p.production().jsonValid() == p.shadow().jsonValid());
        productionJsonValid.add(p.production().jsonValid());
        shadowJsonValid.add(p.shadow().jsonValid());
      }
      productionRefusal.add(p.production().refusal());
      shadowRefusal.add(p.shadow().refusal());
      productionEmpty.add(p.production().empty());
      shadowEmpty.add(p.shadow().empty());
      similarity.add(p.similarity());
      if (p.outputRatio() > 0) {
        logOutputRatio.add(Math.log(p.outputRatio()));
      }
    }
  }

  ObjectNode json() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    ObjectNode counts = n.putObject("pairs");
    results.forEach(counts::put);
    number(n, "exact_match_rate", exactMatch.value());
    number(n, "similarity_mean", similarity.value());
    number(n, "output_ratio_geomean", Math.exp(logOutputRatio.value()));
    number(n, "finish_reason_agreement", finishReason.value());
    number(n, "tool_call_agreement", toolCalls.value());
    number(n, "json_agreement", json.value());
    ObjectNode sides = n.putObject("production");
    number(sides, "refusal_rate", productionRefusal.value());
    number(sides, "empty_rate", productionEmpty.value());
    number(sides, "json_valid_rate", productionJsonValid.value());
    sides = n.putObject("shadow");
    number(sides, "refusal_rate", shadowRefusal.value());
    number(sides, "empty_rate", shadowEmpty.value());
    number(sides, "json_valid_rate", shadowJsonValid.value());
    return n;
  }

  /** Each figure of {@code candidate} beside {@code baseline}'s: the difference and whether it exceeds the noise. */
  static ObjectNode versus(PairStats candidate, PairStats baseline) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    rate(n, "exact_match_rate", candidate.exactMatch, baseline.exactMatch);
    mean(n, "similarity_mean", candidate.similarity, baseline.similarity);
    mean(n, "log_output_ratio_mean", candidate.logOutputRatio, baseline.logOutputRatio);
    rate(n, "finish_reason_agreement", candidate.finishReason, baseline.finishReason);
    rate(n, "tool_call_agreement", candidate.toolCalls, baseline.toolCalls);
    rate(n, "json_agreement", candidate.json, baseline.json);
    rate(n, "shadow_refusal_rate", candidate.shadowRefusal, baseline.shadowRefusal);
    rate(n, "shadow_empty_rate", candidate.shadowEmpty, baseline.shadowEmpty);
    return n;
  }

  private static void rate(ObjectNode parent, String name, Rate c, Rate b) {
    double pooled = (double) (c.hits + b.hits) / Math.max(1, c.n + b.n);
    double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / Math.max(1, c.n) + 1.0 / Math.max(1, b.n)));
    judge(parent.putObject(name), c.value(), b.value(), se, c.n, b.n);
  }

  private static void mean(ObjectNode parent, String name, Mean c, Mean b) {
    double se = Math.sqrt(c.variance() / Math.max(1, c.n) + b.variance() / Math.max(1, b.n));
    judge(parent.putObject(name), c.value(), b.value(), se, c.n, b.n);
  }

  /** Candidate, baseline, difference, z and the verdict; a difference with no spread at all is judged by itself. */
  static void judge(ObjectNode n, double candidate, double baseline, double standardError, long nCandidate, long nBaseline) {
    number(n, "candidate", candidate);
    number(n, "baseline", baseline);
    double difference = candidate - baseline;
    number(n, "difference", difference);
    if (nCandidate < MIN_PAIRS || nBaseline < MIN_PAIRS || !Double.isFinite(difference)) {
      n.putNull("z");
      n.putNull("exceeds_noise");
      return;
    }
    double z = standardError > 0 ? difference / standardError : difference == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, difference);
    number(n, "z", z);
    n.put("exceeds_noise", Math.abs(z) > Z_LIMIT);
  }

  static void number(ObjectNode node, String name, double value) {
    if (Double.isFinite(value)) {
      node.put(name, Math.round(value * 1e4) / 1e4);
    } else {
      node.putNull(name);
    }
  }

  /** A share of yes among n. */
  private static final class Rate {
    long n;
    long hits;

    void add(boolean yes) {
      n++;
      hits += yes ? 1 : 0;
    }

    double value() {
      return n == 0 ? Double.NaN : (double) hits / n;
    }
  }

  /** A running mean and variance (Welford). */
  private static final class Mean {
    long n;
    double mean;
    double m2;

    void add(double x) {
      if (!Double.isFinite(x)) {
        return;
      }
      n++;
      double d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
    }

    double value() {
      return n == 0 ? Double.NaN : mean;
    }

    double variance() {
      return n < 2 ? 0 : m2 / (n - 1);
    }
  }
}
