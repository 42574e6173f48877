package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A load test of a staging target driven by production's own traffic: the target's factor steps
 * through a list (e.g. 1, 1.5, 2, 3, 4), each step held after a warm-up, until a step's SLO
 * attainment over its hold falls below the goal (default 90% of requests meeting every SLO,
 * DistServe's definition, as {@code tokentap bench --sweep}). The ramp then stops by itself and
 * puts the factor back where it was: the highest passing step is the knee, and the mean number of
 * copies in flight during it (Little's law: Σ E2E / hold) is the target's capacity in requests.
 *
 * <p>Steps are judged from the same finished-request records as the metrics: the shadow copies of
 * the target that finished inside the step's hold. All timing runs on one scheduler thread; nothing
 * touches the relay.
 */
final class ShadowRamp {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowRamp.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What to run. */
  record Plan(String target, List<Double> factors, Duration warmup, Duration hold, double attainmentGoal, int minRequests) {
    Plan {
      factors = List.copyOf(factors);
    }
  }

  /** One finished step. */
  record Step(double factor, int requests, double rate, double inFlight, double attainment, double errorRate,
      double ttftP50, double ttftP99, double tpotP50, double tpotP99, boolean passed) {}

  enum State { RUNNING, KNEE_FOUND, NO_KNEE, CANCELLED }

  private final Plan plan;
  private final StagingTarget target;
  private final ShadowComparison comparison;
  private final ScheduledExecutorService scheduler;
  private final double originalFactor;
  private final List<Step> steps = new ArrayList<>();
  private final List<ObjectNode> stepComparisons = new ArrayList<>(); // per step; null without output comparison
  private volatile State state = State.RUNNING;
  private int index;
  private long holdStartNanos;
  private ScheduledFuture<?> next;

  ShadowRamp(Plan plan, StagingTarget target, ShadowComparison comparison, ScheduledExecutorService scheduler) {
    this.plan = plan;
    this.target = target;
    this.comparison = comparison;
    this.scheduler = scheduler;
    this.originalFactor = target.factor();
  }

  synchronized void start() {
    LOG.info("shadow ramp of {}: factors {}, warm-up {}, hold {}, goal {}% of requests within SLO", plan.target(), plan.factors(),
        plan.warmup(), plan.hold(), plan.attainmentGoal() * 100);
    beginStep();
  }

  private synchronized void beginStep() {
    if (state != State.RUNNING) {
      return;
    }
    double factor = plan.factors().get(index);
    target.factor(factor);
    LOG.info("shadow ramp of {}: step {} of {}, factor {}", plan.target(), index + 1, plan.factors().size(), factor);
    next = scheduler.schedule(this::beginHold, plan.warmup().toNanos(), TimeUnit.NANOSECONDS);
  }

  private synchronized void beginHold() {
    if (state != State.RUNNING) {
      return;
    }
    holdStartNanos = System.nanoTime();
    next = scheduler.schedule(this::endStep, plan.hold().toNanos(), TimeUnit.NANOSECONDS);
  }

  private synchronized void endStep() {
    if (state != State.RUNNING) {
      return;
    }
    long now = System.nanoTime();
    Step step = judge(plan.factors().get(index), comparison.shadowSince(plan.target(), holdStartNanos).entries(), (now - holdStartNanos) / 1e9);
    steps.add(step);
    stepComparisons.add(comparison.outputsSince(plan.target(), holdStartNanos));
    LOG.info("shadow ramp of {}: factor {} {}: {} requests, {}% within SLO, {} in flight", plan.target(), step.factor(),
        step.passed() ? "passed" : "failed", step.requests(), Math.round(step.attainment() * 1000) / 10.0, Math.round(step.inFlight() * 10) / 10.0);
    if (!step.passed()) {
      finish(State.KNEE_FOUND);
    } else if (++index == plan.factors().size()) {
      finish(State.NO_KNEE);
    } else {
      beginStep();
    }
  }

  /** Stops at once and puts the factor back. */
  synchronized void cancel() {
    if (state == State.RUNNING) {
      if (next != null) {
        next.cancel(false);
      }
      finish(State.CANCELLED);
    }
  }

  private void finish(State end) {
    state = end;
    target.factor(originalFactor);
    LOG.info("shadow ramp of {}: {}; factor back to {}", plan.target(), end.name().toLowerCase(java.util.Locale.ROOT), originalFactor);
  }

  State state() {
    return state;
  }

  String targetName() {
    return plan.target();
  }

  /** A step passes when enough copies finished in its hold and enough of them met every SLO. */
  Step judge(double factor, List<RecentRequests.Entry> entries, double seconds) {
    long met = entries.stream().filter(e -> "met".equals(e.slo())).count();
    long missed = entries.stream().filter(e -> "missed".equals(e.slo())).count();
    long errors = entries.stream().filter(e -> e.outcome() != dev.tokentap.meter.Outcome.OK && e.outcome() != dev.tokentap.meter.Outcome.CLIENT_ABORT).count();
    double attainment = met + missed == 0 ? Double.NaN : (double) met / (met + missed);
    double inFlight = entries.stream().mapToDouble(RecentRequests.Entry::e2eSeconds).filter(Double::isFinite).sum() / seconds;
    double[] ttft = sorted(entries, RecentRequests.Entry::ttftSeconds);
    double[] tpot = sorted(entries, RecentRequests.Entry::tpotSeconds);
    boolean passed = entries.size() >= plan.minRequests() && attainment >= plan.attainmentGoal();
    return new Step(factor, entries.size(), entries.size() / seconds, inFlight, attainment,
        entries.isEmpty() ? Double.NaN : (double) errors / entries.size(),
        ms(ttft, 0.5), ms(ttft, 0.99), ms(tpot, 0.5), ms(tpot, 0.99), passed);
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

  synchronized ObjectNode json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("target", plan.target());
    root.put("state", state.name().toLowerCase(java.util.Locale.ROOT));
    ArrayNode factors = root.putArray("factors");
    plan.factors().forEach(factors::add);
    root.put("warmup_seconds", plan.warmup().toMillis() / 1000.0);
    root.put("hold_seconds", plan.hold().toMillis() / 1000.0);
    root.put("slo_attainment_goal", plan.attainmentGoal());
    root.put("original_factor", originalFactor);
    if (state == State.RUNNING && index < plan.factors().size()) {
      root.put("current_factor", plan.factors().get(index));
    }
    ArrayNode list = root.putArray("steps");
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      ObjectNode n = list.addObject();
      n.put("factor", s.factor());
      n.put("requests", s.requests());
      number(n, "request_rate", s.rate());
      number(n, "in_flight", s.inFlight());
      number(n, "slo_attainment", s.attainment());
      number(n, "error_rate", s.errorRate());
      number(n, "ttft_p50_ms", s.ttftP50());
      number(n, "ttft_p99_ms", s.ttftP99());
      number(n, "tpot_p50_ms", s.tpotP50());
      number(n, "tpot_p99_ms", s.tpotP99());
      n.put("passed", s.passed());
      if (stepComparisons.get(i) != null) {
        n.set("compare", stepComparisons.get(i)); // the answers compared during the hold
      }
    }
    if (state == State.KNEE_FOUND || state == State.NO_KNEE) {
      ObjectNode knee = root.putObject("knee");
      Step lastPassing = steps.stream().filter(Step::passed).reduce((a, b) -> b).orElse(null);
      if (lastPassing == null) {
        knee.putNull("highest_passing_factor");
        knee.putNull("in_flight");
      } else {
        knee.put("highest_passing_factor", lastPassing.factor());
        number(knee, "in_flight", lastPassing.inFlight());
        number(knee, "request_rate", lastPassing.rate());
      }
      if (state == State.KNEE_FOUND) {
        knee.put("first_failing_factor", steps.get(steps.size() - 1).factor());
      } else {
        knee.putNull("first_failing_factor"); // every step passed: the knee is beyond the last
      }
    }
    return root;
  }

  private static void number(ObjectNode n, String name, double v) {
    if (Double.isFinite(v)) {
      n.put(name, Math.round(v * 1e3) / 1e3);
    } else {
      n.putNull(name);
    }
  }

  /** {@code 1,1.5,2,3,4}: ascending factors >= 0. */
  static List<Double> parseFactors(String text) {
    List<Double> out = new ArrayList<>();
    for (String part : text.split(",")) {
      double f = Double.parseDouble(part.trim());
      if (!(f >= 0) || Double.isInfinite(f) || (!out.isEmpty() && f <= out.get(out.size() - 1))) {
        throw new IllegalArgumentException("factors: " + text + " (expected: ascending numbers >= 0, such as 1,1.5,2,3,4)");
      }
      out.add(f);
    }
    if (out.isEmpty() || out.size() > 64) {
      throw new IllegalArgumentException("factors: " + text + " (expected: 1 to 64 of them)");
    }
    return out;
  }
}
