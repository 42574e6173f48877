package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --sweep}: the highest load (rate or concurrency) whose SLO attainment stays at or above a
 * target (DistServe's goodput as a capacity: 90% of requests meeting every SLO by default).
 *
 * <ol>
 *   <li>Bracket: from the starting load, double while the load passes (or halve while it fails)
 *       until one passing and one failing load are known.
 *   <li>Bisect between them until they are within 10% (rate) or adjacent (concurrency), or the
 *       step budget is spent.
 * </ol>
 *
 * Assumes attainment falls as load grows (true of a server past its knee); each step is an
 * independent run with its own warm-up. The binding constraint is the SLO with the lowest
 * attainment at the first failing load.
 */
public final class KneeSearch {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final double RATE_RESOLUTION = 0.10;
  private static final int MAX_HALVINGS = 10;

  private final Bench bench;
  private final double target;
  private final int maxSteps;
  private final PrintWriter progress;

  public KneeSearch(Bench bench, double target, int maxSteps, PrintWriter progress) {
    this.bench = requireNonNull(bench, "bench");
    if (!(target > 0 && target <= 1)) {
      throw new IllegalArgumentException("target: " + target + " (expected: 0 < x <= 1)");
    }
    if (maxSteps < 2) {
      throw new IllegalArgumentException("maxSteps: " + maxSteps + " (expected: >= 2)");
    }
    this.target = target;
    this.maxSteps = maxSteps;
    this.progress = progress;
  }

  /** One run of the search. */
  public record Step(double level, boolean passed, BenchReport report) {}

  /**
   * @param highestPassing null when even the lowest load tried failed
   * @param firstFailing null when no load tried failed
   */
  public record Result(String kind, double target, Step highestPassing, Step firstFailing, List<Step> steps) {
    public String bindingConstraint() {
      return firstFailing == null ? "" : firstFailing.report().bindingConstraint();
    }

    public void print(PrintWriter out) {
      out.printf("============ knee (%s, attainment >= %.0f%%) ============%n", kind, target * 100);
      for (Step s : steps) {
        out.printf("%-10s %10.2f  attainment %5.1f%%  goodput %8.2f req/s  p99 TTFT %8.1f ms  p99 TPOT %7.2f ms  %s%n",
            kind, s.level(), s.report().sloAttainment * 100, s.report().requestGoodput,
            s.report().ttftMs.p99(), s.report().tpotMs.p99(), s.passed() ? "pass" : "FAIL");
      }
      out.printf("highest passing %s: %s%n", kind, highestPassing == null ? "none" : fmt(highestPassing.level()));
      out.printf("first failing %s:   %s%n", kind, firstFailing == null ? "none found" : fmt(firstFailing.level()));
      out.printf("binding constraint:   %s%n", firstFailing == null ? "-" : bindingConstraint());
      out.flush();
    }

    public ObjectNode toJson() {
      ObjectNode o = JSON.createObjectNode();
      o.put("kind", kind);
      o.put("slo_attainment_target", target);
      if (highestPassing != null) {
        o.put("max_passing_" + kind, highestPassing.level());
      }
      if (firstFailing != null) {
        o.put("first_failing_" + kind, firstFailing.level());
        o.put("binding_constraint", bindingConstraint());
      }
      ArrayNode arr = o.putArray("steps");
      for (Step s : steps) {
        ObjectNode n = s.report().toJson();
        n.put("level", s.level());
        n.put("passed", s.passed());
        arr.add(n);
      }
      return o;
    }

    public void write(Path dir) throws IOException {
      Files.createDirectories(dir);
      JSON.writeValue(dir.resolve("sweep.json").toFile(), toJson());
    }

    private static String fmt(double v) {
      return v == Math.rint(v) ? Long.toString((long) v) : String.format("%.3f", v);
    }
  }

  public Result search(BenchRunner.Options base) throws InterruptedException {
    LoadPlan plan = base.load();
    boolean closed = plan.closedLoop();
    String kind = closed ? "concurrency" : "rate";
    List<Step> steps = new ArrayList<>();
    Step pass = null;
    Step fail = null;
    Step first = step(base, plan.level(), steps);
    if (first.passed()) {
      pass = first;
      while (fail == null && steps.size() < maxSteps) {
        Step s = step(base, pass.level() * 2, steps);
        if (s.passed()) {
          pass = s;
        } else {
          fail = s;
        }
      }
    } else {
      fail = first;
      int halvings = 0;
      while (pass == null && steps.size() < maxSteps && halvings++ < MAX_HALVINGS) {
        double lower = closed ? Math.floor(fail.level() / 2) : fail.level() / 2;
        if (lower < (closed ? 1 : 1e-3)) {
          break;
        }
        Step s = step(base, lower, steps);
        if (s.passed()) {
          pass = s;
        } else {
          fail = s;
        }
      }
    }
    while (pass != null && fail != null && steps.size() < maxSteps && !resolved(closed, pass.level(), fail.level())) {
      double mid = closed ? Math.floor((pass.level() + fail.level()) / 2) : (pass.level() + fail.level()) / 2;
      Step s = step(base, mid, steps);
      if (s.passed()) {
        pass = s;
      } else {
        fail = s;
      }
    }
    return new Result(kind, target, pass, fail, List.copyOf(steps));
  }

  private static boolean resolved(boolean closed, double pass, double fail) {
    return closed ? fail - pass <= 1 : (fail - pass) <= RATE_RESOLUTION * pass;
  }

  private Step step(BenchRunner.Options base, double level, List<Step> steps) throws InterruptedException {
    BenchRunner.Options o = new BenchRunner.Options(
        base.workload(), base.load().at(level), base.requests(), base.duration(), base.warmup(), base.seed());
    BenchReport report = bench.run(o);
    Step s = new Step(level, report.requests > 0 && report.sloAttainment >= target, report);
    steps.add(s);
    if (progress != null) {
      progress.printf("sweep step %d: %s -> attainment %.1f%%%n", steps.size(), o.load().describe(), report.sloAttainment * 100);
      progress.flush();
    }
    return s;
  }
}
