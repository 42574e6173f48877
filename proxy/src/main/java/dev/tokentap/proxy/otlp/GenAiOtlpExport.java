package dev.tokentap.proxy.otlp;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestListener;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.core.instrument.util.NamedThreadFactory;
import io.micrometer.registry.otlp.AggregationTemporality;
import io.micrometer.registry.otlp.HistogramFlavor;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Pushes each finished request's measurements over OTLP/HTTP under the OpenTelemetry GenAI
 * semantic-convention names (docs/opentelemetry.md): a Micrometer {@link OtlpMeterRegistry} of its
 * own beside the Prometheus one, base-2 exponential histograms (or explicit buckets at the
 * conventions' boundaries), cumulative temporality. Values are
 * the ones /metrics holds, in seconds and tokens; the attributes are the GenAI ones plus tokentap's
 * own labels under {@code tokentap.*}.
 */
public final class GenAiOtlpExport implements RequestListener, AutoCloseable {
  static final String TTFT = "gen_ai.server.time_to_first_token";
  static final String TPOT = "gen_ai.server.time_per_output_token";
  static final String DURATION = "gen_ai.client.operation.duration";
  static final String TOKENS = "gen_ai.client.token.usage";

  /** Explicit bucket boundaries the GenAI conventions advise, for {@code histograms = explicit}. */
  static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};
  static final double[] TPOT_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5};
  static final double[] DURATION_BUCKETS = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
  static final double[] TOKEN_BUCKETS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

  private final OtlpMeterRegistry registry;
  private final boolean exponential;

  private GenAiOtlpExport(OtlpMeterRegistry registry, boolean exponential) {
    this.registry = registry;
    this.exponential = exponential;
  }

  public static GenAiOtlpExport start(Settings.Otlp otlp) {
    OtlpConfig config = new OtlpConfig() {
      @Override
      public String get(String key) {
        return null;
      }

      @Override
      public String url() {
        return otlp.endpoint();
      }

      @Override
      public Duration step() {
        return otlp.interval();
      }

      @Override
      public Map<String, String> headers() {
        return otlp.headers();
      }

      @Override
      public Map<String, String> resourceAttributes() {
        Map<String, String> attributes = new HashMap<>(OtlpConfig.super.resourceAttributes());
        String service = attributes.get("service.name");
        if (service == null || service.isBlank() || service.startsWith("unknown_service")) {
          attributes.put("service.name", "tokentap");
        }
        return attributes;
      }

      @Override
      public AggregationTemporality aggregationTemporality() {
        return AggregationTemporality.CUMULATIVE;
      }

      @Override
      public HistogramFlavor histogramFlavor() {
        return otlp.exponential() ? HistogramFlavor.BASE2_EXPONENTIAL_BUCKET_HISTOGRAM : HistogramFlavor.EXPLICIT_BUCKET_HISTOGRAM;
      }
    };
    OtlpMeterRegistry registry = new OtlpMeterRegistry(config, Clock.SYSTEM, new NamedThreadFactory("tokentap-otlp"));
    registry.config().namingConvention(NamingConvention.identity);
    return new GenAiOtlpExport(registry, otlp.exponential());
  }

  @Override
  public void onFinished(FinishedRequest r) {
    Tags tags = attributes(r);
    boolean ok = r.outcome() == Outcome.OK;
    if (ok) { // the conventions count successful responses only in the server TTFT and TPOT
      seconds(TTFT, "Time to first token: first request byte to the first token-bearing event", tags, r.ttftSeconds(), TTFT_BUCKETS);
      seconds(TPOT, "Time per output token after the first, one value per request", tags, r.tpotSeconds(), TPOT_BUCKETS);
    }
    seconds(DURATION, "End-to-end request duration: first request byte to the end of the response",
        ok ? tags : tags.and("error.type", r.outcome().label()), r.e2eSeconds(), DURATION_BUCKETS);
    tokens(tags.and("gen_ai.token.type", "input"), r.inputTokens());
    tokens(tags.and("gen_ai.token.type", "output"), r.outputTokens());
  }

  /**
   * A duration in seconds. The exponential histogram's zero bucket holds values below the minimum
   * expected value (1 by default): 1 µs keeps every measured duration in a real bucket.
   */
  private void seconds(String name, String description, Tags tags, double value, double[] buckets) {
    if (!Double.isNaN(value)) {
      histogram(name, "s", description, tags, 1e-6, buckets).record(value);
    }
  }

  private void tokens(Tags tags, long tokens) {
    if (tokens >= 0) {
      histogram(TOKENS, "{token}", "Tokens per request, by type (input: prompt, output: generated)", tags, 1, TOKEN_BUCKETS).record(tokens);
    }
  }

  private DistributionSummary histogram(String name, String unit, String description, Tags tags, double minimum, double[] buckets) {
    DistributionSummary.Builder b = DistributionSummary.builder(name).baseUnit(unit).description(description).tags(tags);
    if (exponential) {
      b.publishPercentileHistogram().minimumExpectedValue(minimum);
    } else {
      b.serviceLevelObjectives(buckets);
    }
    return b.register(registry);
  }

  /** The GenAI attributes of a request, and tokentap's labels (target, role, route, tenant). */
  static Tags attributes(FinishedRequest r) {
    Tags tags = Tags.of("gen_ai.operation.name", operation(r.route()), "gen_ai.provider.name", provider(r.route()),
        "gen_ai.request.model", r.model(), "tokentap.route", r.route().label(), "tokentap.target", r.target(), "tokentap.role", r.role().label());
    return r.tenant() == null ? tags : tags.and("tokentap.tenant", r.tenant());
  }

  /** gen_ai.operation.name: the well-known value the route's API stands for. */
  static String operation(Route route) {
    return switch (route) {
      case CHAT, RESPONSES, MESSAGES -> "chat";
      case COMPLETIONS, GENERATE -> "text_completion";
      case EMBEDDINGS -> "embeddings";
      case OTHER -> "other";
    };
  }

  /**
   * gen_ai.provider.name: the API dialect the upstream speaks (anthropic for /v1/messages, openai for
   * the OpenAI-compatible routes), not who runs the model; generate and other routes are "unknown".
   */
  static String provider(Route route) {
    return switch (route) {
      case MESSAGES -> "anthropic";
      case CHAT, COMPLETIONS, RESPONSES, EMBEDDINGS -> "openai";
      case GENERATE, OTHER -> "unknown";
    };
  }

  /** Pushes what is left, then stops. */
  @Override
  public void close() {
    registry.close();
  }
}
