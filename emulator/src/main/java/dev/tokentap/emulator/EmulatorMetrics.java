package dev.tokentap.emulator;

import java.util.concurrent.atomic.LongAdder;

/**
 * The emulator's own counters and engine gauges, and their Prometheus text under vLLM's names, so
 * that whatever scrapes a vLLM server (dashboards, capacity estimates) can scrape the emulator.
 *
 * <p>Names, help texts and the {@code model_name}/{@code engine} labels follow vLLM V1's {@code
 * vllm/v1/metrics/loggers.py}; counters are exposed the way prometheus_client does, with the {@code
 * _total} suffix in the TYPE line. Gauges are written by the engine thread only; counters by any
 * thread.
 */
final class EmulatorMetrics {

  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final String modelLabel;

  private volatile int running;
  private volatile int waiting;
  private volatile double kvCacheUsage;

  private final LongAdder requests = new LongAdder();
  private final LongAdder cancelled = new LongAdder();
  private final LongAdder promptTokens = new LongAdder();
  private final LongAdder generationTokens = new LongAdder();
  private final LongAdder finishedStop = new LongAdder();
  private final LongAdder finishedLength = new LongAdder();
  private final LongAdder finishedAbort = new LongAdder();

  EmulatorMetrics(String servedModelName) {
    this.modelLabel = escapeLabel(servedModelName);
  }

  void publishEngineState(int running, int waiting, double kvCacheUsage) {
    this.running = running;
    this.waiting = waiting;
    this.kvCacheUsage = kvCacheUsage;
  }

  void addEngineTokens(long prompt, long generated) {
    if (prompt > 0) {
      promptTokens.add(prompt);
    }
    if (generated > 0) {
      generationTokens.add(generated);
    }
  }

  void requestAccepted() {
    requests.increment();
  }

  /** Counts a finished request by how it ended (vLLM's finished_reason: stop, length or abort). */
  void requestFinished(String finishReason) {
    switch (finishReason) {
      case "stop" -> finishedStop.increment();
      case "length" -> finishedLength.increment();
      case "cancelled" -> {
        cancelled.increment();
        finishedAbort.increment();
      }
      default -> finishedAbort.increment();
    }
  }

  EngineStats stats() {
    return new EngineStats(running, waiting, kvCacheUsage, requests.sum(), cancelled.sum());
  }

  /** The Prometheus text exposition (format 0.0.4). */
  String scrape() {
    String labels = "{engine=\"0\",model_name=\"" + modelLabel + "\"}";
    StringBuilder sb = new StringBuilder(2048);
    gauge(
        sb,
        "vllm:num_requests_running",
        "Number of requests in model execution batches.",
        labels,
        running);
    gauge(
        sb,
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        labels,
        waiting);
    double usage = kvCacheUsage;
    gauge(
        sb,
        "vllm:kv_cache_usage_perc",
        "KV-cache usage. 1 means 100 percent usage.",
        labels,
        usage);
    gauge(
        sb,
        "vllm:gpu_cache_usage_perc",
        "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: use vllm:kv_cache_usage_perc.",
        labels,
        usage);
    header(
        sb, "vllm:request_success_total", "Count of successfully processed requests.", "counter");
    for (String reason : new String[] {"stop", "length", "abort"}) {
      LongAdder a =
          reason.equals("stop")
              ? finishedStop
              : reason.equals("length") ? finishedLength : finishedAbort;
      sb.append("vllm:request_success_total{engine=\"0\",finished_reason=\"")
          .append(reason)
          .append("\",model_name=\"")
          .append(modelLabel)
          .append("\"} ")
          .append((double) a.sum())
          .append('\n');
    }
    counter(
        sb,
        "vllm:prompt_tokens_total",
        "Number of prefill tokens processed.",
        labels,
        promptTokens.sum());
    counter(
        sb,
        "vllm:generation_tokens_total",
        "Number of generation tokens processed.",
        labels,
        generationTokens.sum());
    return sb.toString();
  }

  private static void gauge(
      StringBuilder sb, String name, String help, String labels, double value) {
    header(sb, name, help, "gauge");
    sb.append(name).append(labels).append(' ').append(value).append('\n');
  }

  private static void counter(
      StringBuilder sb, String name, String help, String labels, long value) {
    header(sb, name, help, "counter");
    sb.append(name).append(labels).append(' ').append((double) value).append('\n');
  }

  private static void header(StringBuilder sb, String name, String help, String type) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static String escapeLabel(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
