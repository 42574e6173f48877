package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
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

  public StepResults search(BenchRunner.Options base) throws InterruptedException {
    LoadPlan plan = base.load();
    boolean closed = plan.closedLoop();
    String kind = closed ? "concurrency" : "rate";
    List<LoadStep> steps = new ArrayList<>();
    LoadStep pass = null;
    LoadStep fail = null;
    LoadStep first = step(base, plan.level(), steps);
    if (first.passed()) {
      pass = first;
      while (fail == null && steps.size() < maxSteps) {
        LoadStep s = step(base, pass.level() * 2, steps);
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
        LoadStep s = step(base, lower, steps);
        if (s.passed()) {
          pass = s;
        } else {
          fail = s;
        }
      }
    }
    while (pass != null && fail != null && steps.size() < maxSteps && !resolved(closed, pass.level(), fail.level())) {
      double mid = closed ? Math.floor((pass.level() + fail.level()) / 2) : (pass.level() + fail.level()) / 2;
      LoadStep s = step(base, mid, steps);
      if (s.passed()) {
        pass = s;
      } else {
        fail = s;
      }
    }
    return new StepResults("sweep", kind, target, steps);
  }

  private static boolean resolved(boolean closed, double pass, double fail) {
    return closed ? fail - pass <= 1 : (fail - pass) <= RATE_RESOLUTION * pass;
  }

  private LoadStep step(BenchRunner.Options base, double level, List<LoadStep> steps) throws InterruptedException {
    BenchRunner.Options o = base.withLoad(base.load().at(level));
    BenchReport report = bench.run(o);
    LoadStep s = new LoadStep(steps.size() + 1, level, report.requests > 0 && report.sloAttainment >= target, report);
    steps.add(s);
    if (progress != null) {
      progress.printf("sweep step %d: %s -> attainment %.1f%%%n", steps.size(), o.load().describe(), report.sloAttainment * 100);
      progress.flush();
    }
    return s;
  }
}
