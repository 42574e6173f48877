package dev.tokentap.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MetricsClockTest {

  @Test
  void wallTimeFollowsTheSystemClockWithinATick() throws InterruptedException {
    MetricsClock clock = MetricsClock.INSTANCE;
    long first = clock.wallTime();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (clock.wallTime() == first && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(clock.wallTime()).as("the ticker refreshes it").isGreaterThan(first);
    // Generous bounds: a loaded CI host may delay the ticker, never by seconds.
    long now = System.currentTimeMillis();
    assertThat(clock.wallTime()).isBetween(now - 2_000, now + 1);
  }

  @Test
  void monotonicTimeIsTheSystemsNanoTime() {
    long before = System.nanoTime();
    long reading = MetricsClock.INSTANCE.monotonicTime();
    long after = System.nanoTime();
    assertThat(reading).isBetween(before, after);
  }

  @Test
  void theTickerIsOneDaemonThread() {
    MetricsClock.prometheusRegistry().close();
    MetricsClock.prometheusRegistry().close();
    long tickers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals("tokentap-metrics-clock"))
            .peek(t -> assertThat(t.isDaemon()).isTrue())
            .count();
    assertThat(tickers).isEqualTo(1);
  }

  /** The registry Tokentap runs with: timers keep their count, sum, max and buckets as before. */
  @Test
  void prometheusRegistryRecordsOnThisClock() {
    PrometheusMeterRegistry registry = MetricsClock.prometheusRegistry();
    assertThat(registry.config().clock()).isSameAs(MetricsClock.INSTANCE);
    Timer timer =
        Timer.builder("probe").publishPercentileHistogram().register(registry);
    timer.record(Duration.ofMillis(5));
    timer.record(Duration.ofMillis(40));
    assertThat(timer.count()).isEqualTo(2);
    assertThat(timer.max(TimeUnit.MILLISECONDS)).isEqualTo(40.0);
    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("probe_seconds_count 2")
        .contains("probe_seconds_max 0.04")
        .contains("probe_seconds_sum 0.045");
    registry.close();
  }
}
