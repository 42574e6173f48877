package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GET /admin/cardinality and tokentap_metric_series{family} count what /metrics holds: label sets
 * per family, series with a histogram's buckets, and distinct values of the model and tenant labels.
 */
class CardinalityEndpointTest {
  @Test
  void countsWhatTheScrapeHolds() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.metrics.tenant.source", "header"))) {
      for (String tenant : new String[] {"acme", "globex", "initech", "acme"}) {
        HttpResponse<String> r = proxy.http.send(HttpRequest.newBuilder(proxy.url("/v1/chat/completions")).header("x-tenant-id", tenant)
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"card\",\"stream\":true,\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        proxy.next();
      }
      HttpResponse<String> answer = proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl("/admin/cardinality")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).isEqualTo(200);
      String metrics = proxy.metrics();
      JsonNode report = new ObjectMapper().readTree(answer.body());

      assertThat(report.at("/label_values/tenant").asInt()).isEqualTo(3);
      assertThat(report.at("/label_values/model").asInt()).isEqualTo(1);
      JsonNode requests = family(report, "tokentap_requests_total");
      assertThat(requests.get("label_sets").asLong()).isEqualTo(3).isEqualTo(lines(metrics, "tokentap_requests_total\\{"));
      JsonNode ttft = family(report, "tokentap_time_to_first_token_seconds");
      assertThat(ttft.get("label_sets").asLong()).isEqualTo(3);
      assertThat(ttft.get("series").asLong()).isEqualTo(lines(metrics, "tokentap_time_to_first_token_seconds_(bucket|count|sum|max)\\{"));
      assertThat(family(report, "tokentap_inter_token_latency_seconds").get("label_sets").asLong()).as("ITL has no tenant").isEqualTo(1);
      assertThat(metrics).contains("tokentap_metric_series{family=\"tokentap_requests_total\"} 3.0",
          "tokentap_metric_series{family=\"tokentap_inter_token_latency_seconds\"} 1.0");
      assertThat(report.get("series").asLong()).isGreaterThan(ttft.get("series").asLong());
    }
  }

  private static JsonNode family(JsonNode report, String name) {
    for (JsonNode f : report.get("families")) {
      if (f.get("family").asText().equals(name)) {
        return f;
      }
    }
    throw new AssertionError("no family " + name + " in " + report);
  }

  private static long lines(String metrics, String regex) {
    return Pattern.compile("(?m)^" + regex).matcher(metrics).results().count();
  }
}
