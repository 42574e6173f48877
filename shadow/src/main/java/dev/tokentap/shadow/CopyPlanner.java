package dev.tokentap.shadow;

import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * How many copies one production request gets and when each leaves: a pure function of the factor,
 * the spread window and a source of uniform numbers, so its statistics are tested without sockets.
 *
 * <p>With factor {@code k}, a request gets {@code ⌊k⌋} copies plus one more with probability
 * {@code frac(k)}: the expected count is exactly {@code k}, and the count is binomial around it.
 * Copy 1 leaves with the original; copy {@code i > 1} leaves after its own delay, uniform in {@code
 * [0, window)}.
 *
 * <p>Arrival statistics: if production arrives as a Poisson process of rate λ, the {@code i}-th
 * copies form a Poisson process of rate {@code λ·P(copies ≥ i)} (thinning and independent random
 * displacement both keep a process Poisson), so staging sees rate {@code k·λ}. The copies of one
 * request are not independent of each other, but their delays scatter them over the window, so
 * when the window is long against production's mean gap {@code 1/λ} the sum is close to a Poisson
 * process of rate {@code k·λ}: inter-arrival coefficient of variation near 1 and no excess of
 * near-simultaneous twins. For non-Poisson production, staging keeps production's rate shape on
 * time scales longer than the window, scaled by {@code k}.
 */
final class CopyPlanner {
  private volatile double factor;
  private final long windowNanos;

  CopyPlanner(double factor, long windowNanos) {
    this.factor = factor;
    this.windowNanos = windowNanos;
  }

  double factor() {
    return factor;
  }

  void factor(double factor) {
    this.factor = factor;
  }

  /** The number of copies for a request whose sampling number is {@code u}, uniform in [0, 1). */
  int copies(double u) {
    double k = factor;
    int whole = (int) Math.floor(k);
    return whole + (u < k - whole ? 1 : 0);
  }

  /** When copy {@code index} (1-based) leaves, after the original. */
  long delayNanos(int index, RandomGenerator random) {
    return index <= 1 || windowNanos == 0 ? 0 : (long) (random.nextDouble() * windowNanos);
  }

  /**
   * A sampling number in [0, 1) that depends only on {@code key}: requests with the same key get the
   * same number of copies (FNV-1a, then the SplitMix64 finaliser to spread the bits).
   */
  static double unitOf(String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return (h >>> 11) * 0x1.0p-53;
  }
}
