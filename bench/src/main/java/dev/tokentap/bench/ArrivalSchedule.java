package dev.tokentap.bench;

import java.util.Arrays;
import java.util.Random;

/**
 * The intended send times of an open-loop run, as absolute offsets from its start, computed before
 * the first request is sent. The dispatcher waits for {@code start + offset[i]}, never for a
 * relative interval after the previous send, so lateness does not accumulate (evalscope#1366,
 * inference-perf#86), and each request's clock starts at its intended time (no coordinated
 * omission).
 *
 * <p>Gaps follow vLLM {@code bench serve}: {@code gamma(shape = burstiness, scale = 1 / (rate ×
 * burstiness))}, so burstiness 1 is Poisson (exponential gaps), below 1 is burstier, and constant
 * arrivals are {@code i / rate}. Unlike vLLM the offsets are not rescaled to end at {@code N/rate}:
 * the process stays a true Poisson/gamma process, and the achieved rate is reported.
 */
public final class ArrivalSchedule {

  private final long[] offsetsNanos;

  private ArrivalSchedule(long[] offsetsNanos) {
    this.offsetsNanos = offsetsNanos;
  }

  public enum Kind {
    CONSTANT,
    POISSON,
    GAMMA,
    /** A trace's own arrival times ({@link TimedWorkload}); not generated here. */
    TRACE
  }

  /** A schedule of given offsets, ascending, nanoseconds after the run's start. */
  static ArrivalSchedule of(long[] offsetsNanos) {
    return new ArrivalSchedule(offsetsNanos.clone());
  }

  /**
   * Arrivals until {@code maxRequests} are scheduled or the next would fall at or after {@code
   * durationNanos} (either may be {@code Long.MAX_VALUE}, not both).
   */
  public static ArrivalSchedule generate(
      Kind kind, double ratePerSecond, double burstiness, long maxRequests, long durationNanos, long seed) {
    if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
      throw new IllegalArgumentException("rate: " + ratePerSecond + " (expected: > 0 requests/s)");
    }
    if (kind == Kind.TRACE) {
      throw new IllegalArgumentException("trace arrivals come from the trace, not a rate (TimedWorkload)");
    }
    if (kind == Kind.GAMMA && !(burstiness > 0)) {
      throw new IllegalArgumentException("burstiness: " + burstiness + " (expected: > 0)");
    }
    if (maxRequests == Long.MAX_VALUE && durationNanos == Long.MAX_VALUE) {
      throw new IllegalArgumentException("an open-loop schedule needs a request count or a duration");
    }
    Random random = new Random(seed);
    long[] out = new long[16];
    int n = 0;
    double t = 0;
    while (n < maxRequests) {
      // Constant arrivals are i / rate exactly, not a running sum that gathers rounding error.
      long at = kind == Kind.CONSTANT ? (long) (n / ratePerSecond * 1e9) : (long) (t * 1e9);
      if (at >= durationNanos) {
        break;
      }
      if (n == out.length) {
        out = Arrays.copyOf(out, n * 2);
      }
      out[n++] = at;
      t += switch (kind) {
        case CONSTANT -> 1 / ratePerSecond;
        case POISSON -> -Math.log(1 - random.nextDouble()) / ratePerSecond;
        case GAMMA -> gamma(random, burstiness) / (ratePerSecond * burstiness);
        case TRACE -> throw new AssertionError("refused above");
      };
    }
    return new ArrivalSchedule(Arrays.copyOf(out, n));
  }

  /** Generated from the load's rate, or a capture's own arrivals ({@code --load trace}). */
  static ArrivalSchedule of(BenchRunner.Options o, long maxRequests, long durationNanos) {
    LoadPlan load = o.load();
    return load.arrivals() == Kind.TRACE
        ? ((TimedWorkload) o.workload()).arrivals().schedule(load.rate(), maxRequests, durationNanos)
        : generate(load.arrivals(), load.rate(), load.burstiness(), maxRequests, durationNanos, o.seed());
  }

  /** How long the {@code warmup} requests take to arrive, on average (a trace: as captured). */
  static long warmupWindowNanos(BenchRunner.Options o) {
    LoadPlan load = o.load();
    if (load.arrivals() == Kind.TRACE) {
      return o.warmup() == 0 ? 0 : (long) (((TimedWorkload) o.workload()).arrivals().offsetNanos(o.warmup()) / load.rate());
    }
    return (long) (o.warmup() / load.rate() * 1e9);
  }

  public int size() {
    return offsetsNanos.length;
  }

  /** Intended send time of request {@code i}, nanoseconds after the run's start. */
  public long offsetNanos(int i) {
    return offsetsNanos[i];
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape &lt; 1 via the {@code U^(1/shape)} boost. */
  static double gamma(Random random, double shape) {
    if (shape < 1) {
      return gamma(random, shape + 1) * Math.pow(random.nextDouble(), 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x = random.nextGaussian();
      double v = 1 + c * x;
      if (v <= 0) {
        continue;
      }
      v = v * v * v;
      double u = random.nextDouble();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }
}
