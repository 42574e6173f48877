package dev.tokentap.proxy.metrics;

import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The clock of Tokentap's meter registries: Micrometer's system clock, except that the wall time is
 * a value a daemon thread refreshes every {@value #TICK_MILLIS} ms instead of a system call per
 * reading.
 *
 * <p>Micrometer reads the wall time twice on every timer and summary record, to decide whether
 * the time windows of the {@code _max} gauge and of the histogram must rotate (every 40 s with
 * the default two-minute expiry). The relay records an inter-token gap per streamed event, so
 * those readings were a fifth of the meter's cost per event (docs/performance.md,
 * "Microbenchmarks"), for windows that move on every 40 s. A rotation up to one tick late changes
 * nothing anyone can see. The monotonic time, which Micrometer uses for durations ({@code
 * Timer.Sample}, long task timers), stays {@link System#nanoTime()}.
 *
 * <p>The tick is coarse on purpose: each wake-up is a context switch, and at 10 ms the thread
 * cost a quarter of a percent of a core, more than it saved at low load.
 *
 * <p>One thread per JVM, started with the first use, whatever the number of registries.
 */
public final class MetricsClock implements Clock {
  /** How often the wall time is refreshed. */
  static final long TICK_MILLIS = 100;

  public static final MetricsClock INSTANCE = new MetricsClock();

  private volatile long wallTime = System.currentTimeMillis();

  private MetricsClock() {
    Thread ticker = new Thread(this::tick, "tokentap-metrics-clock");
    ticker.setDaemon(true);
    ticker.start();
  }

  /** A Prometheus registry on this clock, with Micrometer's default Prometheus settings. */
  public static PrometheusMeterRegistry prometheusRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), INSTANCE);
  }

  @Override
  public long wallTime() {
    return wallTime;
  }

  @Override
  public long monotonicTime() {
    return System.nanoTime();
  }

  private void tick() {
    while (true) {
      try {
        Thread.sleep(TICK_MILLIS);
      } catch (InterruptedException e) {
        // nobody interrupts this thread on purpose; keep time
      }
      wallTime = System.currentTimeMillis();
    }
  }
}
