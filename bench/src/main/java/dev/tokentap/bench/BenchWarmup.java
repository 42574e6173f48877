package dev.tokentap.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --warmup}: what a run sends before it measures, so that its first measured request meets
 * an open connection and compiled code. Without one, a fresh bench process sent its first requests
 * 200-900 ms late (class loading, connection set-up, the JIT) and reported them as the server's TTFT.
 *
 * <ul>
 *   <li>{@code N}: the first N requests;
 *   <li>a time ({@code 2s}, {@code 500ms}): every request sent (open loop: scheduled) that soon after
 *       the start, and at least the first;
 *   <li>{@code 0}: none.
 * </ul>
 *
 * The default, {@value #DEFAULT}, costs five seconds a run and opens as many connections as the load
 * keeps in flight. Two seconds were not enough on a busy 2-core machine: the JIT was still compiling
 * and requests in the next 8 s reached the socket up to 200 ms late (docs/bench.md, "Truth from the
 * first request, measured"). Stage lists take theirs from the spec or {@code --stage-warmup}; when neither
 * names one, the first stage gets the default.
 *
 * @param requests warm-up by count
 * @param time warm-up by time; null for none
 */
public record BenchWarmup(int requests, Duration time) {
  public static final String DEFAULT = "5s";

  public BenchWarmup {
    if (requests < 0) {
      throw new IllegalArgumentException("--warmup: " + requests + " (expected: >= 0)");
    }
  }

  /** {@code --warmup}'s value; null is the default. */
  public static BenchWarmup parse(String value) {
    String v = value == null ? DEFAULT : value.trim();
    if (v.chars().allMatch(Character::isDigit) && !v.isEmpty()) {
      try {
        return new BenchWarmup(Integer.parseInt(v), null);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--warmup: " + value + " (expected: a number of requests or a time such as 2s)");
      }
    }
    if (v.startsWith("-")) {
      throw new IllegalArgumentException("--warmup: " + value + " (expected: >= 0)");
    }
    Duration time = SloSpec.duration("--warmup", v);
    return time.isZero() ? new BenchWarmup(0, null) : new BenchWarmup(1, time);
  }

  /** {@code --stage-warmup}'s value: a time, or {@code 0} for none (which also keeps the default off the first stage). */
  public static Duration stageTime(String value) {
    return value.trim().equals("0") ? Duration.ZERO : SloSpec.duration("--stage-warmup", value.trim());
  }

  /** A run's options with this warm-up. */
  public BenchRunner.Options options(Workload workload, LoadPlan load, long requests, Duration duration, long seed) {
    return new BenchRunner.Options(workload, load, requests, duration, this.requests, seed, time);
  }

  /** {@code stages} with the default warm-up given to the first, if it has none. */
  public static List<Stages.Stage> firstStageWarm(List<Stages.Stage> stages) {
    Stages.Stage first = stages.get(0);
    if (first.warmup() != null && !first.warmup().isZero()) {
      return stages;
    }
    List<Stages.Stage> out = new ArrayList<>(stages);
    out.set(0, new Stages.Stage(first.load(), parse(null).time(), first.hold()));
    return List.copyOf(out);
  }
}
