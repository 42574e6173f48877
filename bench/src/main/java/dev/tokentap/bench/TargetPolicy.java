package dev.tokentap.bench;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code --target-policy}: which of several {@code --target}s a request goes to. Chosen when the
 * request is handed to the HTTP client, from any thread, without locks.
 */
public enum TargetPolicy {
  /** Each target in turn. */
  ROUND_ROBIN,
  /**
   * The target with the fewest requests in flight right now (ties: the next in turn), so a faster
   * target, which finishes its requests sooner, gets more of them.
   */
  LEAST_IN_FLIGHT;

  public static TargetPolicy parse(String value) {
    for (TargetPolicy p : values()) {
      if (p.label().equals(value.trim().toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    throw new IllegalArgumentException("--target-policy " + value + " (expected: round-robin or least-in-flight)");
  }

  /** As the option spells it: {@code round-robin}, {@code least-in-flight}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The target for the {@code turn}-th request (a counter the caller advances once per request),
   * given each target's requests in flight.
   */
  int pick(AtomicInteger[] inFlight, long turn) {
    int n = inFlight.length;
    int first = (int) Math.floorMod(turn, (long) n);
    if (this == ROUND_ROBIN || n == 1) {
      return first;
    }
    int best = first;
    int least = inFlight[first].get();
    for (int k = 1; k < n && least > 0; k++) {
      int t = (first + k) % n;
      int v = inFlight[t].get();
      if (v < least) {
        best = t;
        least = v;
      }
    }
    return best;
  }
}
