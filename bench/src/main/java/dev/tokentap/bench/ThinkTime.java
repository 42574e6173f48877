package dev.tokentap.bench;

import java.time.Duration;
import java.util.Random;

/**
 * {@code --think}: how long a user waits after an answer before sending a conversation's next turn.
 * A time ({@code 2s}: always that), {@code uniform:MIN:MAX} (uniform in {@code [MIN, MAX]}), or
 * {@code 0} (none, the default: the next turn goes at once).
 *
 * @param minNanos the shortest think time
 * @param maxNanos the longest; equal to {@code minNanos} for a fixed time
 */
public record ThinkTime(long minNanos, long maxNanos) {
  public static final ThinkTime NONE = new ThinkTime(0, 0);

  private static final String EXPECTED = "expected: a time such as 2s, uniform:MIN:MAX such as uniform:1s:3s, or 0 for none";

  public ThinkTime {
    if (minNanos < 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException("think time " + minNanos + ".." + maxNanos + " ns (expected: 0 <= min <= max)");
    }
  }

  /** {@code --think}'s value; null is none. */
  public static ThinkTime parse(String value) {
    if (value == null || value.trim().equals("0")) {
      return NONE;
    }
    String v = value.trim();
    try {
      if (v.startsWith("uniform:")) {
        String[] p = v.split(":", -1);
        if (p.length != 3) {
          throw new IllegalArgumentException(EXPECTED);
        }
        Duration min = SloSpec.duration("--think", p[1]);
        Duration max = SloSpec.duration("--think", p[2]);
        if (max.compareTo(min) < 0) {
          throw new IllegalArgumentException("MAX " + p[2] + " is below MIN " + p[1] + " (" + EXPECTED + ")");
        }
        return new ThinkTime(min.toNanos(), max.toNanos());
      }
      long fixed = SloSpec.duration("--think", v).toNanos();
      return new ThinkTime(fixed, fixed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--think " + value + " (" + EXPECTED + ")", e);
    }
  }

  public boolean none() {
    return maxNanos == 0;
  }

  /** The think time before turn {@code turn} of session {@code session}: a function of the three numbers only. */
  long sampleNanos(long seed, long session, int turn) {
    if (minNanos == maxNanos) {
      return minNanos;
    }
    Random r = SyntheticWorkload.requestRandom(seed ^ 0x7468696E6B000000L, session * 1_000_003L + turn);
    return minNanos + (long) (r.nextDouble() * (maxNanos - minNanos + 1));
  }

  public String describe() {
    return none() ? "none" : minNanos == maxNanos ? LoadPlan.number(minNanos / 1e9) + "s"
        : "uniform:" + LoadPlan.number(minNanos / 1e9) + "s:" + LoadPlan.number(maxNanos / 1e9) + "s";
  }
}
