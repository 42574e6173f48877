package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A load test of a staging target driven by production's own traffic, on one sidecar: the target's
 * factor steps through a list (e.g. 1, 1.5, 2, 3, 4) by {@link RampSteps}, each step held after a
 * warm-up, until a step's SLO attainment over its hold falls below the goal (default 90% of requests
 * meeting every SLO, DistServe's definition, as {@code tokentap bench --sweep}). The ramp then stops
 * by itself and puts the factor back where it was: the highest passing step is the knee, and the
 * mean number of copies in flight during it (Little's law: Σ E2E / hold) is the target's capacity in
 * requests.
 *
 * <p>Steps are judged from the same finished-request records as the metrics: the shadow copies of
 * the target that finished inside the step's hold. Nothing touches the relay.
 */
final class ShadowRamp implements RampSteps.Stage {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowRamp.class);

  private final RampSteps steps;
  private final StagingTarget target;
  private final ShadowComparison comparison;
  private final double originalFactor;
  private final List<ObjectNode> stepComparisons = new ArrayList<>(); // per step; null without output comparison
  private long holdStartNanos;

  ShadowRamp(RampSteps.Plan plan, StagingTarget target, ShadowComparison comparison, ScheduledExecutorService scheduler) {
    this.steps = new RampSteps(plan, this, scheduler);
    this.target = target;
    this.comparison = comparison;
    this.originalFactor = target.factor();
  }

  void start() {
    steps.start();
  }

  void cancel() {
    steps.cancel();
  }

  RampSteps.State state() {
    return steps.state();
  }

  String targetName() {
    return steps.plan().target();
  }

  @Override
  public void factor(double factor) {
    target.factor(factor);
  }

  @Override
  public void holdStarted() {
    holdStartNanos = System.nanoTime();
  }

  @Override
  public RampSteps.Step measure(double factor, double seconds) {
    stepComparisons.add(comparison.outputsSince(targetName(), holdStartNanos));
    return judge(factor, comparison.shadowSince(targetName(), holdStartNanos).entries(), seconds);
  }

  @Override
  public void restore() {
    target.factor(originalFactor);
    LOG.info("shadow ramp of {}: factor back to {}", targetName(), originalFactor);
  }

  /** The step's figures from the copies that finished in its hold. */
  RampSteps.Step judge(double factor, List<RecentRequests.Entry> entries, double seconds) {
    long met = entries.stream().filter(e -> "met".equals(e.slo())).count();
    long missed = entries.stream().filter(e -> "missed".equals(e.slo())).count();
    long errors = entries.stream().filter(e -> e.outcome() != dev.tokentap.meter.Outcome.OK && e.outcome() != dev.tokentap.meter.Outcome.CLIENT_ABORT).count();
    double attainment = met + missed == 0 ? Double.NaN : (double) met / (met + missed);
    double inFlight = entries.stream().mapToDouble(RecentRequests.Entry::e2eSeconds).filter(Double::isFinite).sum() / seconds;
    double[] ttft = sorted(entries, RecentRequests.Entry::ttftSeconds);
    double[] tpot = sorted(entries, RecentRequests.Entry::tpotSeconds);
    return steps.plan().judge(factor, entries.size(), entries.size() / seconds, inFlight, attainment,
        entries.isEmpty() ? Double.NaN : (double) errors / entries.size(),
        ms(ttft, 0.5), ms(ttft, 0.99), ms(tpot, 0.5), ms(tpot, 0.99));
  }

  private static double[] sorted(List<RecentRequests.Entry> entries, java.util.function.ToDoubleFunction<RecentRequests.Entry> f) {
    return entries.stream().mapToDouble(f).filter(Double::isFinite).sorted().toArray();
  }

  private static double ms(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)] * 1000;
  }

  ObjectNode json() {
    ObjectNode root = steps.json((i, step) -> {
      ObjectNode compared = i < stepComparisons.size() ? stepComparisons.get(i) : null;
      if (compared != null) {
        step.set("compare", compared); // the answers compared during the hold
      }
    });
    root.put("original_factor", originalFactor);
    return root;
  }
}
