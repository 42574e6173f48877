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
  /** Arrival {@code i} here is the trace's arrival {@code first + i × step} ({@link #every}). */
  private final int first;
  private final int step;

  /** @param offsetsNanos ascending, nanoseconds after the first arrival (so the first is 0); at least one */
  TraceArrivals(long[] offsetsNanos) {
    this(offsetsNanos.clone(), 0, 1);
    if (offsetsNanos.length == 0) {
      throw new IllegalArgumentException("a trace needs at least one arrival");
    }
  }

  private TraceArrivals(long[] offsetsNanos, int first, int step) {
    this.offsetsNanos = offsetsNanos;
    long span = offsetsNanos.length == 0 ? 0 : offsetsNanos[offsetsNanos.length - 1];
    this.lapNanos = offsetsNanos.length < 2 ? 1_000_000_000L : span + span / (offsetsNanos.length - 1);
    this.first = first;
    this.step = step;
  }

  /**
   * Arrivals {@code first, first + step, …} of the whole trace, at their times in it (so the first
   * is not at 0): a {@link Shard}'s part, whose arrivals and the other shards' make up the trace's.
   */
  TraceArrivals every(int first, int step) {
    return new TraceArrivals(offsetsNanos, first, step);
  }

  /** Requests/s of the whole trace as recorded: {@code (n − 1) / (last arrival − first arrival)}. */
  double rate() {
    long span = offsetsNanos[offsetsNanos.length - 1];
    return span == 0 ? Double.NaN : (offsetsNanos.length - 1) / (span / 1e9);
  }

  /** Arrival {@code i} (cycling by laps), nanoseconds after the first, at the recorded pace. */
  long offsetNanos(long i) {
    long j = first + i * step;
    int n = offsetsNanos.length;
    return (j / n) * lapNanos + offsetsNanos[(int) (j % n)];
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
