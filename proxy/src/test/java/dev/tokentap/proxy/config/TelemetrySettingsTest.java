package dev.tokentap.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tokentap.metrics.tenant and tokentap.otlp: off by default, read as written, bad values named. */
class TelemetrySettingsTest {
  private static Settings load(String hocon, Map<String, String> env) {
    return SettingsLoader.load(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve(), env::get);
  }

  @Test
  void offByDefault() {
    Settings s = load("", Map.of());
    assertThat(s.metrics().tenant().enabled()).isFalse();
    assertThat(s.metrics().tenant().maxTenants()).isEqualTo(100);
    assertThat(s.otlp().enabled()).isFalse();
  }

  @Test
  void readsTenantsAndOtlp() {
    Settings s = load("""
        tokentap.metrics.tenant { source = api-key, salt = "s", max-tenants = 7, allow = [z] }
        tokentap.otlp { endpoint = "http://collector:4318/v1/metrics", interval = 15s, headers { x-token = "t" } }
        """, Map.of("TOKENTAP_OTLP_HEADERS", "x-scope=team-a,x-token=u", "TOKENTAP_METRICS_TENANT_ALLOW", "a, b"));
    assertThat(s.metrics().tenant()).isEqualTo(new Settings.Tenant(Settings.TenantSource.API_KEY, "x-tenant-id", "s", 7, List.of("a", "b")));
    assertThat(load("tokentap.metrics.tenant.allow = [z]", Map.of()).metrics().tenant().allow()).containsExactly("z");
    assertThat(s.otlp().endpoint()).isEqualTo("http://collector:4318/v1/metrics");
    assertThat(s.otlp().interval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.otlp().headers()).isEqualTo(Map.of("x-token", "u", "x-scope", "team-a"));
    assertThat(s.otlp().exponential()).isTrue();
    assertThat(load("tokentap.otlp { endpoint = \"http://c:4318/v1/metrics\", histograms = explicit }", Map.of()).otlp().exponential()).isFalse();
  }

  @Test
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> load("tokentap.metrics.tenant.source = cookie", Map.of()))
        .hasMessageContaining("tokentap.metrics.tenant.source").hasMessageContaining("off, header, api-key or path-prefix");
    assertThatThrownBy(() -> load("tokentap.metrics.tenant.max-tenants = 0", Map.of())).hasMessageContaining("tokentap.metrics.tenant.max-tenants");
    assertThatThrownBy(() -> load("tokentap.otlp.endpoint = \"collector:4318\"", Map.of())).hasMessageContaining("tokentap.otlp.endpoint");
    assertThatThrownBy(() -> load("tokentap.otlp { endpoint = \"http://c:4318/v1/metrics\", histograms = native }", Map.of()))
        .hasMessageContaining("tokentap.otlp.histograms").hasMessageContaining("exponential or explicit");
    assertThatThrownBy(() -> load("tokentap.otlp.endpoint = \"http://c:4318/v1/metrics\"", Map.of("TOKENTAP_OTLP_HEADERS", "novalue")))
        .hasMessageContaining("TOKENTAP_OTLP_HEADERS");
  }
}
