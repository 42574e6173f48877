package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --load stages:LOAD@HOLD,LOAD@HOLD,…}: a list of loads, each held for a time and reported
 * as its own step, like a sweep's. {@code LOAD} is any {@code --load} form, or a bare number that
 * keeps the previous stage's kind ({@code stages:poisson:2@30s,4@30s,8@30s}); all stages are rates
 * or all concurrencies, so steps compare on one axis. {@code HOLD} may be {@code WARMUP+HOLD}
 * ({@code poisson:4@10s+30s}): the first part runs and is left out of the results; without it the
 * default warm-up applies.
 *
 * <p>Each stage is an independent run: it starts when the previous one has drained (requests in
 * flight at the end of a hold are waited for and counted in that stage), so no stage's latencies
 * carry another's queue.
 */
public final class Stages {
  public static final String PREFIX = "stages:";
  private static final String EXPECTED = "expected: stages:LOAD@HOLD[,LOAD@HOLD…], e.g. stages:poisson:2@30s,4@30s or stages:concurrency:4@10s+30s";

  /** One stage: a load held for {@code hold} after {@code warmup}. */
  public record Stage(LoadPlan load, Duration warmup, Duration hold) {
    public Stage {
      requireNonNull(load, "load");
      requireNonNull(hold, "hold");
    }
  }

  private Stages() {}

  public static boolean isStages(String loadSpec) {
    return loadSpec.trim().startsWith(PREFIX);
  }

  /**
   * @param defaultWarmup warm-up of stages that name none; null for none
   */
  public static List<Stage> parse(String spec, int maxConcurrency, Duration defaultWarmup) {
    String body = spec.trim().substring(PREFIX.length());
    if (body.isBlank()) {
      throw new IllegalArgumentException("--load " + spec + " (" + EXPECTED + ")");
    }
    List<Stage> stages = new ArrayList<>();
    LoadPlan previous = null;
    for (String item : body.split(",")) {
      int at = item.lastIndexOf('@');
      if (at < 0) {
        throw new IllegalArgumentException("--load " + spec + ": stage '" + item + "' has no @HOLD (" + EXPECTED + ")");
      }
      String loadPart = item.substring(0, at).trim();
      String holdPart = item.substring(at + 1).trim();
      LoadPlan load;
      if (isNumber(loadPart)) {
        if (previous == null) {
          throw new IllegalArgumentException("--load " + spec + ": the first stage names its kind, e.g. poisson:" + loadPart + " (" + EXPECTED + ")");
        }
        double level = Double.parseDouble(loadPart);
        if (previous.closedLoop() && (level < 1 || level != Math.rint(level))) {
          throw new IllegalArgumentException("--load " + spec + ": concurrency " + loadPart + " (expected: a whole number >= 1)");
        }
        load = previous.closedLoop() ? LoadPlan.closed((int) level) : LoadPlan.open(previous.arrivals(), level, previous.burstiness(), previous.concurrency());
      } else {
        load = LoadPlan.parse(loadPart, maxConcurrency);
      }
      if (previous != null && previous.closedLoop() != load.closedLoop()) {
        throw new IllegalArgumentException("--load " + spec + ": stages mix rates and concurrencies (expected: all one kind, so steps compare on one axis)");
      }
      stages.add(stage(spec, load, holdPart, defaultWarmup));
      previous = load;
    }
    return List.copyOf(stages);
  }

  /** A stage of {@code load} held for {@code holdPart}, {@code [WARMUP+]HOLD} ({@code spec} names the flag in errors). */
  static Stage stage(String spec, LoadPlan load, String holdPart, Duration defaultWarmup) {
    Duration warmup = defaultWarmup;
    String hold = holdPart;
    int plus = holdPart.indexOf('+');
    if (plus >= 0) {
      warmup = SloSpec.duration("--load " + spec + " (warm-up)", holdPart.substring(0, plus).trim());
      hold = holdPart.substring(plus + 1).trim();
    }
    return new Stage(load, warmup, SloSpec.duration("--load " + spec + " (hold)", hold));
  }

  private static boolean isNumber(String s) {
    try {
      Double.parseDouble(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * Runs every stage in order with {@code workload}; a step passes when its SLO attainment reaches
   * {@code target} (NaN: not judged, as without SLOs).
   */
  public static StepResults run(Bench bench, Workload workload, List<Stage> stages, long seed, double target, PrintWriter progress)
      throws InterruptedException {
    List<LoadStep> steps = new ArrayList<>();
    for (Stage stage : stages) {
      BenchRunner.Options o = new BenchRunner.Options(workload, stage.load(), Long.MAX_VALUE, stage.hold(), 0, seed, stage.warmup());
      BenchReport report = bench.run(o);
      boolean passed = !Double.isNaN(target) && report.requests > 0 && report.sloAttainment >= target;
      steps.add(new LoadStep(steps.size() + 1, stage.load().level(), passed, report));
      if (progress != null) {
        progress.printf("stage %d/%d: %s for %ss -> %d requests, %.2f req/s%s%n", steps.size(), stages.size(), stage.load().describe(),
            StepResults.fmt(stage.hold().toMillis() / 1000.0), report.requests, report.requestThroughput,
            Double.isNaN(target) ? "" : String.format(", attainment %.1f%%", report.sloAttainment * 100));
        progress.flush();
      }
    }
    return new StepResults("stages", stages.get(0).load().closedLoop() ? "concurrency" : "rate", target, steps);
  }
}
