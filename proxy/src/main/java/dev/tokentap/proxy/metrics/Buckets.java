package dev.tokentap.proxy.metrics;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.TreeSet;

/**
 * Histogram bucket boundaries. Each latency set is the union of vLLM's buckets and the OpenTelemetry
 * GenAI conventions' for the same quantity, reaching vLLM's tails (TTFT 2560 s, E2E 7680 s), plus
 * finer boundaries below vLLM's first one (a proxy in front of a fast server sees sub-millisecond
 * gaps). Every configured SLO threshold is added as an exact boundary, so a latency SLO is
 * {@code bucket{le="threshold"} / count}.
 *
 * <p>Sources: vLLM {@code vllm/v1/metrics/loggers.py}; OpenTelemetry {@code gen-ai-metrics.md}
 * ({@code gen_ai.server.time_to_first_token}, {@code time_per_output_token}, {@code request.duration},
 * {@code gen_ai.client.token.usage}).
 */
public final class Buckets {
  private Buckets() {}

  /** vLLM {@code time_to_first_token_seconds} (a superset of OTel's server TTFT) + sub-ms + common SLOs. */
  static final double[] TIME_TO_FIRST_TOKEN = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.2, 0.25, 0.3, 0.5,
    0.75, 1, 2, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560
  };

  /** vLLM {@code inter_token_latency_seconds} (a superset of OTel's TPOT) + sub-10 ms. */
  static final double[] PER_TOKEN = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04,
    0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80
  };

  /** vLLM {@code e2e_request_latency_seconds} (with .1, .2) ∪ OTel {@code request.duration} + sub-10 ms. */
  static final double[] REQUEST_DURATION = {
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.1, 0.16, 0.2, 0.3, 0.32, 0.5, 0.64, 0.8, 1, 1.28, 1.5,
    2, 2.5, 2.56, 5, 5.12, 10, 10.24, 15, 20, 20.48, 30, 40, 40.96, 50, 60, 81.92, 120, 240, 480, 960,
    1920, 7680
  };

  /** OTel {@code gen_ai.client.token.usage} ∪ a 1-2-5 series to 1M tokens. */
  static final double[] TOKENS = {
    1, 2, 4, 5, 10, 16, 20, 50, 64, 100, 200, 256, 500, 1000, 1024, 2000, 4096, 5000, 10000, 16384, 20000,
    50000, 65536, 100000, 200000, 262144, 500000, 1000000, 1048576, 4194304, 16777216, 67108864
  };

  /**
   * Tokens one stream event carried: 1 is plain decoding; a spread above it shows speculative
   * decoding (EAGLE/MTP accept a few tokens per step), stream intervals or merged deltas under load.
   */
  static final double[] TOKENS_PER_EVENT = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64, 128, 256};

  /**
   * A similarity in percent: tenths, finer near 100 where near-identical answers differ. Whole
   * numbers, as Micrometer rounds a summary's value up to one before filing it in a bucket.
   */
  static final double[] SIMILARITY_PERCENT = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100};

  /** A ratio around 100 %, spaced about evenly in its logarithm (as much shorter as longer); whole numbers. */
  static final double[] OUTPUT_RATIO_PERCENT = {25, 50, 67, 80, 90, 95, 100, 105, 111, 125, 150, 200, 400};

  /** Proxy overhead: microseconds are the expected range; milliseconds are a problem worth seeing. */
  static final double[] OVERHEAD = {
    0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005, 0.01, 0.025, 0.1
  };

  /** {@code base} plus each threshold, sorted, as Durations for Micrometer's SLO boundaries. */
  static Duration[] durations(double[] baseSeconds, Collection<Duration> thresholds) {
    TreeSet<Long> nanos = new TreeSet<>();
    for (double s : baseSeconds) {
      nanos.add(Math.round(s * 1e9));
    }
    for (Duration d : thresholds) {
      nanos.add(d.toNanos());
    }
    return nanos.stream().map(Duration::ofNanos).toArray(Duration[]::new);
  }

  static double[] values(double[] base) {
    return Arrays.copyOf(base, base.length);
  }
}
