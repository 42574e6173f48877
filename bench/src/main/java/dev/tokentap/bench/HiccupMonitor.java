package dev.tokentap.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures how late the JVM runs a thread that asks to wake every millisecond, as jHiccup and
 * Node's {@code monitorEventLoopDelay} do: GC pauses, safepoints and CPU starvation all show up as
 * delay, and they delay the dispatcher and the HTTP client's selector the same way. Also the GC
 * time and count the JVM reports over the run.
 */
final class HiccupMonitor implements AutoCloseable {
  private static final long TICK_NANOS = 1_000_000;

  /** Delays in milliseconds (one per tick) and GC totals over the run. */
  record Summary(double[] delaysMs, long gcPauseMillis, long gcCount) {
    static final Summary NONE = new Summary(new double[0], 0, 0);
  }

  private final Thread thread;
  private final long gcTime0;
  private final long gcCount0;
  private volatile boolean running = true;
  private long[] delays = new long[1024];
  private int size;

  private HiccupMonitor() {
    gcTime0 = gcTime();
    gcCount0 = gcCount();
    thread = new Thread(this::loop, "bench-hiccup-monitor");
    thread.setDaemon(true);
  }

  static HiccupMonitor start() {
    HiccupMonitor m = new HiccupMonitor();
    m.thread.start();
    return m;
  }

  private void loop() {
    while (running) {
      long due = System.nanoTime() + TICK_NANOS;
      LockSupport.parkNanos(TICK_NANOS);
      long late = Math.max(0, System.nanoTime() - due);
      if (size == delays.length) {
        delays = Arrays.copyOf(delays, size * 2);
      }
      delays[size++] = late;
    }
  }

  /** Stops the thread and returns what it saw. */
  Summary stop() {
    running = false;
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double[] ms = new double[size];
    for (int i = 0; i < size; i++) {
      ms[i] = delays[i] / 1e6;
    }
    return new Summary(ms, gcTime() - gcTime0, gcCount() - gcCount0);
  }

  @Override
  public void close() {
    running = false;
  }

  private static long gcTime() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).filter(t -> t > 0).sum();
  }

  private static long gcCount() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).filter(t -> t > 0).sum();
  }
}
