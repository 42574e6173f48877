package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.TenantLabels;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Path-prefix tenants and the allow-list: what the end-to-end tests (TenantLabelTest) do not reach. */
class TenantSourceTest {
  private static HttpRequest get(String uri) {
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
  }

  @Test
  void pathPrefixIsTheFirstSegment() {
    TenantSource s = new TenantSource(new Settings.Tenant(Settings.TenantSource.PATH_PREFIX, "x-tenant-id", "", 10, List.of()));
    assertThat(s.of(get("/acme/v1/chat/completions"), "/acme/v1/chat/completions")).isEqualTo("acme");
    assertThat(s.of(get("/acme"), "/acme")).isEqualTo("acme");
    assertThat(s.of(get("/"), "/")).isNull();
  }

  @Test
  void offFindsNothingAndApiKeyNeverReturnsTheKey() {
    assertThat(new TenantSource(Settings.Tenant.OFF).enabled()).isFalse();
    TenantSource s = new TenantSource(new Settings.Tenant(Settings.TenantSource.API_KEY, "x-tenant-id", "salt", 10, List.of()));
    HttpRequest r = get("/v1/chat/completions");
    r.headers().set("api-key", "azure-SECRET");
    assertThat(s.of(r, "/v1/chat/completions")).matches("[0-9a-f]{12}").doesNotContain("SECRET");
    assertThat(s.of(get("/v1/chat/completions"), "/v1/chat/completions")).isNull();
  }

  @Test
  void onlyAllowedTenantsKeepTheirLabel() {
    int[] overflow = {0};
    TenantLabels labels = TenantLabels.on(5, Set.of("acme", "globex"), () -> overflow[0]++);
    assertThat(labels.label("acme")).isEqualTo("acme");
    assertThat(labels.label("initech")).isEqualTo("other");
    assertThat(labels.label(null)).isEqualTo("unknown");
    labels.finished("initech");
    labels.finished("acme");
    labels.finished(null);
    assertThat(overflow[0]).isEqualTo(1);
    assertThat(TenantLabels.off().label("acme")).isNull();
  }
}
