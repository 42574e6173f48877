package dev.tokentap.bench;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The bench's own meters, declared in one place, beside the proxy's {@code tokentap_*} series that
 * its recorder keeps with {@code role="bench"} (requests, TTFT, TPOT, ITL, E2E, tokens, and {@code
 * tokentap_requests_in_flight{target="bench",role="bench"}}):
 *
 * <ul>
 *   <li>{@code tokentap_bench_step}: the step running now, 1-based (0 before the first)
 *   <li>{@code tokentap_bench_target_concurrency}: the closed loop's N, or the open loop's ceiling
 *       (0: none)
 *   <li>{@code tokentap_bench_target_rate}: the open loop's target in requests/s (0: closed loop)
 *   <li>{@code tokentap_bench_schedule_lag_seconds}: open loop, histogram of how late the dispatcher
 *       reached each request's intended send time (the raw lag)
 * </ul>
 */
public final class BenchMetrics implements BenchListener {
  // tokentap_bench_step
  static final String STEP = "tokentap.bench.step";
  // tokentap_bench_target_concurrency
  static final String TARGET_CONCURRENCY = "tokentap.bench.target.concurrency";
  // tokentap_bench_target_rate
  static final String TARGET_RATE = "tokentap.bench.target.rate";
  // tokentap_bench_schedule_lag_seconds
  static final String SCHEDULE_LAG = "tokentap.bench.schedule.lag";

  private static final Duration[] LAG_BUCKETS = {
    Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
    Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
    Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
  };

  // Written on the caller's thread at step boundaries, read by scrapes.
  private volatile int step;
  private volatile LoadPlan load;
  private final Timer scheduleLag;

  public BenchMetrics(MeterRegistry registry) {
    Gauge.builder(STEP, this, m -> m.step)
        .description("The bench step running now, 1-based (each stage, sweep run or plain run is a step); 0 before the first")
        .register(registry);
    Gauge.builder(TARGET_CONCURRENCY, this, m -> m.load == null ? 0 : m.load.concurrency())
        .description("The load of the running step: closed-loop concurrency N, or the open loop's --max-concurrency ceiling (0: none)")
        .register(registry);
    Gauge.builder(TARGET_RATE, this, m -> m.load == null ? 0 : m.load.rate())
        .description("The load of the running step: the open loop's target rate in requests/s (0 for a closed loop)")
        .register(registry);
    this.scheduleLag = Timer.builder(SCHEDULE_LAG)
        .description("Open loop: how late the bench's dispatcher reached each request's intended send time")
        .serviceLevelObjectives(LAG_BUCKETS)
        .minimumExpectedValue(LAG_BUCKETS[0])
        .maximumExpectedValue(LAG_BUCKETS[LAG_BUCKETS.length - 1])
        .register(registry);
  }

  @Override
  public void stepStarted(int step, BenchRunner.Options options) {
    this.load = options.load();
    this.step = step;
  }

  @Override
  public void scheduleLag(long lagNanos) {
    scheduleLag.record(Math.max(0, lagNanos), TimeUnit.NANOSECONDS);
  }
}
