package dev.tokentap.grafana;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the four dashboards. Every panel gets a description and a unit; every query goes through
 * the {@code datasource} variable; latencies show P50/P90/P99 and the mean; rates use
 * {@code $__rate_interval}. No uids, no {@code current} values.
 */
final class Dashboards {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final String DS = "${datasource}";

  /** One query of a panel: PromQL and its legend. */
  record Q(String expr, String legend) {}

  /** One panel before layout. */
  record P(String type, String title, String unit, String description, List<Q> queries, int w, int h) {}

  private final List<P> panels = new ArrayList<>();
  private final String title;
  private final String description;
  private final List<String> tags;
  private boolean tenantVariable;

  Dashboards(String title, String description, List<String> tags) {
    this.title = title;
    this.description = description;
    this.tags = tags;
  }

  Dashboards add(String type, String title, String unit, String description, int w, int h, Q... queries) {
    panels.add(new P(type, title, unit, description, List.of(queries), w, h));
    return this;
  }

  /** Adds the {@code tenant} variable (tokentap.metrics.tenant; All = .*, which also matches series without the label). */
  Dashboards withTenantVariable() {
    tenantVariable = true;
    return this;
  }

  List<P> panels() {
    return panels;
  }

  static Q q(String expr, String legend) {
    return new Q(expr, legend);
  }

  /** P50/P90/P99 and mean of a histogram, split by {@code by}. */
  static Q[] latency(String metric, String selector, String by, String legendPrefix) {
    String sumBy = by.isEmpty() ? "le" : by + ", le";
    String plainBy = by.isEmpty() ? "" : " by (" + by + ")";
    List<Q> out = new ArrayList<>();
    for (String[] q : new String[][] {{"0.5", "p50"}, {"0.9", "p90"}, {"0.99", "p99"}}) {
      out.add(q("histogram_quantile(" + q[0] + ", sum by (" + sumBy + ") (rate(" + metric + "_bucket{" + selector + "}[$__rate_interval])))", legendPrefix + q[1]));
    }
    out.add(q("sum" + plainBy + " (rate(" + metric + "_sum{" + selector + "}[$__rate_interval])) / sum" + plainBy + " (rate(" + metric + "_count{" + selector + "}[$__rate_interval]))", legendPrefix + "mean"));
    return out.toArray(Q[]::new);
  }

  String render() throws Exception {
    ObjectNode d = JSON.createObjectNode();
    d.put("title", title);
    d.put("description", description);
    ArrayNode t = d.putArray("tags");
    tags.forEach(t::add);
    d.put("editable", true);
    d.put("graphTooltip", 1);
    d.put("refresh", "30s");
    d.put("schemaVersion", 39);
    d.put("timezone", "");
    ObjectNode time = d.putObject("time");
    time.put("from", "now-1h");
    time.put("to", "now");
    ObjectNode templating = d.putObject("templating");
    ArrayNode list = templating.putArray("list");
    ObjectNode ds = list.addObject();
    ds.put("name", "datasource");
    ds.put("label", "Data source");
    ds.put("type", "datasource");
    ds.put("query", "prometheus");
    ds.put("hide", 0);
    list.add(variable("model", "Model", "label_values(tokentap_requests_total, model)"));
    list.add(variable("target", "Target", "label_values(tokentap_requests_in_flight, target)"));
    if (tenantVariable) {
      list.add(variable("tenant", "Tenant", "label_values(tokentap_requests_total{role=\"primary\"}, tenant)"));
    }
    ArrayNode ps = d.putArray("panels");
    int id = 1;
    int x = 0;
    int y = 0;
    int rowH = 0;
    for (P p : panels) {
      if (x + p.w() > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      ObjectNode n = ps.addObject();
      n.put("id", id++);
      n.put("type", p.type());
      n.put("title", p.title());
      n.put("description", p.description());
      n.set("datasource", datasource());
      ObjectNode grid = n.putObject("gridPos");
      grid.put("h", p.h());
      grid.put("w", p.w());
      grid.put("x", x);
      grid.put("y", y);
      ObjectNode fieldConfig = n.putObject("fieldConfig");
      ObjectNode defaults = fieldConfig.putObject("defaults");
      defaults.put("unit", p.unit());
      defaults.putObject("custom");
      fieldConfig.putArray("overrides");
      if (p.type().equals("bargauge")) {
        ObjectNode options = n.putObject("options");
        options.putObject("reduceOptions").putArray("calcs").add("lastNotNull");
        options.put("orientation", "horizontal");
        options.put("displayMode", "gradient");
      } else if (p.type().equals("stat")) {
        ObjectNode options = n.putObject("options");
        options.putObject("reduceOptions").putArray("calcs").add("lastNotNull");
        options.put("colorMode", "value");
        options.put("graphMode", "area");
      } else {
        ObjectNode options = n.putObject("options");
        options.putObject("tooltip").put("mode", "multi").put("sort", "desc");
        options.putObject("legend").put("displayMode", "table").put("placement", "bottom").put("showLegend", true)
            .putArray("calcs").add("mean").add("lastNotNull").add("max");
      }
      ArrayNode targets = n.putArray("targets");
      char ref = 'A';
      for (Q q : p.queries()) {
        ObjectNode tq = targets.addObject();
        tq.put("refId", String.valueOf(ref++));
        tq.set("datasource", datasource());
        tq.put("expr", q.expr());
        tq.put("legendFormat", q.legend());
        tq.put("range", true);
      }
      x += p.w();
      rowH = Math.max(rowH, p.h());
    }
    return JSON.writeValueAsString(d) + "\n";
  }

  static ObjectNode datasource() {
    ObjectNode ds = JSON.createObjectNode();
    ds.put("type", "prometheus");
    ds.put("uid", DS);
    return ds;
  }

  static ObjectNode variable(String name, String label, String query) {
    ObjectNode v = JSON.createObjectNode();
    v.put("name", name);
    v.put("label", label);
    v.put("type", "query");
    v.set("datasource", datasource());
    v.put("query", query);
    v.put("definition", query);
    v.put("refresh", 2);
    v.put("includeAll", true);
    v.put("allValue", ".*");
    v.put("multi", true);
    v.put("sort", 1);
    v.put("hide", 0);
    return v;
  }

  static final String PRIMARY = "model=~\"$model\", target=~\"$target\", role=\"primary\"";
  static final String ROLES = "model=~\"$model\", target=~\"$target\", role=~\"primary|shadow\"";

  static Map<String, Dashboards> all(Mixin m) {
    Map<String, Dashboards> out = new LinkedHashMap<>();
    out.put("dashboards/tokentap-production-slos.json", production(m));
    out.put("dashboards/tokentap-shadow-comparison.json", shadow());
    out.put("dashboards/tokentap-capacity.json", capacity(m));
    out.put("dashboards/tokentap-model-comparison.json", new ModelComparison(m).dashboard());
    return out;
  }

  static Dashboards production(Mixin m) {
    String ttftLe = m.values.path("ttftThresholdLe").asText();
    String tpotLe = m.values.path("tpotThresholdLe").asText();
    Dashboards d = new Dashboards("Tokentap / Production SLOs",
        "What users of the inference server felt, measured by tokentap at its sockets: latencies, SLO attainment, goodput, throughput, outcomes.",
        List.of("tokentap", "llm")).withTenantVariable();
    // Per-request series carry the tenant label when tokentap.metrics.tenant is on; per-gap ITL and tokens per event never do.
    final String PRIMARY = Dashboards.PRIMARY + ", tenant=~\"$tenant\"";
    final String PER_EVENT = Dashboards.PRIMARY;
    String reqs = "tokentap_requests_total{" + PRIMARY + "}";
    d.add("stat", "TTFT SLO attainment", "percentunit",
        "Share of requests whose time to first token was at most " + ttftLe + " s over the dashboard's rate interval: sum(rate(tokentap_time_to_first_token_seconds_bucket{le=\"" + ttftLe + "\"})) / sum(rate(..._count)).",
        6, 4, q("sum(rate(tokentap_time_to_first_token_seconds_bucket{" + PRIMARY + ", le=\"" + ttftLe + "\"}[$__rate_interval])) / sum(rate(tokentap_time_to_first_token_seconds_count{" + PRIMARY + "}[$__rate_interval]))", "TTFT <= " + ttftLe + " s"));
    d.add("stat", "TPOT SLO attainment", "percentunit",
        "Share of requests whose time per output token was at most " + tpotLe + " s: sum(rate(tokentap_time_per_output_token_seconds_bucket{le=\"" + tpotLe + "\"})) / sum(rate(..._count)). Requests with fewer than 2 output tokens have no TPOT.",
        6, 4, q("sum(rate(tokentap_time_per_output_token_seconds_bucket{" + PRIMARY + ", le=\"" + tpotLe + "\"}[$__rate_interval])) / sum(rate(tokentap_time_per_output_token_seconds_count{" + PRIMARY + "}[$__rate_interval]))", "TPOT <= " + tpotLe + " s"));
    d.add("stat", "Goodput ratio", "percentunit",
        "Share of SLO-judged requests that were good (outcome ok and every threshold of their tokentap.slos rule met): rate(slo=\"met\") / rate(slo!=\"none\").",
        6, 4, q("(sum(rate(tokentap_requests_total{" + PRIMARY + ", slo=\"met\"}[$__rate_interval])) or vector(0)) / sum(rate(tokentap_requests_total{" + PRIMARY + ", slo!=\"none\"}[$__rate_interval]))", "good / judged"));
    d.add("stat", "Error ratio", "percentunit",
        "Share of requests that ended in error (status >= 400 or an error event), upstream_abort, timeout or rejected. Client aborts are not counted as errors.",
        6, 4, q("(sum(rate(tokentap_requests_total{" + PRIMARY + ", outcome=~\"error|upstream_abort|timeout|rejected\"}[$__rate_interval])) or vector(0)) / sum(rate(" + reqs.replace("}", "}[$__rate_interval]") + "))", "errors / all"));
    d.add("timeseries", "Time to first token", "s",
        "TTFT = first token-bearing event - first request byte, per request (tokentap_time_to_first_token_seconds). P50/P90/P99 by histogram_quantile over the summed buckets; mean = rate(_sum) / rate(_count).",
        12, 8, latency("tokentap_time_to_first_token_seconds", PRIMARY, "", ""));
    d.add("timeseries", "Time per output token", "s",
        "TPOT = (last token - first token) / (output tokens - 1), one value per request with at least 2 output tokens (tokentap_time_per_output_token_seconds).",
        12, 8, latency("tokentap_time_per_output_token_seconds", PRIMARY, "", ""));
    d.add("timeseries", "Inter-token latency", "s",
        "ITL: every gap between consecutive token-bearing events, one observation per gap (tokentap_inter_token_latency_seconds). Its tail shows stalls that TPOT averages away. Not split by tenant: per-gap series carry no tenant label.",
        12, 8, latency("tokentap_inter_token_latency_seconds", PER_EVENT, "", ""));
    d.add("timeseries", "End-to-end latency (ok requests)", "s",
        "E2E = end of the response - first request byte, for requests with outcome ok (tokentap_request_duration_seconds{outcome=\"ok\"}).",
        12, 8, latency("tokentap_request_duration_seconds", PRIMARY + ", outcome=\"ok\"", "", ""));
    d.add("timeseries", "Time to first byte", "s",
        "TTFB = upstream response head - first request byte (tokentap_time_to_first_byte_seconds). The gap between TTFB and TTFT is role-only first chunks and prefill after the head.",
        12, 8, latency("tokentap_time_to_first_byte_seconds", PRIMARY, "", ""));
    d.add("timeseries", "Time to first output token", "s",
        "TTFO = first event with visible output (content, text, refusal, tool call; not reasoning) - first request byte (tokentap_time_to_first_output_token_seconds). For reasoning models it is what the user waits for; TTFT counts the first reasoning token.",
        12, 8, latency("tokentap_time_to_first_output_token_seconds", PRIMARY, "", ""));
    d.add("timeseries", "Tokens per event", "short",
        "Output tokens each token-bearing event carried (tokentap_tokens_per_event), where the server says: above 1 means the server batches tokens into events (speculative decoding, stream intervals), so ITL gaps cover several tokens. Not split by tenant.",
        12, 8,
        q("histogram_quantile(0.5, sum by (le) (rate(tokentap_tokens_per_event_bucket{" + PER_EVENT + "}[$__rate_interval])))", "p50"),
        q("histogram_quantile(0.99, sum by (le) (rate(tokentap_tokens_per_event_bucket{" + PER_EVENT + "}[$__rate_interval])))", "p99"),
        q("sum(rate(tokentap_tokens_per_event_sum{" + PER_EVENT + "}[$__rate_interval])) / sum(rate(tokentap_tokens_per_event_count{" + PER_EVENT + "}[$__rate_interval]))", "mean"));
    d.add("timeseries", "Goodput", "reqps",
        "Good requests per second (outcome ok and every SLO threshold met: rate(tokentap_requests_total{slo=\"met\"})) against all finished requests per second.",
        12, 8,
        q("sum by (model) (rate(tokentap_requests_total{" + PRIMARY + ", slo=\"met\"}[$__rate_interval]))", "good {{model}}"),
        q("sum by (model) (rate(tokentap_requests_total{" + PRIMARY + "}[$__rate_interval]))", "all {{model}}"));
    d.add("timeseries", "SLO attainment", "percentunit",
        "Per model: share of requests within the TTFT threshold (" + ttftLe + " s), within the TPOT threshold (" + tpotLe + " s), and good (goodput ratio), over the rate interval.",
        12, 8,
        q("sum by (model) (rate(tokentap_time_to_first_token_seconds_bucket{" + PRIMARY + ", le=\"" + ttftLe + "\"}[$__rate_interval])) / sum by (model) (rate(tokentap_time_to_first_token_seconds_count{" + PRIMARY + "}[$__rate_interval]))", "TTFT {{model}}"),
        q("sum by (model) (rate(tokentap_time_per_output_token_seconds_bucket{" + PRIMARY + ", le=\"" + tpotLe + "\"}[$__rate_interval])) / sum by (model) (rate(tokentap_time_per_output_token_seconds_count{" + PRIMARY + "}[$__rate_interval]))", "TPOT {{model}}"),
        q("(sum by (model) (rate(tokentap_requests_total{" + PRIMARY + ", slo=\"met\"}[$__rate_interval])) or 0 * sum by (model) (rate(tokentap_requests_total{" + PRIMARY + "}[$__rate_interval]))) / sum by (model) (rate(tokentap_requests_total{" + PRIMARY + ", slo!=\"none\"}[$__rate_interval]))", "goodput {{model}}"));
    d.add("timeseries", "Token throughput", "short",
        "Tokens per second by type, from the server's usage counts (tokentap_tokens_total): output (generated), input (prompt); reasoning is part of output and cached_input part of input.",
        12, 8, q("sum by (type) (rate(tokentap_tokens_total{" + PRIMARY + "}[$__rate_interval]))", "{{type}} tokens/s"));
    d.add("timeseries", "Requests by outcome", "reqps",
        "Finished requests per second by outcome: ok, error, client_abort, upstream_abort, timeout, rejected (tokentap_requests_total).",
        12, 8, q("sum by (outcome) (rate(tokentap_requests_total{" + PRIMARY + "}[$__rate_interval]))", "{{outcome}}"));
    d.add("timeseries", "In flight", "short",
        "Requests tokentap has started and not finished, per target (tokentap_requests_in_flight{role=\"primary\"}).",
        12, 8, q("sum by (target) (tokentap_requests_in_flight{target=~\"$target\", role=\"primary\"})", "{{target}}"));
    d.add("timeseries", "Proxy overhead: response", "s",
        "Time tokentap adds per upstream read: read off the upstream socket to written to the client (tokentap_proxy_overhead_seconds{direction=\"response\"}). Should be microseconds. Not split by model or target.",
        12, 8, latency("tokentap_proxy_overhead_seconds", "direction=\"response\"", "", ""));
    d.add("timeseries", "Proxy overhead: request", "s",
        "Time tokentap adds per request: last request byte read to last byte written upstream (tokentap_proxy_overhead_seconds{direction=\"request\"}), including any usage-injection edit.",
        12, 8, latency("tokentap_proxy_overhead_seconds", "direction=\"request\"", "", ""));
    d.add("timeseries", "Upstream connection errors and retries", "short",
        "Per second: connections to the upstream that could not be made, by reason (refused, timeout and tls are answered 502; other is tried once more), and requests sent again on a new connection because the upstream cannot have acted on them (connect_failed; stale_connection: a pooled connection the server closed while idle). tokentap_upstream_connect_errors_total, tokentap_upstream_retries_total.",
        12, 8,
        q("sum by (reason) (rate(tokentap_upstream_connect_errors_total{target=~\"$target\"}[$__rate_interval]))", "connect error: {{reason}}"),
        q("sum by (reason) (rate(tokentap_upstream_retries_total{target=~\"$target\"}[$__rate_interval]))", "sent again: {{reason}}"));
    d.add("bargauge", "Worst tenants by SLO attainment", "percentunit",
        "The 10 tenants with the lowest goodput ratio (good / SLO-judged requests) over the rate interval: bottomk(10, rate(slo=\"met\") / rate(slo!=\"none\")) by tenant. Needs tokentap.metrics.tenant; without it, one bar for all traffic.",
        24, 8,
        q("bottomk(10, (sum by (tenant) (rate(tokentap_requests_total{" + PRIMARY + ", slo=\"met\"}[$__rate_interval])) or 0 * sum by (tenant) (rate(tokentap_requests_total{" + PRIMARY + "}[$__rate_interval]))) / sum by (tenant) (rate(tokentap_requests_total{" + PRIMARY + ", slo!=\"none\"}[$__rate_interval])))", "{{tenant}}"));
    d.add("timeseries", "Fleet capacity", "short",
        "Requests in flight over every replica against the fleet's capacity: each sidecar's estimated knee (tokentap_capacity_estimate_in_flight, from its own production traffic) summed per target over the sidecars that have one (target:tokentap_fleet_capacity_in_flight:sum), and their lower bounds summed (_lower:sum; wider than the sum's own interval). A sidecar with too little evidence yet adds nothing, so the sum errs low.",
        12, 8,
        q("sum by (target) (tokentap_requests_in_flight{target=~\"$target\", role=\"primary\"})", "in flight {{target}}"),
        q("target:tokentap_fleet_capacity_in_flight:sum{target=~\"$target\"}", "capacity {{target}}"),
        q("target:tokentap_fleet_capacity_in_flight_lower:sum{target=~\"$target\"}", "capacity, lower bound {{target}}"));
    d.add("timeseries", "Fleet saturation", "percentunit",
        "Requests in flight over the replicas that have a capacity estimate / the sum of their estimates, per target (target:tokentap_fleet_saturation:ratio): 100 % is the fleet at its knee. What an autoscaler of the whole fleet targets; a replica without an estimate yet is left out of both sides.",
        12, 8, q("target:tokentap_fleet_saturation:ratio{target=~\"$target\"}", "{{target}}"));
    return d;
  }

  static Dashboards shadow() {
    Dashboards d = new Dashboards("Tokentap / Shadow comparison",
        "Production (role=primary) against each shadow target (role=shadow) for the same quantities, and the shadow engine's own state. Shadow series appear once shadow traffic is configured.",
        List.of("tokentap", "llm", "shadow"));
    for (Mixin.Hist h : Mixin.LATENCIES) {
      String sel = h.key().equals("e2e") ? ROLES + ", outcome=\"ok\"" : ROLES;
      d.add("timeseries", h.title() + ": production vs shadow", "s",
          h.title() + " (" + h.metric() + ") P50/P90/P99 and mean per role and target, side by side; production is role=primary, each shadow target role=shadow."
              + (h.key().equals("e2e") ? " Requests with outcome ok only." : ""),
          12, 8, latency(h.metric(), sel, "role, target", "{{role}} {{target}} "));
    }
    d.add("timeseries", "Goodput ratio by role", "percentunit",
        "Share of SLO-judged requests that were good, per role and target: rate(slo=\"met\") / rate(slo!=\"none\").",
        12, 8, q("(sum by (role, target) (rate(tokentap_requests_total{" + ROLES + ", slo=\"met\"}[$__rate_interval])) or 0 * sum by (role, target) (rate(tokentap_requests_total{" + ROLES + "}[$__rate_interval]))) / sum by (role, target) (rate(tokentap_requests_total{" + ROLES + ", slo!=\"none\"}[$__rate_interval]))", "{{role}} {{target}}"));
    d.add("timeseries", "Requests by outcome and role", "reqps",
        "Finished requests per second per role, target and outcome (tokentap_requests_total).",
        12, 8, q("sum by (role, target, outcome) (rate(tokentap_requests_total{" + ROLES + "}[$__rate_interval]))", "{{role}} {{target}} {{outcome}}"));
    d.add("timeseries", "Output tokens by role", "short",
        "Output tokens per second per role and target (tokentap_tokens_total{type=\"output\"}).",
        12, 8, q("sum by (role, target) (rate(tokentap_tokens_total{" + ROLES + ", type=\"output\"}[$__rate_interval]))", "{{role}} {{target}}"));
    d.add("timeseries", "Current shadow factor", "short",
        "Per shadow target, the configured factor (tokentap_shadow_factor, changed with PUT /admin/shadow) and the achieved one: copies sent per production request, rate(tokentap_shadow_copies_total{result=\"sent\"}) / rate(tokentap_requests_total{role=\"primary\"}). 1 = mirroring, 2 = double the traffic, 0.1 = 10 % sampling; achieved below configured means copies are dropped or still spread out.",
        12, 8,
        q("max by (target) (tokentap_shadow_factor{target=~\"$target\"})", "configured {{target}}"),
        q("sum by (target) (rate(tokentap_shadow_copies_total{target=~\"$target\", result=\"sent\"}[$__rate_interval])) / scalar(sum(rate(tokentap_requests_total{model=~\"$model\", role=\"primary\"}[$__rate_interval])))", "achieved {{target}}"));
    d.add("timeseries", "Shadow copies by result", "reqps",
        "Shadow copies per second per target and result: sent, dropped_queue_full, dropped_bulkhead, dropped_circuit_open, dropped_rate_limit, skipped_body_too_large, failed (tokentap_shadow_copies_total).",
        12, 8, q("sum by (target, result) (rate(tokentap_shadow_copies_total{target=~\"$target\"}[$__rate_interval]))", "{{target}} {{result}}"));
    d.add("timeseries", "Circuit breaker state", "short",
        "Per shadow target, 1 for the state its circuit breaker is in and 0 for the others (tokentap_shadow_circuit_breaker_state): closed (copies flow), open (every copy dropped_circuit_open after too many staging failures), half_open (a few trial copies decide).",
        12, 8, q("max by (target, state) (tokentap_shadow_circuit_breaker_state{target=~\"$target\"})", "{{target}} {{state}}"));
    d.add("timeseries", "Circuit breaker: copies refused while open", "reqps",
        "Copies dropped because the target's circuit breaker was open (tokentap_shadow_copies_total{result=\"dropped_circuit_open\"}).",
        12, 8, q("sum by (target) (rate(tokentap_shadow_copies_total{target=~\"$target\", result=\"dropped_circuit_open\"}[$__rate_interval]))", "{{target}}"));
    d.add("timeseries", "In flight by role", "short",
        "Requests in flight per target and role (tokentap_requests_in_flight): production beside the shadow copies still streaming.",
        12, 8, q("sum by (role, target) (tokentap_requests_in_flight{target=~\"$target\"})", "{{role}} {{target}}"));
    return d;
  }

  static Dashboards capacity(Mixin m) {
    Dashboards d = new Dashboards("Tokentap / Capacity and saturation",
        "How close the inference server is to its limits: tokentap's in-flight count and throughput against the server's own queue, running and KV-cache signals.",
        List.of("tokentap", "llm", "capacity"));
    String srv = m.srv();
    d.add("timeseries", "In flight vs running and waiting", "short",
        "tokentap's in-flight requests per target (started and not finished: waiting in or served by the server) against the server's running (vllm:num_requests_running) and waiting (vllm:num_requests_waiting) requests. In flight well above running means requests queue.",
        12, 8,
        q("sum by (target) (tokentap_requests_in_flight{target=~\"$target\", role=\"primary\"})", "tokentap in flight {{target}}"),
        q("sum by (model_name) (vllm:num_requests_running{" + srv + "})", "server running {{model_name}}"),
        q("sum by (model_name) (vllm:num_requests_waiting{" + srv + "})", "server waiting {{model_name}}"));
    d.add("timeseries", "In flight vs the knee", "short",
        "tokentap's in-flight requests per target against its capacity: the in-flight level at the knee where SLOs break, as measured (tokentap_capacity_in_flight, from tokentap.capacity.in-flight or PUT /admin/capacity after a bench sweep or shadow ramp; empty without one) and as estimated from production traffic (tokentap_capacity_estimate_in_flight: where SLO attainment, fitted non-increasing in the requests in flight, crosses the goal, erring low on thin evidence, with _lower and _upper bounds beside it; a lower bound until traffic reaches the knee).",
        12, 8,
        q("sum by (target) (tokentap_requests_in_flight{target=~\"$target\", role=\"primary\"})", "in flight {{target}}"),
        q("max by (target) (tokentap_capacity_in_flight{target=~\"$target\"})", "knee {{target}}"),
        q("max by (target) (tokentap_capacity_estimate_in_flight{target=~\"$target\"})", "estimated knee {{target}}"));
    d.add("timeseries", "Capacity saturation", "percentunit",
        "In flight / knee per target (the recording rule target:tokentap_capacity_saturation:ratio): 100 % is at the knee. The signal to autoscale on; the TokentapNearCapacity alert fires above " + Mixin.fmt(m.values.path("saturation").path("capacitySaturationMax").asDouble() * 100) + " %.",
        12, 8, q("target:tokentap_capacity_saturation:ratio{target=~\"$target\"}", "{{target}}"));
    d.add("timeseries", "Ramp steps and staging load", "short",
        "A shadow ramp (POST /admin/shadow/ramp) steps a staging target's factor (tokentap_shadow_factor) through its list until a step misses the SLO goal; beside it, the copies in flight to that target (tokentap_requests_in_flight{role=\"shadow\"}). GET /admin/shadow/ramp has the steps' verdicts and the knee.",
        12, 8,
        q("max by (target) (tokentap_shadow_factor{target=~\"$target\"})", "factor {{target}}"),
        q("sum by (target) (tokentap_requests_in_flight{target=~\"$target\", role=\"shadow\"})", "copies in flight {{target}}"));
    d.add("timeseries", "Saturation", "percentunit",
        "max(waiting / " + Mixin.fmt(m.values.path("saturation").path("serverQueueMax").asDouble()) + ", KV usage / " + Mixin.fmt(m.values.path("saturation").path("kvCacheMax").asDouble())
            + ") per model: the Gateway API Inference Extension's saturation formula; 100 % is saturated. Computed here from the raw gauges (the recording rule model_name:inference_server_saturation:ratio is the same).",
        12, 8, q("max by (model_name) (vllm:num_requests_waiting{" + srv + "} / " + Mixin.fmt(m.values.path("saturation").path("serverQueueMax").asDouble()) + ") > max by (model_name) (vllm:kv_cache_usage_perc{" + srv + "} / " + Mixin.fmt(m.values.path("saturation").path("kvCacheMax").asDouble()) + ") or max by (model_name) (vllm:kv_cache_usage_perc{" + srv + "} / " + Mixin.fmt(m.values.path("saturation").path("kvCacheMax").asDouble()) + ")", "{{model_name}}"));
    d.add("timeseries", "KV cache usage", "percentunit",
        "vllm:kv_cache_usage_perc (0-1) per model: share of the KV cache in use; above ~80 % new requests queue or preempt.",
        12, 8, q("max by (model_name) (vllm:kv_cache_usage_perc{" + srv + "})", "{{model_name}}"));
    d.add("timeseries", "Throughput vs concurrency", "short",
        "Output tokens per second (tokentap_tokens_total{type=\"output\"}) and finished requests per second. Plotted against in flight, the knee is where throughput stops growing while in flight (and TTFT) keeps rising.",
        12, 8,
        q("sum(rate(tokentap_tokens_total{" + PRIMARY + ", type=\"output\"}[$__rate_interval]))", "output tokens/s"),
        q("sum(rate(tokentap_requests_total{" + PRIMARY + "}[$__rate_interval]))", "requests/s"));
    d.add("timeseries", "Queueing: TTFT minus TTFB", "s",
        "Mean TTFT minus mean TTFB per model: time between the response head and the first token, which grows with server queueing and prefill (tokentap_time_to_first_token_seconds and tokentap_time_to_first_byte_seconds).",
        12, 8, q("sum by (model) (rate(tokentap_time_to_first_token_seconds_sum{" + PRIMARY + "}[$__rate_interval])) / sum by (model) (rate(tokentap_time_to_first_token_seconds_count{" + PRIMARY + "}[$__rate_interval])) - sum by (model) (rate(tokentap_time_to_first_byte_seconds_sum{" + PRIMARY + "}[$__rate_interval])) / sum by (model) (rate(tokentap_time_to_first_byte_seconds_count{" + PRIMARY + "}[$__rate_interval]))", "{{model}}"));
    d.add("timeseries", "TTFT under load", "s",
        "TTFT P50/P90/P99 and mean (tokentap_time_to_first_token_seconds): the latency guardrail for the queue and KV signals, which react late.",
        12, 8, latency("tokentap_time_to_first_token_seconds", PRIMARY, "", ""));
    d.add("timeseries", "Server token throughput", "short",
        "The server's own counters: prompt (vllm:prompt_tokens_total) and generated (vllm:generation_tokens_total) tokens per second, to compare with what tokentap saw.",
        12, 8,
        q("sum by (model_name) (rate(vllm:prompt_tokens_total{" + srv + "}[$__rate_interval]))", "prompt {{model_name}}"),
        q("sum by (model_name) (rate(vllm:generation_tokens_total{" + srv + "}[$__rate_interval]))", "generation {{model_name}}"));
    d.add("timeseries", "Server finished requests by reason", "reqps",
        "vllm:request_success_total per second by finished_reason (stop, length, abort).",
        12, 8, q("sum by (finished_reason) (rate(vllm:request_success_total{" + srv + "}[$__rate_interval]))", "{{finished_reason}}"));
    d.add("timeseries", "Other servers: queue and running", "short",
        "The same signals from servers other than vLLM, when scraped: SGLang sglang:num_queue_reqs / num_running_reqs, TGI tgi_queue_size / tgi_batch_current_size, llama.cpp llamacpp:requests_deferred / requests_processing. Empty with vLLM or the emulator.",
        12, 8,
        q("sum by (model_name) (sglang:num_queue_reqs{" + srv + "})", "sglang waiting {{model_name}}"),
        q("sum by (model_name) (sglang:num_running_reqs{" + srv + "})", "sglang running {{model_name}}"),
        q("sum(tgi_queue_size{" + srv + "})", "tgi waiting"),
        q("sum(tgi_batch_current_size{" + srv + "})", "tgi running"),
        q("sum(llamacpp:requests_deferred{" + srv + "})", "llama.cpp waiting"),
        q("sum(llamacpp:requests_processing{" + srv + "})", "llama.cpp running"));
    d.add("timeseries", "Other servers: cache usage", "percentunit",
        "KV/token cache usage from servers other than vLLM, when scraped: SGLang sglang:token_usage (0-1). TGI and llama.cpp export none. Empty with vLLM or the emulator.",
        12, 8, q("max by (model_name) (sglang:token_usage{" + srv + "})", "sglang {{model_name}}"));
    return d;
  }
}
