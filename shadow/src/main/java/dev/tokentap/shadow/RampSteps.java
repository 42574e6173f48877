package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step-and-judge loop of a shadow ramp, wherever the factor lives: a {@link Stage} is stepped
 * through the plan's factors, each step warmed up, then held and measured, until a step's SLO
 * attainment falls below the goal ({@link Plan#judge}). It then stops by itself and the stage is
 * restored: the highest passing step is the knee. One sidecar's ramp ({@link ShadowRamp}) steps a
 * target's factor and measures its own copies; a fleet's (tokentap fleet ramp) steps fleet-relative
 * factors and measures staging's results over the fleet. All timing runs on one scheduler thread.
 *
 * <pre>
 *   factor(f₁) ─warm-up─▶ holdStarted() ─hold─▶ measure() ─passed─▶ factor(f₂) ...
 *                                                          └failed─▶ restore(): KNEE_FOUND
 * </pre>
 */
public final class RampSteps {
  private static final Logger LOG = LoggerFactory.getLogger(RampSteps.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What to run. */
  public record Plan(String target, List<Double> factors, Duration warmup, Duration hold, double attainmentGoal, int minRequests) {
    public Plan {
      factors = List.copyOf(factors);
    }

    /** A step passes when at least {@code minRequests} finished in its hold and at least the goal's share of them met every SLO. */
    public Step judge(double factor, int requests, double rate, double inFlight, double attainment, double errorRate,
        double ttftP50, double ttftP99, double tpotP50, double tpotP99) {
      return new Step(factor, requests, rate, inFlight, attainment, errorRate, ttftP50, ttftP99, tpotP50, tpotP99,
          requests >= minRequests && attainment >= attainmentGoal);
    }
  }

  /** One finished step; latencies in milliseconds, NaN where not measured. */
  public record Step(double factor, int requests, double rate, double inFlight, double attainment, double errorRate,
      double ttftP50, double ttftP99, double tpotP50, double tpotP99, boolean passed) {}

  public enum State { RUNNING, KNEE_FOUND, NO_KNEE, CANCELLED }

  /** What a ramp steps and measures. Called on the scheduler's thread, one call at a time. */
  public interface Stage {
    /** Puts the load at {@code factor}. */
    void factor(double factor);

    /** The step's warm-up is over: what {@link #measure} judges starts now. */
    void holdStarted();

    /** The hold of {@code seconds} is over: its figures, judged with {@link Plan#judge}. */
    Step measure(double factor, double seconds);

    /** The ramp ended (knee, no knee, cancelled): the load goes back to where it was. */
    void restore();
  }

  private final Plan plan;
  private final Stage stage;
  private final ScheduledExecutorService scheduler;
  private final List<Step> steps = new ArrayList<>();
  private volatile State state = State.RUNNING;
  private int index;
  private long holdStartNanos;
  private ScheduledFuture<?> next;

  public RampSteps(Plan plan, Stage stage, ScheduledExecutorService scheduler) {
    this.plan = plan;
    this.stage = stage;
    this.scheduler = scheduler;
  }

  public Plan plan() {
    return plan;
  }

  public synchronized void start() {
    LOG.info("shadow ramp of {}: factors {}, warm-up {}, hold {}, goal {}% of requests within SLO", plan.target(), plan.factors(),
        plan.warmup(), plan.hold(), plan.attainmentGoal() * 100);
    beginStep();
  }

  private synchronized void beginStep() {
    if (state != State.RUNNING) {
      return;
    }
    double factor = plan.factors().get(index);
    stage.factor(factor);
    LOG.info("shadow ramp of {}: step {} of {}, factor {}", plan.target(), index + 1, plan.factors().size(), factor);
    next = scheduler.schedule(this::beginHold, plan.warmup().toNanos(), TimeUnit.NANOSECONDS);
  }

  private synchronized void beginHold() {
    if (state != State.RUNNING) {
      return;
    }
    holdStartNanos = System.nanoTime();
    stage.holdStarted();
    next = scheduler.schedule(this::endStep, plan.hold().toNanos(), TimeUnit.NANOSECONDS);
  }

  private synchronized void endStep() {
    if (state != State.RUNNING) {
      return;
    }
    Step step = stage.measure(plan.factors().get(index), (System.nanoTime() - holdStartNanos) / 1e9);
    steps.add(step);
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

  /** Stops at once and restores the stage. */
  public synchronized void cancel() {
    if (state == State.RUNNING) {
      if (next != null) {
        next.cancel(false);
      }
      finish(State.CANCELLED);
    }
  }

  private void finish(State end) {
    state = end;
    stage.restore();
    LOG.info("shadow ramp of {}: {}", plan.target(), end.name().toLowerCase(Locale.ROOT));
  }

  public State state() {
    return state;
  }

  /** The steps so far. */
  public synchronized List<Step> steps() {
    return List.copyOf(steps);
  }

  /** The highest passing step once the ramp ended with a knee or without one; null before, or when none passed. */
  public synchronized Step knee() {
    if (state != State.KNEE_FOUND && state != State.NO_KNEE) {
      return null;
    }
    return steps.stream().filter(Step::passed).reduce((a, b) -> b).orElse(null);
  }

  /** The plan, the steps ({@code stepExtras} adds to the i-th step's object) and, once it ended, the knee. */
  public synchronized ObjectNode json(BiConsumer<Integer, ObjectNode> stepExtras) {
    ObjectNode root = JSON.createObjectNode();
    root.put("target", plan.target());
    root.put("state", state.name().toLowerCase(Locale.ROOT));
    ArrayNode factors = root.putArray("factors");
    plan.factors().forEach(factors::add);
    root.put("warmup_seconds", plan.warmup().toMillis() / 1000.0);
    root.put("hold_seconds", plan.hold().toMillis() / 1000.0);
    root.put("slo_attainment_goal", plan.attainmentGoal());
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
      stepExtras.accept(i, n);
    }
    if (state == State.KNEE_FOUND || state == State.NO_KNEE) {
      ObjectNode knee = root.putObject("knee");
      Step lastPassing = knee();
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
  public static List<Double> parseFactors(String text) {
    List<Double> out = new ArrayList<>();
    for (String part : text.split(",")) {
      double f;
      try {
        f = Double.parseDouble(part.trim());
      } catch (NumberFormatException e) {
        f = Double.NaN;
      }
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
