package dev.tokentap.bench;

import java.util.Arrays;

/**
 * The arrival times a trace brings with it (a proxy capture's, a Mooncake trace's), for {@code
 * --load trace[:SPEED]}: offsets from the first arrival, cycling when the run needs more. A second
 * lap starts one mean gap after the last arrival, so the mean rate holds across laps.
 */
final class TraceArrivals {
  private final long[] offsetsNanos;
  private final long lapNanos;

  /** @param offsetsNanos ascending, nanoseconds after the first arrival (so the first is 0); at least one */
  TraceArrivals(long[] offsetsNanos) {
    if (offsetsNanos.length == 0) {
      throw new IllegalArgumentException("a trace needs at least one arrival");
    }
    this.offsetsNanos = offsetsNanos.clone();
    long span = offsetsNanos[offsetsNanos.length - 1];
    this.lapNanos = offsetsNanos.length < 2 ? 1_000_000_000L : span + span / (offsetsNanos.length - 1);
  }

  /** Requests/s as recorded: {@code (n − 1) / (last arrival − first arrival)}. */
  double rate() {
    long span = offsetsNanos[offsetsNanos.length - 1];
    return span == 0 ? Double.NaN : (offsetsNanos.length - 1) / (span / 1e9);
  }

  /** Arrival {@code i} (cycling by laps), nanoseconds after the first, at the recorded pace. */
  long offsetNanos(long i) {
    int n = offsetsNanos.length;
    return (i / n) * lapNanos + offsetsNanos[(int) (i % n)];
  }

  /**
   * The recorded arrivals at {@code speed} times their pace, until {@code maxRequests} or until one
   * would fall at or after {@code durationNanos}.
   */
  ArrivalSchedule schedule(double speed, long maxRequests, long durationNanos) {
    if (!(speed > 0) || Double.isInfinite(speed)) {
      throw new IllegalArgumentException("trace speed: " + speed + " (expected: > 0)");
    }
    if (maxRequests == Long.MAX_VALUE && durationNanos == Long.MAX_VALUE) {
      throw new IllegalArgumentException("a trace replay needs a request count or a duration");
    }
    long[] out = new long[16];
    int n = 0;
    while (n < maxRequests) {
      long at = (long) (offsetNanos(n) / speed);
      if (at >= durationNanos) {
        break;
      }
      if (n == out.length) {
        out = Arrays.copyOf(out, n * 2);
      }
      out[n++] = at;
    }
    return ArrivalSchedule.of(Arrays.copyOf(out, n));
  }
}
