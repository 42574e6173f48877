package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin listener through real sockets, as a browser page on this machine would reach it
 * (docs/reliability.md, "Who can reach admin"): a loopback peer without the token changes a shadow
 * factor only when it names a loopback Host; a rebound name is refused with 403 and the factor
 * stays; the token opens it to any Host; /metrics, /health and /ready answer any Host.
 */
class AdminHostCheckTest {
  static final String TOKEN = "s3cret-admin";
  RawUpstream upstream;
  ShadowHarness h;

  @BeforeEach
  void start() throws Exception {
    upstream = new RawUpstream((r, c) -> c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    h = new ShadowHarness(upstream.baseUrl(), "[{ name = staging, upstream = \"" + upstream.baseUrl() + "\", factor = 1 }]",
        "tokentap.admin.token = \"" + TOKEN + "\"");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
    upstream.close();
  }

  int port() {
    return h.tokentap.adminAddress().getPort();
  }

  RawHttpClient.Response admin(String method, String target, String host, String... headers) throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
      for (String header : headers) {
        head.append(header).append("\r\n");
      }
      c.send(head.append("Content-Length: 0\r\n\r\n").toString(), null);
      return c.read();
    }
  }

  /** The factor as GET /admin/shadow reports it, asked the way an operator would. */
  String factor() throws Exception {
    RawHttpClient.Response r = admin("GET", "/admin/shadow", "localhost:" + port());
    assertThat(r.status()).isEqualTo(200);
    return r.bodyText().replaceAll("(?s).*\"factor\":([0-9.]+).*", "$1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost:%d", "127.0.0.1:%d", "[::1]:%d", "127.0.0.1", "LocalHost:%d"})
  void aLoopbackHostMayChangeTheFactorWithoutTheToken(String host) throws Exception {
    RawHttpClient.Response r = admin("PUT", "/admin/shadow?target=staging&factor=3", String.format(host, port()));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.bodyText()).contains("\"factor\":3.0");
    assertThat(factor()).isEqualTo("3.0");
    assertThat(h.engine.breakerState("staging")).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"evil.example:%d", "evil.example", "127.0.0.1.evil.example:%d", "10.1.2.3:%d", "localhost.:%d", "app.localhost:%d"})
  void aReboundNameIsRefusedAndTheFactorStays(String host) throws Exception {
    for (String method : new String[] {"PUT", "POST", "GET"}) {
      RawHttpClient.Response r = admin(method, "/admin/shadow?target=staging&factor=100", String.format(host, port()));
      assertThat(r.status()).as(method).isEqualTo(403);
      assertThat(r.bodyText()).startsWith("forbidden: Host \"" + String.format(host, port()) + "\" is not localhost, 127.x.x.x or [::1]")
          .contains("Authorization: Bearer <tokentap.admin.token>")
          .doesNotContain("\"factor\"");
    }
    assertThat(admin("GET", "/admin/shadow/summary", String.format(host, port())).status()).isEqualTo(403);
    assertThat(factor()).isEqualTo("1.0");
  }

  @Test
  void aCrossOriginFormPostToTheLoopbackAddressIsRefused() throws Exception {
    RawHttpClient.Response r =
        admin("POST", "/admin/shadow?target=staging&factor=100", "127.0.0.1:" + port(), "Origin: http://evil.example", "Content-Type: text/plain");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.bodyText()).startsWith("forbidden: a request from the page \"http://evil.example\"");
    assertThat(admin("POST", "/admin/shadow?target=staging&factor=100", "127.0.0.1:" + port(), "Origin: null").status()).isEqualTo(403);
    assertThat(factor()).isEqualTo("1.0");
    assertThat(admin("PUT", "/admin/shadow?target=staging&factor=2", "localhost:" + port(), "Origin: http://localhost:3000").status()).isEqualTo(200);
    assertThat(factor()).isEqualTo("2.0");
  }

  @Test
  void theTokenOpensTheControlEndpointsToAnyHost() throws Exception {
    RawHttpClient.Response r =
        admin("PUT", "/admin/shadow?target=staging&factor=4", "evil.example:" + port(), "Authorization: Bearer " + TOKEN, "Origin: http://evil.example");
    assertThat(r.status()).isEqualTo(200);
    assertThat(factor()).isEqualTo("4.0");
    assertThat(admin("PUT", "/admin/shadow?target=staging&factor=5", "evil.example", "Authorization: Bearer wrong").status()).isEqualTo(403);
    assertThat(factor()).isEqualTo("4.0");
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.1.2.3:9464", "evil.example", "tokentap.monitoring.svc:9464"})
  void metricsHealthAndReadyAnswerAnyHost(String host) throws Exception {
    RawHttpClient.Response metrics = admin("GET", "/metrics", host);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.bodyText()).contains("tokentap_shadow_copies_total");
    assertThat(admin("GET", "/health", host).status()).isEqualTo(200);
    assertThat(admin("GET", "/ready", host).status()).isEqualTo(200);
  }
}
