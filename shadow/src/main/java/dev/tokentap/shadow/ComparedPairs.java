package dev.tokentap.shadow;

import dev.tokentap.proxy.metrics.TokentapMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One target's scored pairs: each goes to its meters at once (tokentap_shadow_pairs_total,
 * _similarity_percent, _output_ratio_percent, _agreement_total, _outputs_total) and to a ring of the last {@code
 * capacity} for the summary's window. Scores carry no text, so nothing here can leak an answer.
 * Called from any event loop; the ring is guarded by this object's lock.
 */
final class ComparedPairs {
  private final Map<String, Counter> results = new HashMap<>();
  private final Map<String, Counter> checks = new HashMap<>();
  private final Map<String, Counter> outputs = new HashMap<>();
  private final DistributionSummary similarity;
  private final DistributionSummary outputRatio;
  private final ArrayDeque<Entry> recent = new ArrayDeque<>();
  private final int capacity;

  private record Entry(long nanos, PairScores scores) {}

  ComparedPairs(String target, TokentapMetrics metrics, int capacity) {
    this.capacity = capacity;
    for (String result : PairScores.RESULTS) {
      results.put(result, metrics.shadowPairs(target, result));
    }
    for (String check : List.of("exact_match", "finish_reason", "tool_calls", "json")) {
      for (boolean agreed : new boolean[] {true, false}) {
        checks.put(check + agreed, metrics.shadowAgreement(target, check, agreed));
      }
    }
    for (String side : List.of("production", "shadow")) {
      for (String kind : List.of("refusal", "empty", "json_invalid", "tool_call")) {
        outputs.put(side + kind, metrics.shadowOutputs(target, side, kind));
      }
    }
    this.similarity = metrics.shadowSimilarity(target);
    this.outputRatio = metrics.shadowOutputRatio(target);
  }

  void add(PairScores scores, long nowNanos) {
    results.get(scores.result()).increment();
    if (scores.result().equals(PairScores.COMPARED)) {
      similarity.record(100 * scores.similarity());
      if (Double.isFinite(scores.outputRatio())) {
        outputRatio.record(100 * scores.outputRatio());
      }
      for (PairScores.Check check : scores.checks()) {
        checks.get(check.name() + check.agreed()).increment();
      }
      count("production", scores.production(), scores.jsonAsked());
      count("shadow", scores.shadow(), scores.jsonAsked());
    }
    synchronized (this) {
      if (recent.size() == capacity) {
        recent.removeFirst();
      }
      recent.addLast(new Entry(nowNanos, scores));
    }
  }

  private void count(String side, PairScores.Side s, boolean jsonAsked) {
    if (s.refusal()) {
      outputs.get(side + "refusal").increment();
    }
    if (s.empty()) {
      outputs.get(side + "empty").increment();
    }
    if (jsonAsked && !s.jsonValid()) {
      outputs.get(side + "json_invalid").increment();
    }
    if (s.toolCall()) {
      outputs.get(side + "tool_call").increment();
    }
  }

  /** A sampled request not compared because max-pending pairs were waiting. */
  void dropped(long nowNanos) {
    add(PairScores.notCompared("dropped"), nowNanos);
  }

  /** The pairs scored at or after {@code sinceNanos}. */
  synchronized PairStats since(long sinceNanos) {
    List<PairScores> list = new ArrayList<>();
    for (Entry e : recent) {
      if (e.nanos() - sinceNanos >= 0) {
        list.add(e.scores());
      }
    }
    return new PairStats(list);
  }
}
