package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.tap.TappedRequest;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Compares the models (docs/shadow.md, "Comparing models"): samples a share of the production
 * requests the targets mirror into {@link OutputPair}s, keeps at most {@code max-pending} of them
 * waiting (a sampled request beyond is dropped and counted), and hands each scored pair to its
 * target's {@link ComparedPairs}. With compare off ({@code sample = 0}) nothing is sampled and no
 * output is kept.
 */
final class OutputComparison {
  private final Settings.Shadow.Compare settings;
  private final Map<String, ComparedPairs> targets = new HashMap<>();
  private final String baseline;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger mostPending = new AtomicInteger();
  private final PairSamples samples; // opt-in; null without a samples file

  OutputComparison(Settings.Shadow.Compare settings, List<StagingTarget> targets, TokentapMetrics metrics, int capacity) throws IOException {
    this.settings = settings;
    this.samples = settings.enabled() && settings.samplesFile() != null ? new PairSamples(settings.samplesFile(), settings.samplesMaxPairs()) : null;
    String base = null;
    for (StagingTarget t : targets) {
      this.targets.put(t.name(), new ComparedPairs(t.name(), metrics, capacity));
      if (t.settings().baseline() && base == null) {
        base = t.name();
      }
    }
    this.baseline = base;
  }

  boolean enabled() {
    return settings.enabled();
  }

  /**
   * On a client loop, before the request is offered to the targets: a pair to fill, or null when
   * the request is not sampled, or is sampled while max-pending pairs wait (counted dropped for
   * each target that mirrors it).
   */
  OutputPair sample(TappedRequest request, List<StagingTarget> all) {
    if (!settings.enabled() || ThreadLocalRandom.current().nextDouble() >= settings.sample()) {
      return null;
    }
    if (pending.incrementAndGet() > settings.maxPending()) {
      pending.decrementAndGet();
      long now = System.nanoTime();
      for (StagingTarget t : all) {
        if (t.matches(request)) {
          targets.get(t.name()).dropped(now);
        }
      }
      return null;
    }
    mostPending.accumulateAndGet(pending.get(), Math::max);
    JsonNode body = SideOutput.parse(request.body());
    return new OutputPair(request.api(), samples == null ? null : requestId(request), deterministic(body), jsonAsked(body), settings.maxTokens(),
        this::scored, pending::decrementAndGet);
  }

  private void scored(OutputPair pair, String target, PairScores scores, SideOutput shadow) {
    targets.get(target).add(scores, System.nanoTime());
    if (samples != null) {
      samples.offer(target, pair.requestId(), scores, pair.production(), shadow);
    }
  }

  private static String requestId(TappedRequest request) {
    for (Map.Entry<String, String> h : request.headers()) {
      if (h.getKey().equalsIgnoreCase("x-request-id")) {
        return h.getValue();
      }
    }
    return null;
  }

  /** Closes the samples file, if any, after what was queued is written. */
  void close() {
    if (samples != null) {
      try {
        samples.close();
      } catch (IOException e) {
        org.slf4j.LoggerFactory.getLogger(OutputComparison.class).warn("shadow compare samples: {}", e.toString());
      }
    }
  }

  /** Temperature 0 or a seed: the same request should get the same answer. */
  static boolean deterministic(JsonNode body) {
    if (body == null) {
      return false;
    }
    JsonNode temperature = body.has("temperature") ? body.get("temperature") : body.path("options").get("temperature");
    JsonNode seed = body.has("seed") ? body.get("seed") : body.path("options").get("seed");
    return (temperature != null && temperature.isNumber() && temperature.doubleValue() == 0) || (seed != null && !seed.isNull());
  }

  /** OpenAI's response_format json_object or json_schema; Ollama's format. */
  static boolean jsonAsked(JsonNode body) {
    if (body == null) {
      return false;
    }
    String type = body.path("response_format").path("type").asText("");
    JsonNode ollama = body.get("format");
    return type.equals("json_object") || type.equals("json_schema") || (ollama != null && !ollama.isNull() && !ollama.asText().isEmpty());
  }

  /** Pairs waiting now, and the most that ever waited at once. */
  int pending() {
    return pending.get();
  }

  int mostPending() {
    return mostPending.get();
  }

  /**
   * The {@code compare} section of a target's summary: its figures since {@code sinceNanos}, and
   * when a baseline target exists and this is another, each figure beside the baseline's.
   */
  void summary(String target, long sinceNanos, ObjectNode node) {
    if (!settings.enabled()) {
      return;
    }
    PairStats stats = targets.get(target).since(sinceNanos);
    ObjectNode compare = stats.json();
    compare.put("baseline", target.equals(baseline));
    node.set("compare", compare);
    if (baseline != null && !target.equals(baseline)) {
      ObjectNode versus = PairStats.versus(stats, targets.get(baseline).since(sinceNanos));
      versus.put("baseline_target", baseline);
      node.set("compare_vs_baseline", versus);
    }
  }
}
