package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.testkit.ScriptedUpstream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tokentap_capacity_in_flight: from config, changed and removed through /admin/capacity. */
class CapacityEndpointTest {

  @Test
  void theConfiguredKneeIsExportedAndChangesAtRunTime() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(new byte[0], new int[0], 0));
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.capacity.in-flight.production", 48))) {
      assertThat(proxy.metrics()).contains("tokentap_capacity_in_flight{target=\"production\"} 48.0");

      HttpResponse<String> put = send(proxy, "PUT", "/admin/capacity?target=production&in-flight=64");
      assertThat(put.statusCode()).isEqualTo(200);
      assertThat(put.body()).isEqualTo("{\"in_flight\":{\"production\":64.0}}\n");
      assertThat(send(proxy, "PUT", "/admin/capacity?target=staging&in-flight=12.5").statusCode()).isEqualTo(200);
      String metrics = proxy.metrics();
      assertThat(metrics).contains("tokentap_capacity_in_flight{target=\"production\"} 64.0", "tokentap_capacity_in_flight{target=\"staging\"} 12.5");
      assertThat(send(proxy, "GET", "/admin/capacity").body()).isEqualTo("{\"in_flight\":{\"production\":64.0,\"staging\":12.5}}\n");

      assertThat(send(proxy, "PUT", "/admin/capacity?target=production&in-flight=0").statusCode()).isEqualTo(400);
      assertThat(send(proxy, "PUT", "/admin/capacity?target=bad%20name&in-flight=3").statusCode()).isEqualTo(400);
      assertThat(send(proxy, "PUT", "/admin/capacity?in-flight=3").statusCode()).isEqualTo(400);

      assertThat(send(proxy, "DELETE", "/admin/capacity?target=staging").statusCode()).isEqualTo(200);
      assertThat(proxy.metrics()).doesNotContain("target=\"staging\"").contains("tokentap_capacity_in_flight{target=\"production\"} 64.0");
      assertThat(send(proxy, "DELETE", "/admin/capacity?target=staging").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aBadConfiguredKneeNamesTheKey() {
    assertThatThrownBy(() -> SettingsLoader.load(SettingsLoader.resolve(null, Map.of("tokentap.capacity.in-flight.production", "lots"))))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.capacity.in-flight.production");
    assertThatThrownBy(() -> SettingsLoader.load(SettingsLoader.resolve(null, Map.of("tokentap.capacity.in-flight.production", -1))))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("expected: a number of requests > 0");
  }

  private static HttpResponse<String> send(ProxyHarness proxy, String method, String path) throws Exception {
    return proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl(path)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
