package dev.tokentap.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dashboards as Grafana will load them: valid JSON, unique panel ids, a description and a unit
 * on every panel, a datasource variable that every panel and query uses (no fixed uids), no
 * {@code current} values, model and target variables, {@code $__rate_interval} in every rate, and
 * P50/P90/P99 plus the mean on every latency panel.
 */
class DashboardJsonTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static List<Path> dashboards() throws Exception {
    try (Stream<Path> s = Files.list(Paths.module().resolve("dashboards"))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** Every panel, including those nested in rows. */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }

  /** Every PromQL expression of a dashboard's panels, or of one panel. */
  static List<String> expressions(JsonNode dashboardOrPanel) {
    List<String> out = new ArrayList<>();
    List<JsonNode> ps = dashboardOrPanel.has("targets") ? List.of(dashboardOrPanel) : panels(dashboardOrPanel);
    for (JsonNode p : ps) {
      p.path("targets").forEach(t -> out.add(t.path("expr").asText()));
    }
    return out;
  }

  @Test
  void fourDashboardsShip() throws Exception {
    assertThat(dashboards()).extracting(p -> p.getFileName().toString())
        .containsExactly("tokentap-capacity.json", "tokentap-model-comparison.json", "tokentap-production-slos.json", "tokentap-shadow-comparison.json");
  }

  @Test
  void everyDashboardFollowsTheRules() throws Exception {
    for (Path file : dashboards()) {
      String name = file.getFileName().toString();
      JsonNode d = JSON.readTree(file.toFile());
      assertThat(d.path("title").asText()).as(name).isNotBlank();
      assertThat(d.has("uid")).as("%s: no fixed dashboard uid (provisioning assigns one)", name).isFalse();
      assertThat(d.has("id") && !d.path("id").isNull()).as("%s: no local id", name).isFalse();
      assertThat(d.has("__inputs")).as("%s: no export-for-sharing inputs", name).isFalse();

      JsonNode vars = d.path("templating").path("list");
      Set<String> varNames = new HashSet<>();
      for (JsonNode v : vars) {
        varNames.add(v.path("name").asText());
        assertThat(v.has("current")).as("%s: variable %s has no leftover current value", name, v.path("name").asText()).isFalse();
        assertThat(v.has("options") && !v.path("options").isEmpty()).as("%s: variable %s has no saved options", name, v.path("name").asText()).isFalse();
      }
      assertThat(varNames).as(name).contains("datasource", "model", "target");
      JsonNode ds = vars.get(0);
      assertThat(ds.path("type").asText()).isEqualTo("datasource");
      assertThat(ds.path("query").asText()).isEqualTo("prometheus");

      Set<Integer> ids = new HashSet<>();
      for (JsonNode p : panels(d)) {
        String title = name + " / " + p.path("title").asText();
        assertThat(ids.add(p.path("id").asInt())).as("%s: panel id %s unique", title, p.path("id")).isTrue();
        assertThat(p.path("description").asText()).as("%s: description", title).isNotBlank();
        assertThat(p.path("fieldConfig").path("defaults").path("unit").asText()).as("%s: unit", title).isNotBlank();
        assertThat(p.path("datasource").path("uid").asText()).as("%s: datasource is the variable", title).isEqualTo("${datasource}");
        assertThat(p.path("targets")).as("%s: has queries", title).isNotEmpty();
        List<String> legends = new ArrayList<>();
        for (JsonNode t : p.path("targets")) {
          String expr = t.path("expr").asText();
          assertThat(t.path("datasource").path("uid").asText()).as("%s: query datasource", title).isEqualTo("${datasource}");
          assertThat(expr).as("%s: query", title).isNotBlank();
          if (expr.contains("rate(")) {
            assertThat(expr).as("%s: rates use $__rate_interval: %s", title, expr).contains("[$__rate_interval]").doesNotContainPattern("\\[\\d+[smhd]\\]");
          }
          if (expr.contains("tokentap_")) {
            assertThat(expr).as("%s: tokentap queries honour $model or $target: %s", title, expr).containsAnyOf("$model", "$target", "direction=");
          }
          legends.add(t.path("legendFormat").asText());
        }
        if ("s".equals(p.path("fieldConfig").path("defaults").path("unit").asText()) && String.join(" ", expressions(p)).contains("histogram_quantile")) {
          String joined = String.join(" ", legends);
          assertThat(joined).as("%s: latency shows P50/P90/P99 and the mean", title).contains("p50", "p90", "p99", "mean");
          String exprs = String.join(" ", expressions(p));
          assertThat(exprs).contains("histogram_quantile(0.5,", "histogram_quantile(0.9,", "histogram_quantile(0.99,", "_sum{", "_count{");
        }
      }
      // Dashboard JSON carries no uid anywhere except the datasource variable reference.
      assertThat(Files.readString(file)).as(name).doesNotContainPattern("\"uid\"\\s*:\\s*\"(?!\\$\\{datasource\\})");
    }
  }

  @Test
  void readmeDescribesEveryPanelExactly() throws Exception {
    String readme = Files.readString(Paths.module().resolve("README.md"));
    for (Path file : dashboards()) {
      for (JsonNode p : panels(JSON.readTree(file.toFile()))) {
        String row = "| **" + p.path("title").asText() + "** | `" + p.path("fieldConfig").path("defaults").path("unit").asText() + "` | "
            + p.path("description").asText().replace("|", "\\|") + " |";
        assertThat(readme).as("grafana/README.md has the row of %s / %s", file.getFileName(), p.path("title").asText()).contains(row);
      }
    }
  }

  @Test
  void productionDashboardCoversTheIssuesQuantities() throws Exception {
    JsonNode d = JSON.readTree(Paths.module().resolve("dashboards/tokentap-production-slos.json").toFile());
    String all = String.join("\n", expressions(d));
    assertThat(all).contains("tokentap_time_to_first_token_seconds", "tokentap_time_per_output_token_seconds", "tokentap_inter_token_latency_seconds",
        "tokentap_request_duration_seconds", "tokentap_time_to_first_byte_seconds", "slo=\"met\"", "tokentap_tokens_total", "sum by (outcome)",
        "tokentap_requests_in_flight", "tokentap_proxy_overhead_seconds");
    // Per tenant (tokentap.metrics.tenant): a variable, the worst tenants, and no tenant filter on per-gap series, which have no tenant label.
    assertThat(d.path("templating").path("list").findValuesAsText("name")).contains("tenant");
    assertThat(all).contains("bottomk(10,", "sum by (tenant)");
    for (String expr : expressions(d)) {
      if (expr.contains("tokentap_inter_token_latency_seconds") || expr.contains("tokentap_tokens_per_event")) {
        assertThat(expr).doesNotContain("$tenant");
      } else if (expr.contains("tokentap_requests_total") || expr.contains("tokentap_time_to_first_token_seconds")) {
        assertThat(expr).contains("tenant=~\"$tenant\"");
      }
    }
    JsonNode shadow = JSON.readTree(Paths.module().resolve("dashboards/tokentap-shadow-comparison.json").toFile());
    assertThat(String.join("\n", expressions(shadow))).contains("role=~\"primary|shadow\"", "tokentap_shadow_copies_total", "dropped_circuit_open");
    JsonNode capacity = JSON.readTree(Paths.module().resolve("dashboards/tokentap-capacity.json").toFile());
    assertThat(String.join("\n", expressions(capacity))).contains("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "sglang:num_queue_reqs", "tgi_queue_size", "llamacpp:requests_deferred");
  }
}
