package dev.tokentap.grafana;

import static dev.tokentap.grafana.Dashboards.q;
import static dev.tokentap.grafana.Mixin.alert;
import static dev.tokentap.grafana.Mixin.fmt;
import static dev.tokentap.grafana.Mixin.rule;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The model comparison part of the mixin (docs/shadow.md, "Comparing models"): recording rules over
 * the compared pairs of each shadow target, three alerts, and the "Tokentap / Model comparison"
 * dashboard. Thresholds come from {@code comparison} in values.yaml.
 */
final class ModelComparison {
  static final String T = "target=~\"$target\"";

  private final Mixin m;

  ModelComparison(Mixin m) {
    this.m = m;
  }

  private JsonNode limits() {
    return m.values.path("comparison");
  }

  String rules() {
    String tt = m.tt();
    StringBuilder sb = new StringBuilder(Mixin.HEADER).append("groups:\n");
    sb.append("  - name: tokentap-model-comparison\n    rules:\n");
    String pairs = "sum by (target) (rate(tokentap_shadow_pairs_total{" + tt + "}[1h]))";
    String compared = "sum by (target) (rate(tokentap_shadow_pairs_total{" + tt + ",result=\"compared\"}[1h]))";
    rule(sb, "target:tokentap_shadow_pairs_dropped:ratio_rate1h",
        "(sum by (target) (rate(tokentap_shadow_pairs_total{" + tt + ",result=\"dropped\"}[1h]))\n  or 0 * " + pairs + ")\n/ " + pairs, null);
    rule(sb, "target_check:tokentap_shadow_agreement:ratio_rate1h",
        "(sum by (target, check) (rate(tokentap_shadow_agreement_total{" + tt + ",agreed=\"true\"}[1h]))\n"
            + "  or 0 * sum by (target, check) (rate(tokentap_shadow_agreement_total{" + tt + "}[1h])))\n"
            + "/ sum by (target, check) (rate(tokentap_shadow_agreement_total{" + tt + "}[1h]))", null);
    rule(sb, "target:tokentap_shadow_similarity_percent:mean_rate1h",
        "sum by (target) (rate(tokentap_shadow_similarity_percent_sum{" + tt + "}[1h]))\n/ sum by (target) (rate(tokentap_shadow_similarity_percent_count{" + tt + "}[1h]))", null);
    rule(sb, "target:tokentap_shadow_output_ratio_percent:p50_rate1h",
        "histogram_quantile(0.5, sum by (target, le) (rate(tokentap_shadow_output_ratio_percent_bucket{" + tt + "}[1h])))", null);
    rule(sb, "target_side_kind:tokentap_shadow_outputs:ratio_rate1h",
        "sum by (target, side, kind) (rate(tokentap_shadow_outputs_total{" + tt + "}[1h]))\n/ on (target) group_left " + compared, null);
    return sb.toString();
  }

  String alerts() {
    JsonNode c = limits();
    StringBuilder sb = new StringBuilder(Mixin.HEADER).append("groups:\n");
    sb.append("  - name: tokentap-model-comparison-alerts\n    rules:\n");
    alert(sb, "TokentapShadowAnswersDiverge", "target:tokentap_shadow_similarity_percent:mean_rate1h < " + fmt(c.path("similarityMinPercent").asDouble()), "30m",
        Map.of("severity", "ticket"),
        "answers of {{ $labels.target }} are {{ $value | humanize }} % similar to production's",
        "Over the last hour the answers of shadow target {{ $labels.target }} have had a mean ROUGE-L similarity to production's below " + fmt(c.path("similarityMinPercent").asDouble())
            + " % for 30 minutes: the model answers differently. Compare it with the baseline target in /admin/shadow/summary (compare_vs_baseline) before a rollout.",
        m.runbook("tokentapshadowanswersdiverge"));
    alert(sb, "TokentapShadowRefusalsUp",
        "target_side_kind:tokentap_shadow_outputs:ratio_rate1h{side=\"shadow\",kind=\"refusal\"}\n- ignoring (side) target_side_kind:tokentap_shadow_outputs:ratio_rate1h{side=\"production\",kind=\"refusal\"}\n> "
            + fmt(c.path("refusalIncreaseMax").asDouble()), "30m",
        Map.of("severity", "ticket"),
        "{{ $labels.target }} refuses {{ $value | humanizePercentage }} more answers than production",
        "The share of compared answers that shadow target {{ $labels.target }} refused has been more than " + fmt(c.path("refusalIncreaseMax").asDouble() * 100)
            + " percentage points above production's for 30 minutes (last hour).",
        m.runbook("tokentapshadowrefusalsup"));
    alert(sb, "TokentapShadowComparisonsDropped", "target:tokentap_shadow_pairs_dropped:ratio_rate1h > " + fmt(c.path("pairsDroppedRatioMax").asDouble()), "15m",
        Map.of("severity", "ticket"),
        "{{ $value | humanizePercentage }} of sampled pairs for {{ $labels.target }} dropped",
        "More than " + fmt(c.path("pairsDroppedRatioMax").asDouble() * 100)
            + "% of the requests sampled for comparison with {{ $labels.target }} were dropped because tokentap.shadow.compare.max-pending pairs were waiting: the comparison covers fewer requests than configured.",
        m.runbook("tokentapshadowcomparisonsdropped"));
    return sb.toString();
  }

  Dashboards dashboard() {
    Dashboards d = new Dashboards("Tokentap / Model comparison",
        "Production's answers against each shadow target's, pair by pair, for the sampled requests (tokentap.shadow.compare; docs/shadow.md, \"Comparing models\"). Judge a candidate beside the baseline target, a replica of the production model.",
        List.of("tokentap", "llm", "shadow"));
    d.add("timeseries", "Pairs by result", "reqps",
        "Sampled production requests per second whose answer was paired with a target's, by result (tokentap_shadow_pairs_total): compared, production_error, shadow_error, both_error, unread, not_sent, dropped (max-pending pairs waiting).",
        12, 8, q("sum by (target, result) (rate(tokentap_shadow_pairs_total{" + T + "}[$__rate_interval]))", "{{target}} {{result}}"));
    d.add("timeseries", "Agreement by check", "percentunit",
        "Share of compared pairs whose two answers agreed, per target and check (tokentap_shadow_agreement_total): exact_match (deterministic requests only), finish_reason, tool_calls (same functions, valid JSON arguments with the same keys), json (both valid or both not).",
        12, 8, q("sum by (target, check) (rate(tokentap_shadow_agreement_total{" + T + ", agreed=\"true\"}[$__rate_interval])) / sum by (target, check) (rate(tokentap_shadow_agreement_total{" + T + "}[$__rate_interval]))", "{{target}} {{check}}"));
    d.add("timeseries", "Similarity to production", "percent",
        "ROUGE-L F1 over the first max-tokens words of the two answers, per compared pair (tokentap_shadow_similarity_percent): 100 = the same words in the same order. P50/P90/P99 by histogram_quantile over the buckets; mean = rate(_sum) / rate(_count).",
        12, 8, percentiles("tokentap_shadow_similarity_percent"));
    d.add("timeseries", "Output length ratio", "percent",
        "Output tokens of the shadow answer / production's, per compared pair (tokentap_shadow_output_ratio_percent): 100 = as long, 50 = half, 200 = twice. P50/P90/P99 and the mean.",
        12, 8, percentiles("tokentap_shadow_output_ratio_percent"));
    d.add("timeseries", "Refusals and empty answers", "percentunit",
        "Share of compared pairs whose production or shadow answer was a refusal (opens with one, or finish reason content_filter) or empty (tokentap_shadow_outputs_total{kind=~\"refusal|empty\"} / compared pairs).",
        12, 8, q("sum by (target, side, kind) (rate(tokentap_shadow_outputs_total{" + T + ", kind=~\"refusal|empty\"}[$__rate_interval])) / on (target) group_left sum by (target) (rate(tokentap_shadow_pairs_total{" + T + ", result=\"compared\"}[$__rate_interval]))", "{{target}} {{side}} {{kind}}"));
    d.add("timeseries", "Tool calls and invalid JSON", "percentunit",
        "Share of compared pairs whose production or shadow answer called a tool, or was not valid JSON though JSON was asked for (tokentap_shadow_outputs_total{kind=~\"tool_call|json_invalid\"} / compared pairs).",
        12, 8, q("sum by (target, side, kind) (rate(tokentap_shadow_outputs_total{" + T + ", kind=~\"tool_call|json_invalid\"}[$__rate_interval])) / on (target) group_left sum by (target) (rate(tokentap_shadow_pairs_total{" + T + ", result=\"compared\"}[$__rate_interval]))", "{{target}} {{side}} {{kind}}"));
    return d;
  }

  /** P50/P90/P99 and mean of a per-target histogram. */
  private static Dashboards.Q[] percentiles(String metric) {
    return Dashboards.latency(metric, T, "target", "{{target}} ");
  }
}
