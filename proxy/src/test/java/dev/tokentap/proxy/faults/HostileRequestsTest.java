package dev.tokentap.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.ProxyHarness;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hostile or broken requests from clients (RFC 9112 §6.3, §11.2: reject, never guess). Each gets a
 * clear HTTP error and a close; the upstream never sees any of it; the record and
 * {@code tokentap_requests_total} say {@code rejected}; the next client is served as usual.
 */
class HostileRequestsTest {
  static final String CHAT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String SSE = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n";
  static final int MAX_BODY = 64 * 1024;
  static RawUpstream upstream;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    upstream = new RawUpstream((request, c) -> c.write(sse(SSE)));
    proxy = new ProxyHarness(upstream.baseUrl(),
        Map.of("tokentap.proxy.max-request-body", MAX_BODY + "B", "tokentap.proxy.max-header-size", "8KiB",
            "tokentap.proxy.max-initial-line-length", "4KiB", "tokentap.proxy.usage-injection", false));
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

  /** The upstream saw nothing of the bad request: the next thing it receives is this good one. */
  @AfterEach
  void upstreamSawNothingAndTheProxyKeepsServing() throws Exception {
    assertThat(upstream.pendingRequests()).as("requests that reached the upstream").isZero();
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.post("/v1/chat/completions", CHAT.replace("\"m\"", "\"after\""));
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo(SSE);
    }
    assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8)).contains("\"after\"");
    FinishedRequest after = proxy.next();
    assertThat(after.model()).isEqualTo("after");
    assertThat(after.outcome()).isEqualTo(Outcome.OK);
  }

  static String sse(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  static int port() {
    return proxy.tokentap.proxyAddress().getPort();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "Content-Length with Transfer-Encoding | 400 | Content-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n4\\r\\n{}{}\\r\\n0\\r\\n\\r\\n",
      "two equal Content-Length            | 400 | Content-Length: 2\\r\\nContent-Length: 2\\r\\n\\r\\n{}",
      "two different Content-Length        | 400 | Content-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\n{}}",
      "a Content-Length list               | 400 | Content-Length: 2, 2\\r\\n\\r\\n{}",
      "a signed Content-Length             | 400 | Content-Length: +2\\r\\n\\r\\n{}",
      "obs-fold                            | 400 | X-Folded: a\\r\\n  b\\r\\nContent-Length: 2\\r\\n\\r\\n{}",
      "obs-fold with a tab                 | 400 | Content-Length: 2\\r\\nX-Folded: a\\r\\n\\tb\\r\\n\\r\\n{}",
      "a chunk size that is not hex        | 400 | Transfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n{}\\r\\n0\\r\\n\\r\\n",
      "a negative chunk size               | 400 | Transfer-Encoding: chunked\\r\\n\\r\\n-2\\r\\n{}\\r\\n0\\r\\n\\r\\n",
      "a 0x chunk size                     | 400 | Transfer-Encoding: chunked\\r\\n\\r\\n0x2\\r\\n{}\\r\\n0\\r\\n\\r\\n",
      "a chunk size that overflows         | 400 | Transfer-Encoding: chunked\\r\\n\\r\\nffffffffffffffffff\\r\\n{}\\r\\n0\\r\\n\\r\\n",
      "chunk data longer than its size     | 400 | Transfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}}}\\r\\n0\\r\\n\\r\\n",
      "a chunk line ended by a bare LF     | 400 | Transfer-Encoding: chunked\\r\\n\\r\\n2\\n{}\\r\\n0\\r\\n\\r\\n",
      "chunked not last                    | 400 | Transfer-Encoding: chunked, gzip\\r\\n\\r\\n0\\r\\n\\r\\n",
      "an unknown transfer coding          | 400 | Transfer-Encoding: xchunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "chunked applied twice               | 400 | Transfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "a coding before chunked             | 501 | Transfer-Encoding: gzip, chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n",
      "a space in a header name            | 400 | Content Length: 2\\r\\n\\r\\n{}",
      "an unsupported expectation         | 417 | Expect: 200-ok\\r\\nContent-Length: 2\\r\\n\\r\\n{}",
      "a declared body over the limit     | 413 | Content-Length: 65537\\r\\n\\r\\n{}",
      "headers over the limit             | 431 | X-Big: " + "PAD" + "\\r\\nContent-Length: 2\\r\\n\\r\\n{}",
  })
  void isRejectedWithAClearErrorAndNeverForwarded(String name, int status, String rest) throws Exception {
    String request = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + rest.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t").replace("PAD", "x".repeat(9000));
    double rejectedBefore = Meters.requests(proxy.tokentap.registry(), "rejected");
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send(request, null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(status);
      assertThat(r.header("connection")).isEqualTo("close");
      assertThat(r.bodyText()).contains("\"type\":\"invalid_request_error\"", "tokentap: ");
      assertClosed(c.socket().getInputStream());
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(record.status()).isEqualTo(status);
    assertThat(Meters.requests(proxy.tokentap.registry(), "rejected")).isEqualTo(rejectedBefore + 1);
  }

  @Test
  void anOverlongRequestLineGets414() throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("GET /" + "x".repeat(5000) + " HTTP/1.1\r\nHost: t\r\n\r\n", null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(414);
      assertThat(r.bodyText()).contains("tokentap: malformed request");
      assertClosed(c.socket().getInputStream());
    }
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.REJECTED);
  }

  @Test
  void aChunkedBodyGrowingPastTheLimitGets413AndIsNotRelayed() throws Exception {
    byte[] piece = new byte[16 * 1024];
    java.util.Arrays.fill(piece, (byte) ' ');
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", null);
      try {
        for (int i = 0; i < 8; i++) { // 128 KiB: over the 64 KiB limit
          c.send(Integer.toHexString(piece.length) + "\r\n", piece);
          c.send("\r\n", null);
        }
        c.send("0\r\n\r\n", null);
      } catch (IOException closedUnderUs) {
        // the proxy may have answered and closed before the client finished writing
      }
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(413);
      assertThat(r.bodyText()).contains("max-request-body");
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(record.status()).isEqualTo(413);
  }

  @Test
  void anUploadOnAnUninspectedRouteThatGrowsPastTheLimitIsCutUpstream() throws Exception {
    int closedBefore = upstream.connectionsClosedByPeer();
    byte[] piece = new byte[16 * 1024];
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("POST /v1/files HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", null);
      try {
        for (int i = 0; i < 8; i++) {
          c.send(Integer.toHexString(piece.length) + "\r\n", piece);
          c.send("\r\n", null);
        }
      } catch (IOException closedUnderUs) {
        // answered and closed
      }
      assertThat(c.read().status()).isEqualTo(413);
    }
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.REJECTED);
    // Streamed uploads start upstream at once; the half-sent request is cut, never completed.
    waitFor(() -> upstream.connectionsClosedByPeer() > closedBefore);
    assertThat(upstream.pendingRequests()).isZero();
  }

  @Test
  void expect100ContinueIsAnsweredAndTheUpstreamSeesAPlainRequest() throws Exception {
    byte[] body = CHAT.getBytes(StandardCharsets.UTF_8);
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n", null);
      RawHttpClient.Response interim = c.readHead();
      assertThat(interim.status()).isEqualTo(100);
      c.send("", body);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo(SSE);
    }
    RawUpstream.Request seen = upstream.takeRequest();
    assertThat(seen.header("expect")).isNull();
    assertThat(seen.body()).isEqualTo(body);
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void expect100ContinueWithABodyOverTheLimitGets413WithoutAContinue() throws Exception {
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n", null);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).as("no 100 Continue first").isEqualTo(413);
      assertClosed(c.socket().getInputStream());
    }
    assertThat(proxy.next().status()).isEqualTo(413);
  }

  @Test
  void malformedJsonOnAnLlmRouteIsRelayedUntouchedForTheServerToAnswer() throws Exception {
    String broken = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}"; // no closing brackets
    String error = "{\"object\":\"error\",\"message\":\"Expecting ',' delimiter\",\"type\":\"BadRequestError\",\"code\":400}";
    upstream.respond((request, c) -> c.write("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
        + error.length() + "\r\n\r\n" + error));
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.post("/v1/chat/completions", broken);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.bodyText()).isEqualTo(error);
    } finally {
      upstream.respond((request, c) -> c.write(sse(SSE)));
    }
    assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8)).isEqualTo(broken);
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.status()).isEqualTo(400);
    assertThat(record.model()).isEqualTo("unknown");
  }

  @Test
  void pipelinedStreamingRequestsAreAnsweredInOrder() throws Exception {
    upstream.respond((request, c) -> {
      String model = new String(request.body(), StandardCharsets.UTF_8).replaceAll(".*\"model\":\"([^\"]+)\".*", "$1");
      if (model.equals("first")) {
        Thread.sleep(200); // the first answer is the slowest: order must still hold
      }
      c.write(sse("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + model + "\"}}]}\n\ndata: [DONE]\n\n"));
    });
    StringBuilder all = new StringBuilder();
    for (String model : new String[] {"first", "second", "third"}) {
      byte[] body = CHAT.replace("\"m\"", "\"" + model + "\"").getBytes(StandardCharsets.UTF_8);
      all.append("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ")
          .append(body.length).append("\r\n\r\n").append(new String(body, StandardCharsets.ISO_8859_1));
    }
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send(all.toString(), null); // all three before reading any answer
      for (String model : new String[] {"first", "second", "third"}) {
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).contains("\"content\":\"" + model + "\"");
      }
    } finally {
      upstream.respond((request, c) -> c.write(sse(SSE)));
    }
    for (String model : new String[] {"first", "second", "third"}) {
      assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8)).contains(model);
      FinishedRequest record = proxy.next();
      assertThat(record.model()).isEqualTo(model);
      assertThat(record.outcome()).isEqualTo(Outcome.OK);
    }
  }

  /**
   * A malformed request buffered behind a good one (pipelined) is taken up when the good one ends:
   * it starts then (README "The numbers"), so its duration is never negative and Micrometer, which
   * drops negative samples, counts it (issue 14 item 7).
   */
  @Test
  void aMalformedRequestPipelinedBehindAGoodOneHasADurationOfZeroOrMore() throws Exception {
    double timedBefore = rejectedDurations();
    byte[] body = CHAT.getBytes(StandardCharsets.UTF_8);
    String good = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " + body.length
        + "\r\n\r\n" + CHAT;
    String bad = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}}";
    try (RawHttpClient c = new RawHttpClient(port())) {
      c.send(good + bad, null); // both in one write: the second waits behind the first
      assertThat(c.read().status()).isEqualTo(200);
      assertThat(c.read().status()).isEqualTo(400);
      assertClosed(c.socket().getInputStream());
    }
    upstream.takeRequest();
    assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
    FinishedRequest rejected = proxy.next();
    assertThat(rejected.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(rejected.endNanos()).isGreaterThanOrEqualTo(rejected.startNanos());
    assertThat(rejected.e2eSeconds()).isNotNegative();
    assertThat(rejectedDurations()).as("tokentap_request_duration_seconds_count{outcome=\"rejected\"}").isEqualTo(timedBefore + 1);
  }

  static double rejectedDurations() {
    return proxy.tokentap.registry().find("tokentap.request.duration").tag("outcome", "rejected").timers().stream()
        .mapToDouble(io.micrometer.core.instrument.Timer::count).sum();
  }

  static void assertClosed(InputStream in) throws IOException {
    try {
      assertThat(in.read()).as("the proxy closed the connection after its answer").isEqualTo(-1);
    } catch (java.net.SocketException reset) {
      // closed with unread request bytes: a reset is a close too
    }
  }

  static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 1500 && !condition.getAsBoolean(); i++) {
      Thread.sleep(20);
    }
    if (!condition.getAsBoolean()) {
      throw new AssertionError("condition not reached within 30 s at " + StackWalker.getInstance().walk(f -> f.skip(1).findFirst()).orElseThrow());
    }
  }
}
