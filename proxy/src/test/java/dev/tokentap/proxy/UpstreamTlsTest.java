package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import dev.tokentap.testkit.TestTls;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code https://} upstreams through real sockets, against a scripted upstream presenting the test
 * PKI's certificates: verification is on by default, a custom CA is trusted when configured, an
 * untrusted or misnamed certificate is refused with a 502 that says why (and no request byte
 * leaves), and skipping verification is possible when asked for.
 */
class UpstreamTlsTest {
  private static final String BODY =
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  private static final byte[] FIXTURE = Fixtures.stream("openai-chat-usage.sse");

  static Script fixture() {
    return Script.sse(FIXTURE, new int[] {17, 400, 1200, 2500}, 200);
  }

  /** A proxy in front of {@code upstream} reached as https://HOST:port, with the given upstream.tls keys. */
  static ProxyHarness proxy(ScriptedUpstream upstream, String host, Map<String, Object> tls) throws Exception {
    Map<String, Object> extra = new HashMap<>();
    tls.forEach((k, v) -> extra.put("tokentap.upstream.tls." + k, v));
    return new ProxyHarness("https://" + host + ":" + upstream.port(), extra);
  }

  static Map<String, Object> trustingTestCa() {
    return Map.of("ca-file", TestTls.caFile().toString());
  }

  @Test
  void upstreamWhoseCertificateLeadsToTheConfiguredCaIsRelayedByteForByteAndMetered() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "localhost", trustingTestCa())) {
      HttpResponse<byte[]> response = proxy.post("/v1/chat/completions", BODY);

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(FIXTURE);
      assertThat(upstream.takeServerNames()).as("SNI").containsExactly("localhost");
      ScriptedUpstream.Received seen = upstream.takeRequest();
      assertThat(new String(seen.body(), StandardCharsets.UTF_8)).isEqualTo(BODY);
      assertThat(seen.headers().get("host")).isEqualTo("localhost:" + upstream.port());
      FinishedRequest record = proxy.next();
      assertThat(record.outcome()).isEqualTo(Outcome.OK);
      assertThat(record.outputTokens()).isEqualTo(30);
      assertThat(record.inputTokens()).isEqualTo(14);
      assertThat(record.ttftSeconds()).isPositive();
    }
  }

  @Test
  void upstreamAddressedByIpIsVerifiedAgainstTheCertificatesIpAddressesAndGetsNoSni() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "127.0.0.1", trustingTestCa())) {
      // Two requests: the second reuses the pooled TLS connection.
      for (int i = 0; i < 2; i++) {
        HttpResponse<byte[]> response = proxy.post("/v1/chat/completions", BODY);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(FIXTURE);
        assertThat(proxy.next().outputTokens()).isEqualTo(30);
      }
      assertThat(upstream.takeServerNames()).as("no SNI for an IP address (RFC 6066 §3)").isEmpty();
    }
  }

  @Test
  void untrustedCertificateIsRefusedWith502SayingWhyAndCounted() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.UNTRUSTED.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "localhost", trustingTestCa())) {
      assertRefused(proxy, upstream, "PKIX path building failed");
    }
  }

  @Test
  void verificationIsOnByDefaultSoAPrivateCaIsNotTrustedUnlessConfigured() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "localhost", Map.of())) {
      assertRefused(proxy, upstream, "PKIX path building failed");
    }
  }

  @Test
  void certificateForAnotherHostIsRefusedEvenFromATrustedCa() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.WRONG_HOST.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "localhost", trustingTestCa())) {
      assertRefused(proxy, upstream, "No subject alternative DNS name matching localhost");
    }
  }

  @Test
  void insecureSkipVerifyAcceptsAnyCertificate() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.WRONG_HOST.serverContext(), r -> fixture());
        ProxyHarness proxy = proxy(upstream, "localhost", Map.of("insecure-skip-verify", true))) {
      HttpResponse<byte[]> response = proxy.post("/v1/chat/completions", BODY);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(FIXTURE);
      assertThat(proxy.next().outputTokens()).isEqualTo(30);
    }
  }

  private static void assertRefused(ProxyHarness proxy, ScriptedUpstream upstream, String reason) throws Exception {
    HttpResponse<byte[]> response = proxy.post("/v1/chat/completions", BODY);
    String body = new String(response.body(), StandardCharsets.UTF_8);
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(body).contains("upstream_unavailable", "TLS handshake failed", reason);
    assertThat(upstream.requestCount()).as("no request reached the upstream").isZero();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.status()).isEqualTo(502);
    String metrics = proxy.metrics();
    assertThat(metrics).contains("tokentap_upstream_connect_errors_total{reason=\"tls\",target=\"production\"} 1.0");
    assertThat(metrics).containsPattern("tokentap_requests_total\\{[^}]*outcome=\"error\"[^}]*} 1.0");
  }
}
