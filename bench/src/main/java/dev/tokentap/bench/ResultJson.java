package dev.tokentap.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.record.FinishedRequest;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One run's result object: every key vLLM {@code bench serve} writes to its result JSON, with its
 * units and its nulls ({@code vllm/benchmarks/serve.py}: {@code request_goodput} null without SLOs,
 * {@code max_concurrency} null without a ceiling, {@code request_rate} {@code "inf"} for a closed
 * loop, {@code label} null), then tokentap's own keys (docs/bench.md). Integral values are written
 * as integers; an undefined value (NaN, a percentile of nothing) is null, never {@code NaN}.
 */
final class ResultJson {
  private static final DateTimeFormatter VLLM_DATE = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private ResultJson() {}

  static ObjectNode of(BenchReport r) {
    ObjectNode o = new ObjectMapper().createObjectNode();
    LoadPlan load = r.load();
    FinishedRequest first = r.measured().stream().map(BenchSample::record).findFirst().orElse(null);
    long startMillis = r.measured().stream().mapToLong(s -> s.record().wallClockStartMillis()).min().orElse(System.currentTimeMillis());
    o.put("date", VLLM_DATE.format(Instant.ofEpochMilli(startMillis).atZone(ZoneId.systemDefault())));
    String backend = first == null ? null : backend(first.route());
    o.put("endpoint_type", backend);
    o.put("backend", backend);
    o.putNull("label");
    String model = first == null ? null : first.model();
    o.put("model_id", model);
    // Token counts come from the server's usage, not a client tokenizer: vLLM's default, the model's own.
    o.put("tokenizer_id", model);
    o.put("num_prompts", r.requests);
    if (load.closedLoop()) {
      o.put("request_rate", "inf");
      number(o, "burstiness", 1);
      o.put("max_concurrency", load.concurrency());
    } else {
      number(o, "request_rate", r.targetRequestRate());
      number(o, "burstiness", load.burstiness());
      if (load.concurrency() > 0) {
        o.put("max_concurrency", load.concurrency());
      } else {
        o.putNull("max_concurrency");
      }
    }
    number(o, "duration", r.durationSeconds);
    o.put("completed", r.completed);
    o.put("failed", r.failed);
    o.put("total_input_tokens", r.totalInputTokens);
    o.put("total_output_tokens", r.totalOutputTokens);
    number(o, "request_throughput", r.requestThroughput);
    number(o, "request_goodput", r.requestGoodput);
    number(o, "output_throughput", r.outputThroughput);
    number(o, "total_token_throughput", r.totalTokenThroughput);
    number(o, "max_output_tokens_per_s", r.timeline().maxOutputTokensPerSecond());
    o.put("max_concurrent_requests", r.maxConcurrentRequests);
    stats(o, "ttft", r.ttftMs);
    stats(o, "tpot", r.tpotMs);
    stats(o, "itl", r.itlMs);
    stats(o, "e2el", r.e2elMs);

    o.put("workload", r.workload());
    o.put("load", load.describe());
    o.put("warmup_requests", r.warmupRequests);
    if (!load.closedLoop()) {
      if (load.arrivals() == ArrivalSchedule.Kind.TRACE) {
        number(o, "trace_speed", load.rate());
      }
      o.put("arrivals", load.arrivals().name().toLowerCase(Locale.ROOT));
      number(o, "achieved_request_rate", r.achievedRequestRate);
      number(o, "scheduled_request_rate", r.scheduledRequestRate);
    }
    o.put("slo", r.slo().describe());
    if (!r.slo().isEmpty()) {
      o.put("good_requests", r.good);
      number(o, "slo_attainment", r.sloAttainment);
      ObjectNode by = o.putObject("slo_attainment_by_metric");
      r.attainmentByMetric.forEach(by::put);
      o.put("binding_constraint", r.bindingConstraint());
    }
    o.put("max_in_flight", r.maxInFlight());
    stats(o, "client_queue_time", r.queueMs);
    stats(o, "schedule_lag", r.scheduleLagMs);
    ObjectNode err = o.putObject("errors");
    r.errors.forEach(err::put);
    ResultBreakdowns.addTo(o, r);
    o.put("generator_late", r.generator.late());
    o.put("generator_late_reason", r.generator.lateness().reason());
    o.set("generator", r.generator.toJson());
    return o;
  }

  /** vLLM's {@code --backend} for the route the requests took. */
  static String backend(Route route) {
    return switch (route) {
      case CHAT -> "openai-chat";
      case COMPLETIONS -> "openai";
      default -> "openai-" + route.label();
    };
  }

  /** Mean, median, std and p50/p90/p99 in ms, vLLM's names; null when nothing was measured (vLLM writes 0 then). */
  private static void stats(ObjectNode o, String name, Stats s) {
    boolean none = s.count() == 0;
    number(o, "mean_" + name + "_ms", none ? Double.NaN : s.mean());
    number(o, "median_" + name + "_ms", none ? Double.NaN : s.median());
    number(o, "std_" + name + "_ms", none ? Double.NaN : s.std());
    number(o, "p50_" + name + "_ms", none ? Double.NaN : s.p50());
    number(o, "p90_" + name + "_ms", none ? Double.NaN : s.p90());
    number(o, "p99_" + name + "_ms", none ? Double.NaN : s.p99());
  }

  /** An integral value as an integer ({@code 6}, not {@code 6.0}); NaN and infinities as null. */
  static void number(ObjectNode o, String key, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      o.putNull(key);
    } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      o.put(key, (long) v);
    } else {
      o.put(key, v);
    }
  }
}
