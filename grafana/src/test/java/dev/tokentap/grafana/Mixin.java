package dev.tokentap.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders the mixin's rules and alerts from {@code grafana/values.yaml}, the one place thresholds
 * live. {@link MixinFilesTest} checks the committed files equal this output and rewrites them when
 * run with {@code -Dtokentap.grafana.regenerate=true}. Dashboards are rendered by {@link Dashboards}.
 */
final class Mixin {
  static final List<String> WINDOWS = List.of("5m", "30m", "1h", "2h", "6h", "1d", "3d");

  /** A histogram the mixin summarises: short name, Prometheus base name, title. */
  record Hist(String key, String metric, String title) {}

  static final List<Hist> LATENCIES = List.of(
      new Hist("ttft", "tokentap_time_to_first_token_seconds", "Time to first token"),
      new Hist("tpot", "tokentap_time_per_output_token_seconds", "Time per output token"),
      new Hist("itl", "tokentap_inter_token_latency_seconds", "Inter-token latency"),
      new Hist("e2e", "tokentap_request_duration_seconds", "End-to-end latency"),
      new Hist("ttfb", "tokentap_time_to_first_byte_seconds", "Time to first byte"));

  /** An SLI: name, title, the bad-ratio expression over window {@code W}. */
  record Sli(String key, String title, String objectiveKey, String errorExpr, String anchor, String meaning) {}

  final JsonNode values;

  Mixin(JsonNode values) {
    this.values = values;
  }

  static Mixin load(Path valuesYaml) throws IOException {
    return new Mixin(new ObjectMapper(new YAMLFactory()).readTree(valuesYaml.toFile()));
  }

  String tt() {
    return values.path("tokentapSelector").asText();
  }

  String srv() {
    return values.path("serverSelector").asText();
  }

  List<Sli> slis() {
    String p = tt() + ",role=\"primary\"";
    String by = "sum by (model, target)";
    return List.of(
        new Sli("ttft", "TTFT", "ttft",
            "1 - (" + by + " (rate(tokentap_time_to_first_token_seconds_bucket{" + p + ",le=\"" + values.path("ttftThresholdLe").asText() + "\"}[W]))\n  / " + by + " (rate(tokentap_time_to_first_token_seconds_count{" + p + "}[W])))",
            "tokentapttfterrorbudgetburn", "slower than " + values.path("ttftThresholdLe").asText() + " s to their first token"),
        new Sli("tpot", "TPOT", "tpot",
            "1 - (" + by + " (rate(tokentap_time_per_output_token_seconds_bucket{" + p + ",le=\"" + values.path("tpotThresholdLe").asText() + "\"}[W]))\n  / " + by + " (rate(tokentap_time_per_output_token_seconds_count{" + p + "}[W])))",
            "tokentaptpoterrorbudgetburn", "slower than " + values.path("tpotThresholdLe").asText() + " s per output token"),
        new Sli("errors", "Errors", "errors",
            "(" + by + " (rate(tokentap_requests_total{" + p + ",outcome=~\"error|upstream_abort|timeout|rejected\"}[W]))\n  or 0 * " + by + " (rate(tokentap_requests_total{" + p + "}[W])))\n/ " + by + " (rate(tokentap_requests_total{" + p + "}[W]))",
            "tokentaperrorserrorbudgetburn", "errors (error, upstream_abort, timeout or rejected)"),
        new Sli("goodput", "Goodput", "goodput",
            "1 - (" + by + " (rate(tokentap_requests_total{" + p + ",slo=\"met\"}[W]))\n  or 0 * " + by + " (rate(tokentap_requests_total{" + p + ",slo!=\"none\"}[W])))\n/ " + by + " (rate(tokentap_requests_total{" + p + ",slo!=\"none\"}[W]))",
            "tokentapgoodputerrorbudgetburn", "not good (not ok, or over an SLO threshold)"));
  }

  static String sliRecord(Sli s, String window) {
    return "model_target:tokentap_" + s.key() + "_slo_errors:ratio_rate" + window;
  }

  Map<String, String> files() {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("rules/tokentap-latency.rules.yml", latencyRules());
    out.put("rules/tokentap-slo.rules.yml", sloRules());
    out.put("rules/tokentap-saturation.rules.yml", saturationRules());
    out.put("rules/tokentap-otel-genai.rules.yml", otelRules());
    out.put("alerts/tokentap-slo.alerts.yml", sloAlerts());
    out.put("alerts/tokentap-saturation.alerts.yml", saturationAlerts());
    out.put("rules/tokentap-model-comparison.rules.yml", new ModelComparison(this).rules());
    out.put("alerts/tokentap-model-comparison.alerts.yml", new ModelComparison(this).alerts());
    out.put("../deploy/k8s/prometheusrule.yaml", prometheusRule(out));
    return out;
  }

  /**
   * The same rule groups as one prometheus-operator {@code PrometheusRule}, for clusters where
   * rules are resources rather than files.
   */
  static String prometheusRule(Map<String, String> files) {
    StringBuilder sb = new StringBuilder(HEADER);
    sb.append("# Every group of grafana/rules/ and grafana/alerts/, for the prometheus-operator (kube-prometheus-stack).\n");
    sb.append("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: tokentap\n  labels:\n");
    sb.append("    app.kubernetes.io/name: tokentap\n    release: prometheus  # match your Prometheus' ruleSelector\n");
    sb.append("spec:\n  groups:\n");
    files.forEach((name, text) -> {
      if (name.startsWith("rules/") || name.startsWith("alerts/")) {
        String groups = text.substring(text.indexOf("\ngroups:\n") + "\ngroups:\n".length());
        for (String line : groups.split("\n")) {
          sb.append(line.isEmpty() ? "" : "  " + line).append('\n');
        }
      }
    });
    return sb.toString();
  }

  static final String HEADER = "# Generated from grafana/values.yaml by grafana/src/test/java/dev/tokentap/grafana/Mixin.java.\n"
      + "# Do not edit by hand: edit values.yaml and regenerate (see grafana/README.md).\n";

  static void rule(StringBuilder sb, String record, String expr, Map<String, String> labels) {
    sb.append("      - record: ").append(record).append('\n');
    sb.append("        expr: |-\n");
    for (String line : expr.split("\n")) {
      sb.append("          ").append(line).append('\n');
    }
    if (labels != null && !labels.isEmpty()) {
      sb.append("        labels:\n");
      labels.forEach((k, v) -> sb.append("          ").append(k).append(": ").append(quote(v)).append('\n'));
    }
  }

  static String quote(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  String latencyRules() {
    StringBuilder sb = new StringBuilder(HEADER).append("groups:\n");
    sb.append("  - name: tokentap-latency\n    rules:\n");
    String sel = "{" + tt() + "}";
    for (Hist h : LATENCIES) {
      String lvl = "model_target_role:" + h.metric();
      String by = "sum by (model, target, role, le)";
      rule(sb, lvl + "_bucket:rate5m", by + " (rate(" + h.metric() + "_bucket" + sel + "[5m]))", null);
      for (String q : List.of("0.5", "0.9", "0.99")) {
        String name = "p" + (q.equals("0.5") ? "50" : q.equals("0.9") ? "90" : "99");
        rule(sb, lvl + ":" + name + "_rate5m", "histogram_quantile(" + q + ", " + lvl + "_bucket:rate5m)", null);
      }
      rule(sb, lvl + ":mean_rate5m",
          "sum by (model, target, role) (rate(" + h.metric() + "_sum" + sel + "[5m]))\n/ sum by (model, target, role) (rate(" + h.metric() + "_count" + sel + "[5m]))", null);
    }
    return sb.toString();
  }

  String sloRules() {
    StringBuilder sb = new StringBuilder(HEADER).append("groups:\n");
    for (Sli s : slis()) {
      sb.append("  - name: tokentap-slo-").append(s.key()).append("\n    rules:\n");
      for (String w : WINDOWS) {
        rule(sb, sliRecord(s, w), s.errorExpr().replace("[W]", "[" + w + "]"), null);
      }
      double objective = values.path("objectives").path(s.objectiveKey()).asDouble();
      rule(sb, "tokentap:slo_objective:ratio", "vector(" + fmt(objective) + ")", Map.of("sli", s.key()));
    }
    String p = tt() + ",role=\"primary\"";
    sb.append("  - name: tokentap-throughput\n    rules:\n");
    rule(sb, "model_target:tokentap_requests:rate5m", "sum by (model, target) (rate(tokentap_requests_total{" + p + "}[5m]))", null);
    rule(sb, "model_target:tokentap_goodput_requests:rate5m",
        "sum by (model, target) (rate(tokentap_requests_total{" + p + ",slo=\"met\"}[5m]))\nor 0 * model_target:tokentap_requests:rate5m", null);
    rule(sb, "model_target_outcome:tokentap_requests:rate5m", "sum by (model, target, outcome) (rate(tokentap_requests_total{" + p + "}[5m]))", null);
    rule(sb, "model_target_type:tokentap_tokens:rate5m", "sum by (model, target, type) (rate(tokentap_tokens_total{" + p + "}[5m]))", null);
    return sb.toString();
  }

  String saturationRules() {
    JsonNode sat = values.path("saturation");
    StringBuilder sb = new StringBuilder(HEADER).append("groups:\n");
    sb.append("  - name: tokentap-saturation\n    rules:\n");
    rule(sb, "target_role:tokentap_requests_in_flight:sum", "sum by (target, role) (tokentap_requests_in_flight{" + tt() + "})", null);
    rule(sb, "model_name:vllm_num_requests_waiting:sum", "sum by (model_name) (vllm:num_requests_waiting{" + srv() + "})", null);
    rule(sb, "model_name:vllm_num_requests_running:sum", "sum by (model_name) (vllm:num_requests_running{" + srv() + "})", null);
    rule(sb, "model_name:vllm_kv_cache_usage_perc:max", "max by (model_name) (vllm:kv_cache_usage_perc{" + srv() + "})", null);
    String q = "model_name:vllm_num_requests_waiting:sum / " + fmt(sat.path("serverQueueMax").asDouble());
    String kv = "model_name:vllm_kv_cache_usage_perc:max / " + fmt(sat.path("kvCacheMax").asDouble());
    rule(sb, "model_name:inference_server_saturation:ratio", "(" + q + ") > (" + kv + ")\nor (" + kv + ")", null);
    rule(sb, "direction:tokentap_proxy_overhead_seconds:p99_rate5m",
        "histogram_quantile(0.99, sum by (direction, le) (rate(tokentap_proxy_overhead_seconds_bucket{" + tt() + "}[5m])))", null);
    rule(sb, "target:tokentap_capacity_saturation:ratio",
        "sum by (target) (tokentap_requests_in_flight{" + tt() + ",role=\"primary\"})\n/ max by (target) (tokentap_capacity_in_flight{" + tt() + "})", null);
    // The fleet's capacity: each sidecar's estimated knee summed per target, over the sidecars that
    // have one (> 0 drops NaN: too little evidence yet), and in flight over the same sidecars / it.
    String estimated = "tokentap_capacity_estimate_in_flight{" + tt() + "} > 0";
    rule(sb, "target:tokentap_fleet_capacity_in_flight:sum", "sum by (target) (" + estimated + ")", null);
    rule(sb, "target:tokentap_fleet_capacity_in_flight_lower:sum", "sum by (target) (tokentap_capacity_estimate_in_flight_lower{" + tt() + "} > 0)", null);
    rule(sb, "target:tokentap_fleet_saturation:ratio",
        "sum by (target) (tokentap_requests_in_flight{" + tt() + ",role=\"primary\"}\n  and on (job, instance, target) (" + estimated + "))\n/ target:tokentap_fleet_capacity_in_flight:sum", null);
    rule(sb, "target:tokentap_shadow_copies_dropped:ratio_rate5m",
        "(sum by (target) (rate(tokentap_shadow_copies_total{" + tt() + ",result=~\"dropped_.*\"}[5m]))\n  or 0 * sum by (target) (rate(tokentap_shadow_copies_total{" + tt() + "}[5m])))\n/ sum by (target) (rate(tokentap_shadow_copies_total{" + tt() + "}[5m]))", null);
    return sb.toString();
  }

  String otelRules() {
    StringBuilder sb = new StringBuilder(HEADER);
    sb.append("# The primary series republished under the OpenTelemetry GenAI server metric names, one series per\n"
        + "# tokentap series (no aggregation, so rate() and histogram_quantile() work on them), with\n"
        + "# gen_ai_request_model and gen_ai_operation_name (chat, text_completion) copied from model and route.\n"
        + "# Names are the OTel metric names as Prometheus renders them, so they cannot follow level:metric:operations.\n");
    sb.append("groups:\n  - name: tokentap-otel-genai\n    rules:\n");
    Map<String, String> names = new LinkedHashMap<>();
    names.put("gen_ai_server_time_to_first_token_seconds", "tokentap_time_to_first_token_seconds");
    names.put("gen_ai_server_time_per_output_token_seconds", "tokentap_time_per_output_token_seconds");
    names.put("gen_ai_server_request_duration_seconds", "tokentap_request_duration_seconds");
    names.forEach((otel, ours) -> {
      for (String suffix : List.of("_bucket", "_sum", "_count")) {
        String src = ours + suffix + "{" + tt() + ",role=\"primary\"}";
        String expr = "label_replace(label_replace(label_replace(\n  " + src + ",\n"
            + "  \"gen_ai_operation_name\", \"$1\", \"route\", \"(.*)\"),\n"
            + "  \"gen_ai_operation_name\", \"text_completion\", \"route\", \"completions\"),\n"
            + "  \"gen_ai_request_model\", \"$1\", \"model\", \"(.*)\")";
        rule(sb, otel + suffix, expr, null);
      }
    });
    return sb.toString();
  }

  String runbook(String anchor) {
    return values.path("runbookBase").asText() + "#" + anchor;
  }

  static void alert(StringBuilder sb, String name, String expr, String forDur, Map<String, String> labels, String summary, String description, String runbook) {
    sb.append("      - alert: ").append(name).append('\n');
    sb.append("        expr: |-\n");
    for (String line : expr.split("\n")) {
      sb.append("          ").append(line).append('\n');
    }
    if (forDur != null) {
      sb.append("        for: ").append(forDur).append('\n');
    }
    sb.append("        labels:\n");
    labels.forEach((k, v) -> sb.append("          ").append(k).append(": ").append(quote(v)).append('\n'));
    sb.append("        annotations:\n");
    sb.append("          summary: ").append(quote(summary)).append('\n');
    sb.append("          description: ").append(quote(description)).append('\n');
    sb.append("          runbook_url: ").append(quote(runbook)).append('\n');
  }

  String sloAlerts() {
    StringBuilder sb = new StringBuilder(HEADER).append("groups:\n");
    for (Sli s : slis()) {
      sb.append("  - name: tokentap-slo-").append(s.key()).append("-alerts\n    rules:\n");
      double objective = values.path("objectives").path(s.objectiveKey()).asDouble();
      double budget = 1 - objective;
      for (JsonNode br : values.path("burnRates")) {
        double factor = br.path("factor").asDouble();
        String lw = br.path("long").asText();
        String sw = br.path("short").asText();
        String threshold = fmt(factor * budget);
        String expr = sliRecord(s, lw) + " > " + threshold + "\nand\n" + sliRecord(s, sw) + " > " + threshold;
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("severity", br.path("severity").asText());
        labels.put("sli", s.key());
        labels.put("long_window", lw);
        String name = "Tokentap" + s.title() + "ErrorBudgetBurn";
        alert(sb, name, expr, br.path("for").asText(), labels,
            s.title() + " error budget of {{ $labels.model }} on {{ $labels.target }} burning " + fmt(factor) + "x too fast (" + lw + "/" + sw + ")",
            "Over the last " + lw + ", {{ $value | humanizePercentage }} of requests were " + s.meaning() + " (above " + fmt(factor * budget * 100) + "% over both " + lw + " and " + sw
                + "). The objective is " + fmt(objective * 100) + "% good, so at this rate the 30-day error budget is spent in " + String.format(Locale.ROOT, "%.1f", 30 / factor) + " days.",
            runbook(s.anchor()));
      }
    }
    return sb.toString();
  }

  String saturationAlerts() {
    JsonNode sat = values.path("saturation");
    StringBuilder sb = new StringBuilder(HEADER).append("groups:\n  - name: tokentap-saturation-alerts\n    rules:\n");
    alert(sb, "TokentapDown", "up{" + tt() + "} == 0", "5m", Map.of("severity", "page"),
        "tokentap {{ $labels.instance }} is not scraped",
        "Prometheus could not scrape tokentap's admin port at {{ $labels.instance }} for 5 minutes: either tokentap is down (and so is the traffic through it) or its metrics are lost.",
        runbook("tokentapdown"));
    alert(sb, "TokentapInFlightHigh", "target_role:tokentap_requests_in_flight:sum{role=\"primary\"} > " + fmt(sat.path("inFlightMax").asDouble()), "10m",
        Map.of("severity", "ticket"),
        "{{ $value }} requests in flight to {{ $labels.target }}",
        "More than " + fmt(sat.path("inFlightMax").asDouble()) + " requests have been in flight through tokentap to {{ $labels.target }} for 10 minutes: the server is at or past its capacity knee.",
        runbook("tokentapinflighthigh"));
    alert(sb, "TokentapNearCapacity", "target:tokentap_capacity_saturation:ratio > " + fmt(sat.path("capacitySaturationMax").asDouble()), "10m",
        Map.of("severity", "ticket"),
        "{{ $labels.target }} at {{ $value | humanizePercentage }} of its capacity knee",
        "Requests in flight to {{ $labels.target }} have been above " + fmt(sat.path("capacitySaturationMax").asDouble() * 100) + "% of tokentap_capacity_in_flight (the knee a bench sweep or shadow ramp found) for 10 minutes: SLOs break beyond it. Scale out, or re-measure the knee if the server changed.",
        runbook("tokentapnearcapacity"));
    alert(sb, "TokentapInferenceServerQueueing", "model_name:vllm_num_requests_waiting:sum > " + fmt(sat.path("serverQueueMax").asDouble()), "5m",
        Map.of("severity", "ticket"),
        "{{ $value }} requests waiting in the inference server for {{ $labels.model_name }}",
        "The inference server has had more than " + fmt(sat.path("serverQueueMax").asDouble()) + " requests waiting (vllm:num_requests_waiting) for 5 minutes: queueing adds directly to TTFT.",
        runbook("tokentapinferenceserverqueueing"));
    alert(sb, "TokentapKVCacheFull", "model_name:vllm_kv_cache_usage_perc:max > " + fmt(sat.path("kvCacheMax").asDouble()), "10m",
        Map.of("severity", "ticket"),
        "KV cache of {{ $labels.model_name }} at {{ $value | humanizePercentage }}",
        "vllm:kv_cache_usage_perc has been above " + fmt(sat.path("kvCacheMax").asDouble() * 100) + "% for 10 minutes: new requests will queue or preempt running ones.",
        runbook("tokentapkvcachefull"));
    alert(sb, "TokentapInferenceServerSaturated", "model_name:inference_server_saturation:ratio >= " + fmt(sat.path("saturationMax").asDouble()), "5m",
        Map.of("severity", "page"),
        "Inference server for {{ $labels.model_name }} saturated ({{ $value }})",
        "max(waiting / " + fmt(sat.path("serverQueueMax").asDouble()) + ", KV usage / " + fmt(sat.path("kvCacheMax").asDouble()) + ") has been at or above " + fmt(sat.path("saturationMax").asDouble())
            + " for 5 minutes (the Gateway API Inference Extension's saturation formula): scale out or shed load.",
        runbook("tokentapinferenceserversaturated"));
    alert(sb, "TokentapProxyOverheadHigh", "direction:tokentap_proxy_overhead_seconds:p99_rate5m > " + fmt(sat.path("overheadP99Max").asDouble()), "15m",
        Map.of("severity", "ticket"),
        "tokentap adds {{ $value | humanizeDuration }} at p99 ({{ $labels.direction }})",
        "The p99 of tokentap_proxy_overhead_seconds{direction=\"{{ $labels.direction }}\"} has been above " + fmt(sat.path("overheadP99Max").asDouble()) + " s for 15 minutes; it should be microseconds.",
        runbook("tokentapproxyoverheadhigh"));
    alert(sb, "TokentapShadowCopiesDropped", "target:tokentap_shadow_copies_dropped:ratio_rate5m > " + fmt(sat.path("shadowDropRatioMax").asDouble()), "15m",
        Map.of("severity", "ticket"),
        "{{ $value | humanizePercentage }} of shadow copies to {{ $labels.target }} dropped",
        "More than " + fmt(sat.path("shadowDropRatioMax").asDouble() * 100) + "% of shadow copies to {{ $labels.target }} have been dropped (queue full, bulkhead, circuit open, rate limit) for 15 minutes: the shadow results no longer represent the configured traffic.",
        runbook("tokentapshadowcopiesdropped"));
    return sb.toString();
  }

  /** Shortest decimal without float noise: 0.144, 14.4, 5, 0.01. */
  static String fmt(double d) {
    String s = String.format(Locale.ROOT, "%.10f", d).replaceAll("0+$", "").replaceAll("\\.$", "");
    return s;
  }

  static List<String> windows() {
    return new ArrayList<>(WINDOWS);
  }
}
