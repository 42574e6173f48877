package dev.tokentap.bench;

/**
 * How requests are offered, from {@code --load}: {@code concurrency:N} (closed loop: N in flight,
 * each finished request replaced at once), or open loop {@code constant:RATE}, {@code poisson:RATE},
 * {@code gamma:RATE:BURSTINESS} (requests/s on an {@link ArrivalSchedule}), or {@code
 * trace[:SPEED]} (a capture's own arrival times, {@link TraceWorkload}, sped up by {@code SPEED}),
 * optionally under a concurrency ceiling ({@code --max-concurrency}) whose waiting time counts in
 * latency.
 *
 * @param concurrency closed-loop N, or the open-loop ceiling ({@code 0}: none)
 * @param rate requests/s, {@code 0} for closed loop; for trace arrivals the speed factor (so sweeps
 *     and stages step the speed)
 */
public record LoadPlan(boolean closedLoop, int concurrency, ArrivalSchedule.Kind arrivals, double rate, double burstiness) {

  public static LoadPlan closed(int concurrency) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: >= 1)");
    }
    return new LoadPlan(true, concurrency, null, 0, 1);
  }

  public static LoadPlan open(ArrivalSchedule.Kind arrivals, double rate, double burstiness, int maxConcurrency) {
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException(arrivals == ArrivalSchedule.Kind.TRACE
          ? "trace speed: " + rate + " (expected: > 0, e.g. 2 for twice as fast)"
          : "rate: " + rate + " (expected: > 0 requests/s)");
    }
    if (!(burstiness > 0)) {
      throw new IllegalArgumentException("burstiness: " + burstiness + " (expected: > 0)");
    }
    if (maxConcurrency < 0) {
      throw new IllegalArgumentException("max-concurrency: " + maxConcurrency + " (expected: >= 1)");
    }
    return new LoadPlan(false, maxConcurrency, arrivals, rate, burstiness);
  }

  public static LoadPlan parse(String spec, int maxConcurrency) {
    String[] p = spec.trim().split(":");
    try {
      switch (p[0]) {
        case "concurrency" -> {
          expect(spec, p.length == 2);
          if (maxConcurrency > 0) {
            throw new IllegalArgumentException("--max-concurrency applies to open-loop loads (constant, poisson, gamma), not " + spec);
          }
          return closed(Integer.parseInt(p[1]));
        }
        case "constant" -> {
          expect(spec, p.length == 2);
          return open(ArrivalSchedule.Kind.CONSTANT, Double.parseDouble(p[1]), 1, maxConcurrency);
        }
        case "poisson" -> {
          expect(spec, p.length == 2);
          return open(ArrivalSchedule.Kind.POISSON, Double.parseDouble(p[1]), 1, maxConcurrency);
        }
        case "trace" -> {
          expect(spec, p.length <= 2);
          return open(ArrivalSchedule.Kind.TRACE, p.length == 2 ? Double.parseDouble(p[1]) : 1, 1, maxConcurrency);
        }
        case "gamma" -> {
          expect(spec, p.length == 3);
          return open(ArrivalSchedule.Kind.GAMMA, Double.parseDouble(p[1]), Double.parseDouble(p[2]), maxConcurrency);
        }
        default -> {
          expect(spec, false);
          return null;
        }
      }
    } catch (NumberFormatException e) {
      expect(spec, false);
      return null;
    }
  }

  private static void expect(String spec, boolean ok) {
    if (!ok) {
      throw new IllegalArgumentException("--load " + spec
          + " (expected: concurrency:N, constant:RATE, poisson:RATE, gamma:RATE:BURSTINESS or trace[:SPEED])");
    }
  }

  /** The same kind of load at another level (for sweeps). */
  public LoadPlan at(double level) {
    return closedLoop ? closed((int) Math.round(level)) : new LoadPlan(false, concurrency, arrivals, level, burstiness);
  }

  public double level() {
    return closedLoop ? concurrency : rate;
  }

  /** {@code 50} for 50.0, {@code 2.5} for 2.5: as a user would type it. */
  static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  public String describe() {
    if (closedLoop) {
      return "concurrency:" + concurrency;
    }
    String s = arrivals.name().toLowerCase(java.util.Locale.ROOT) + ":" + number(rate) + (arrivals == ArrivalSchedule.Kind.TRACE ? "x" : "")
        + (arrivals == ArrivalSchedule.Kind.GAMMA ? ":" + number(burstiness) : "");
    return concurrency > 0 ? s + " (max-concurrency " + concurrency + ")" : s;
  }
}
