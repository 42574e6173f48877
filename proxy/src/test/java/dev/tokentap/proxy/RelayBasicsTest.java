package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Ending;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/1.1 relaying (RFC 9112, RFC 9110 §7.6.1) through real sockets, with a scripted upstream. */
class RelayBasicsTest {
  static ScriptedUpstream upstream;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    upstream = new ScriptedUpstream(r -> json(200, "{}"));
    proxy = new ProxyHarness(upstream.baseUrl());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.close();
  }

  static Script json(int status, String body) {
    return new Script(status, "application/json", List.of(body.getBytes(StandardCharsets.UTF_8)), 0, Ending.COMPLETE);
  }

  @org.junit.jupiter.api.BeforeEach
  void forgetEarlierRequests() {
    upstream.clearRequests();
    proxy.finished.clear();
  }

  int port() {
    return proxy.tokentap.proxyAddress().getPort();
  }

  @Test
  void anyPathPassesThroughUntouchedAndIsRecordedAsOther() throws Exception {
    String models = "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\"}]}";
    upstream.script(r -> json(200, models));
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("GET /v1/models?x=1 HTTP/1.1\r\nHost: test\r\n\r\n", null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo(models);
    }
    assertThat(upstream.takeRequest().uri()).isEqualTo("/v1/models?x=1");
    FinishedRequest record = proxy.next();
    assertThat(record.route()).isEqualTo(Route.OTHER);
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
    assertThat(record.method()).isEqualTo("GET");
  }

  @Test
  void hopByHopHeadersAreDroppedAndForwardingHeadersAdded() throws Exception {
    upstream.script(r -> json(200, "{}"));
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("GET /v1/models HTTP/1.1\r\nHost: proxy.example:8080\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
          + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-End-To-End: kept\r\n\r\n", null);
      assertThat(c.read().status()).isEqualTo(200);
    }
    ScriptedUpstream.Received seen = upstream.takeRequest();
    assertThat(seen.headers().names()).map(String::toLowerCase)
        .doesNotContain("x-hop", "keep-alive", "te", "proxy-connection", "upgrade")
        .contains("x-end-to-end", "x-forwarded-for", "forwarded");
    assertThat(seen.headers().get("host")).isEqualTo("127.0.0.1:" + upstream.port());
    assertThat(seen.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(seen.headers().get("x-forwarded-host")).isEqualTo("proxy.example:8080");
    assertThat(seen.headers().get("forwarded")).isEqualTo("for=127.0.0.1;proto=http;host=\"proxy.example:8080\"");
    proxy.next();
  }

  @Test
  void chunkedRequestBodyIsReadWholeAndSentWithALength() throws Exception {
    upstream.script(r -> json(200, "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":7,\"total_tokens\":10}}"));
    String body = "{\"model\":\"chunky\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    try (RawHttpClient c = new RawHttpClient(port())) {
      String first = body.substring(0, 10);
      String rest = body.substring(10);
      c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          + Integer.toHexString(first.length()) + "\r\n" + first + "\r\n"
          + Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\n\r\n", null);
      assertThat(c.read().status()).isEqualTo(200);
    }
    ScriptedUpstream.Received seen = upstream.takeRequest();
    assertThat(new String(seen.body(), StandardCharsets.UTF_8)).isEqualTo(body);
    assertThat(seen.headers().get("content-length")).isEqualTo(String.valueOf(body.length()));
    FinishedRequest record = proxy.next();
    assertThat(record.model()).isEqualTo("chunky");
    assertThat(record.route()).isEqualTo(Route.CHAT);
    // A non-streaming response: tokens from usage, no first-token time.
    assertThat(record.outputTokens()).isEqualTo(7);
    assertThat(record.inputTokens()).isEqualTo(3);
    assertThat(record.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(record.ttftSeconds()).isNaN();
    assertThat(record.e2eSeconds()).isPositive();
  }

  @Test
  void largeUploadStreamsThroughUninspected() throws Exception {
    upstream.script(r -> json(200, "{\"bytes\":" + r.body().length + "}"));
    byte[] piece = new byte[64 * 1024];
    java.util.Arrays.fill(piece, (byte) 'u');
    int pieces = 96; // 6 MiB: above the inspection limit's default too, on a route that is not inspected
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("POST /v1/files HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", null);
      for (int i = 0; i < pieces; i++) {
        c.send(Integer.toHexString(piece.length) + "\r\n", piece);
        c.send("\r\n", null);
      }
      c.send("0\r\n\r\n", null);
      RawHttpClient.Response r = c.read();
      assertThat(r.bodyText()).isEqualTo("{\"bytes\":" + (pieces * piece.length) + "}");
    }
    assertThat(upstream.takeRequest().body()).hasSize(pieces * piece.length);
    assertThat(proxy.next().route()).isEqualTo(Route.OTHER);
  }

  @Test
  void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
    upstream.script(r -> json(200, "{\"n\":\"" + r.uri() + "\"}"));
    try (RawHttpClient c = new RawHttpClient(port())) {
      for (int i = 0; i < 3; i++) {
        c.send("GET /v1/models/" + i + " HTTP/1.1\r\nHost: t\r\n\r\n", null);
        RawHttpClient.Response r = c.read();
        assertThat(r.bodyText()).isEqualTo("{\"n\":\"/v1/models/" + i + "\"}");
        assertThat(r.complete()).isTrue();
      }
      // Pipelined: both requests written before either response is read; answers come in order.
      c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n", null);
      assertThat(c.read().bodyText()).isEqualTo("{\"n\":\"/a\"}");
      assertThat(c.read().bodyText()).isEqualTo("{\"n\":\"/b\"}");
    }
    for (int i = 0; i < 5; i++) {
      proxy.next();
    }
  }

  @Test
  void upstreamErrorStatusPassesThroughAsAnError() throws Exception {
    String error = "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\",\"param\":null,\"code\":429}}";
    upstream.script(r -> json(429, error));
    var response = proxy.post("/v1/chat/completions", "{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(error);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.status()).isEqualTo(429);
  }

  @Test
  void malformedRequestIsRejectedWithAClearError() throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("GET /" + "x".repeat(20_000) + " HTTP/1.1\r\nHost: t\r\n\r\n", null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(414);
      assertThat(r.bodyText()).contains("\"type\":\"invalid_request_error\"");
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.REJECTED);
  }

  @Test
  void excludedPathsAreRelayedButNotRecorded() throws Exception {
    upstream.script(r -> json(200, "{\"ok\":true}"));
    assertThat(proxy.http.send(java.net.http.HttpRequest.newBuilder(proxy.url("/health")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("{\"ok\":true}");
    upstream.takeRequest();
    Thread.sleep(100);
    assertThat(proxy.finished).isEmpty();
  }
}
