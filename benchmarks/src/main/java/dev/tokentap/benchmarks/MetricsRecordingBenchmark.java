package dev.tokentap.benchmarks;

import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.proxy.config.SloRule;
import dev.tokentap.proxy.metrics.MetricsClock;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.Role;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The metrics recording path on a {@link PrometheusMeterRegistry} (docs/performance.md), one
 * thread.
 *
 * <ul>
 *   <li>{@code interTokenGap}: one ITL gap into the cached series' histogram, as the meter's gap
 *       listener does once per token-bearing event.
 *   <li>{@code onFinished}: one finished streaming request (TTFT, TTFB, TPOT, request overhead,
 *       duration, request counter, four token counters, two token summaries), once per request.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class MetricsRecordingBenchmark {
  private static final int GAPS = 1024; // a power of two

  private TokentapMetrics metrics;
  private TokentapMetrics.Series series;
  private final long[] gaps = new long[GAPS];
  private int next;
  private FinishedRequest finished;

  @Setup(Level.Trial)
  public void setup() {
    PrometheusMeterRegistry registry = MetricsClock.prometheusRegistry();
    List<SloRule> slos =
        List.of(new SloRule("*", "chat", Duration.ofMillis(500), Duration.ofMillis(50), Duration.ofSeconds(30)));
    metrics = new TokentapMetrics(registry, slos);
    series = metrics.series("gpt-4o", Route.CHAT.label(), "openai", Role.PRIMARY);

    // Gaps spread over 2-120 ms, so updates land in different histogram buckets.
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < GAPS; i++) {
      gaps[i] = random.nextLong(2_000_000L, 120_000_000L);
    }

    // A real meter result: openai-chat-usage.sse, head at 180 ms, one event every 20 ms.
    long start = 1_000_000_000L;
    StreamFixture f = StreamFixture.load("openai-chat-usage.sse", StreamMeterBenchmark.OPENAI_CHAT_EVENTS);
    StreamMeter meter = new StreamMeter(Route.CHAT, false, series, StreamMeterBenchmark.MAX_BODY);
    long nanos = start + 180_000_000L;
    meter.onResponseHead(200, "text/event-stream; charset=utf-8", nanos);
    for (int i = 0; i < f.readCount(); i++) {
      nanos += 20_000_000L;
      meter.onBody(f.bytes, f.readOffset(i), f.readLength(i), nanos);
    }
    meter.onComplete(nanos + 100_000L);
    MeterResult result = meter.result();
    finished =
        new FinishedRequest(
            Role.PRIMARY,
            "openai",
            Route.CHAT,
            "gpt-4o",
            "POST",
            System.currentTimeMillis(),
            start,
            start + 40_000L,
            start + 95_000L,
            result.endNanos(),
            200,
            result.outcome(),
            "met",
            1_234L,
            result.bodyBytes(),
            result,
            1);
    metrics.onFinished(finished); // registers the duration timer and request counter up front
  }

  @Benchmark
  public void interTokenGap() {
    series.interTokenGap(gaps[next++ & (GAPS - 1)]);
  }

  @Benchmark
  public void onFinished() {
    metrics.onFinished(finished);
  }
}
