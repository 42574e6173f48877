package dev.tokentap.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * How the open-loop dispatcher waits for an absolute intended time: a park, whose wake-up is late
 * by the scheduler's slack (tens of microseconds, more on a loaded machine), until shortly before
 * it, then a spin, so a request leaves within microseconds of its time without a core spinning
 * between arrivals.
 */
final class Pacer {
  private static final long SPIN_NANOS = 100_000;

  private Pacer() {}

  /** Returns at {@code deadlineNanos} ({@link System#nanoTime()}), not before: parks until 100 µs before it, then spins. */
  static void waitUntil(long deadlineNanos) {
    while (true) {
      long remaining = deadlineNanos - System.nanoTime();
      if (remaining <= 0) {
        return;
      }
      if (remaining > 2 * SPIN_NANOS) {
        LockSupport.parkNanos(remaining - SPIN_NANOS);
      } else {
        Thread.onSpinWait();
      }
    }
  }
}
