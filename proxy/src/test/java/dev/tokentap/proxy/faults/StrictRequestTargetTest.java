package dev.tokentap.proxy.faults;

import static dev.tokentap.proxy.faults.HostileRequestsTest.assertClosed;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.ProxyHarness;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import io.micrometer.core.instrument.Counter;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request line, target and Host (RFC 9112 §3, issue 14 items 2 and 3), through real sockets: a raw
 * client, and an upstream that records every request it receives. A refused head is answered by
 * tokentap, recorded {@code rejected}, the connection closed, and the upstream sees nothing of it; an
 * absolute-form target naming the Host's authority reaches the upstream in origin-form and is
 * metered by its path.
 */
class StrictRequestTargetTest {
  static final String CHAT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String SSE = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n"
      + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n";
  static RawUpstream upstream;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    upstream = new RawUpstream((request, c) -> c.write(HostileRequestsTest.sse(SSE)));
    proxy = new ProxyHarness(upstream.baseUrl(), Map.of());
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    upstream.close();
  }

  @BeforeEach
  void forget() {
    proxy.finished.clear();
  }

  @AfterEach
  void upstreamSawNothingElse() {
    assertThat(upstream.pendingRequests()).as("requests that reached the upstream").isZero();
  }

  static String unescape(String s) {
    return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\x00", "\u0000").replace("\\x01", "\u0001")
        .replace("\\x1b", "\u001b").replace("\\x7f", "\u007f").replace("\\xe9", "\u00e9");
  }

  static String chat(String line, String hosts) {
    return line + "\r\n" + hosts + "Content-Type: application/json\r\nContent-Length: " + CHAT.length() + "\r\n\r\n" + CHAT;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "NUL in the target                 | 400 | POST /v1/chat/\\x00completions HTTP/1.1",
      "0x01 in the target                | 400 | POST /v1/chat/\\x01completions HTTP/1.1",
      "ESC in the target                 | 400 | POST /v1/chat/\\x1bcompletions HTTP/1.1",
      "DEL in the target                 | 400 | POST /v1/chat/\\x7fcompletions HTTP/1.1",
      "0xE9 in the target                | 400 | POST /v1/caf\\xe9/chat/completions HTTP/1.1",
      "absolute-form naming another host | 400 | POST http://other.host/v1/chat/completions HTTP/1.1",
      "authority-form                    | 400 | POST t:443 HTTP/1.1",
      "asterisk-form with GET            | 400 | GET * HTTP/1.1",
      "CONNECT                           | 405 | CONNECT other.host:443 HTTP/1.1",
      "TRACE                             | 405 | TRACE / HTTP/1.1",
      "an unknown method                 | 501 | FOO /v1/chat/completions HTTP/1.1",
      "HTTP/1.2                          | 505 | POST /v1/chat/completions HTTP/1.2",
      "HTTP/9.9                          | 505 | POST /v1/chat/completions HTTP/9.9",
      "HTTP/2.0                          | 505 | POST /v1/chat/completions HTTP/2.0",
  })
  void aRequestLineOutsideTheRulesIsAnsweredByTokentapAndNeverRelayed(String name, int status, String line) throws Exception {
    RawHttpClient.Response r = refused(chat(unescape(line), "Host: t\r\n"), status);
    if (status == 405) {
      assertThat(r.header("allow")).isEqualTo("GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "two different Host headers | Host: t\\r\\nHost: other.host\\r\\n",
      "two equal Host headers     | Host: t\\r\\nHost: t\\r\\n",
      "no Host on HTTP/1.1        | ''",
      "a Host with a path         | Host: t/v1\\r\\n",
  })
  void aBadHostIsAnsweredWith400(String name, String hosts) throws Exception {
    refused(chat("POST /v1/chat/completions HTTP/1.1", unescape(hosts)), 400);
  }

  @ParameterizedTest(name = "preserve-host = {0}")
  @ValueSource(booleans = {true, false})
  void twoHostHeadersAreRefusedWhateverPreserveHostSays(boolean preserveHost) throws Exception {
    try (ProxyHarness other = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.preserve-host", preserveHost))) {
      double before = Meters.requests(other.tokentap.registry(), "rejected");
      try (RawHttpClient c = new RawHttpClient(other.tokentap.proxyAddress().getPort())) {
        c.send(chat("POST /v1/chat/completions HTTP/1.1", "Host: t\r\nHost: other.host\r\n"), null);
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.bodyText()).contains("more than one Host header");
        assertClosed(c.socket().getInputStream());
      }
      assertThat(other.next().outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(Meters.requests(other.tokentap.registry(), "rejected")).isEqualTo(before + 1);
      assertThat(other.metrics()).containsPattern("tokentap_requests_total\\{[^}]*outcome=\"rejected\"[^}]*\\} 1\\.0");
    }
  }

  @Test
  void anAbsoluteFormTargetNamingTheHostIsRelayedInOriginFormAndMeteredByItsPath() throws Exception {
    double chatTokensBefore = tokens("chat");
    double otherBefore = Meters.requests(proxy.tokentap.registry());
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send(chat("POST http://T:80/v1/chat/completions HTTP/1.1", "Host: t\r\n"), null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).contains("\"content\":\"ok\"", "[DONE]");
    }
    RawUpstream.Request seen = upstream.takeRequest();
    assertThat(seen.requestLine()).isEqualTo("POST /v1/chat/completions HTTP/1.1");
    assertThat(seen.header("host")).isEqualTo("127.0.0.1:" + upstream.port());
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
    assertThat(record.route()).isEqualTo(Route.CHAT);
    assertThat(record.model()).isEqualTo("m");
    assertThat(record.outputTokens()).isEqualTo(1);
    assertThat(tokens("chat")).isEqualTo(chatTokensBefore + 6);
    assertThat(Meters.requests(proxy.tokentap.registry())).isEqualTo(otherBefore + 1);
  }

  @Test
  void optionsWithTheAsteriskIsRelayedAsIs() throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", null);
      assertThat(c.read().status()).isEqualTo(200);
    }
    assertThat(upstream.takeRequest().requestLine()).isEqualTo("OPTIONS * HTTP/1.1");
    FinishedRequest record = proxy.next();
    assertThat(record.route()).isEqualTo(Route.OTHER);
    assertThat(record.outcome()).isNotEqualTo(Outcome.REJECTED);
  }

  @Test
  void anHttp10RequestWithoutHostIsServed() throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("GET /v1/models HTTP/1.0\r\n\r\n", null);
      assertThat(c.read().status()).isEqualTo(200);
    }
    RawUpstream.Request seen = upstream.takeRequest();
    assertThat(seen.requestLine()).isEqualTo("GET /v1/models HTTP/1.1");
    assertThat(seen.header("host")).isEqualTo("127.0.0.1:" + upstream.port());
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void theHttp2PrefaceGetsAGoAwayHttp11RequiredAndAClose() throws Exception {
    double before = Meters.requests(proxy.tokentap.registry(), "rejected");
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", null);
      DataInputStream in = new DataInputStream(c.socket().getInputStream());
      byte[] settings = in.readNBytes(9);
      assertThat(settings).containsExactly(0, 0, 0, 4, 0, 0, 0, 0, 0);
      int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
      assertThat(in.readUnsignedByte()).as("GOAWAY").isEqualTo(7);
      assertThat(in.readUnsignedByte()).isZero();
      assertThat(in.readInt()).as("stream").isZero();
      assertThat(in.readInt()).as("last stream").isZero();
      assertThat(in.readInt()).as("HTTP_1_1_REQUIRED").isEqualTo(0xd);
      assertThat(new String(in.readNBytes(length - 8), StandardCharsets.US_ASCII)).contains("HTTP/1.1");
      assertClosed(in);
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(record.status()).isEqualTo(505);
    assertThat(Meters.requests(proxy.tokentap.registry(), "rejected")).isEqualTo(before + 1);
  }

  /** Sends {@code request}, expects {@code status} from tokentap, a close, one rejected record and count. */
  private static RawHttpClient.Response refused(String request, int status) throws Exception {
    double before = Meters.requests(proxy.tokentap.registry(), "rejected");
    RawHttpClient.Response r;
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send(request, null);
      r = c.read();
      assertThat(r.status()).isEqualTo(status);
      assertThat(r.header("connection")).isEqualTo("close");
      assertThat(r.header("x-tokentap-error")).isEqualTo("invalid_request_error");
      assertThat(r.bodyText()).contains("\"type\":\"invalid_request_error\"", "tokentap: ");
      assertClosed(c.socket().getInputStream());
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(record.status()).isEqualTo(status);
    assertThat(Meters.requests(proxy.tokentap.registry(), "rejected")).isEqualTo(before + 1);
    return r;
  }

  private static double tokens(String route) {
    return proxy.tokentap.registry().find("tokentap.tokens").tag("route", route).counters().stream().mapToDouble(Counter::count).sum();
  }

  static int port() {
    return proxy.tokentap.proxyAddress().getPort();
  }
}
