package dev.tokentap.bench;

import java.time.Duration;
import java.util.Locale;

/**
 * {@code --cancel RATIO@DELAY}: a share of the requests is abandoned by the client {@code delay}
 * after it was handed to the HTTP client, its connection closed mid-response (AIPerf's {@code
 * --request-cancellation-rate} and {@code --request-cancellation-delay}), to measure what
 * cancellations cost the server and the requests that stay. Which requests are chosen is a function
 * of {@code (seed, index)} only, so a run is reproducible; a chosen request that ends before the
 * delay is not cancelled.
 *
 * @param ratio the share of requests chosen, {@code 0 < ratio ≤ 1}; 0 for none ({@link #NONE})
 * @param delay from the hand-off to the abandonment
 */
public record Cancellation(double ratio, Duration delay) {
  public static final Cancellation NONE = new Cancellation(0, Duration.ZERO);
  /** Keeps the choice independent of the workload's own draws for the same {@code (seed, index)}. */
  private static final long STREAM = 0x63616E63656CL; // "cancel"

  public Cancellation {
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("--cancel ratio: " + ratio + " (expected: 0 < RATIO <= 1)");
    }
    if (delay == null || delay.isNegative()) {
      throw new IllegalArgumentException("--cancel delay: " + delay + " (expected: >= 0)");
    }
  }

  /** {@code RATIO@DELAY}, e.g. {@code 0.1@2s}; null for none. */
  public static Cancellation parse(String spec) {
    if (spec == null) {
      return NONE;
    }
    String[] p = spec.trim().split("@", -1);
    if (p.length != 2) {
      throw new IllegalArgumentException("--cancel " + spec + " (expected: RATIO@DELAY, e.g. 0.1@2s: a tenth of the requests abandoned 2 s after sending)");
    }
    double ratio;
    try {
      ratio = Double.parseDouble(p[0]);
    } catch (NumberFormatException e) {
      ratio = Double.NaN;
    }
    if (!(ratio > 0 && ratio <= 1)) {
      throw new IllegalArgumentException("--cancel " + spec + ": ratio '" + p[0] + "' (expected: 0 < RATIO <= 1, e.g. 0.1)");
    }
    return new Cancellation(ratio, SloSpec.duration("--cancel " + spec + ": delay", p[1].trim()));
  }

  public boolean enabled() {
    return ratio > 0;
  }

  /** Whether request {@code index} of a run with {@code seed} is to be abandoned. */
  public boolean chosen(long seed, long index) {
    return enabled() && (ratio >= 1 || SyntheticWorkload.requestRandom(seed ^ STREAM, index).nextDouble() < ratio);
  }

  /** As {@code --cancel} spells it. */
  public String describe() {
    return enabled() ? LoadPlan.number(ratio) + "@" + String.format(Locale.ROOT, "%.0fms", delay.toNanos() / 1e6) : "none";
  }
}
