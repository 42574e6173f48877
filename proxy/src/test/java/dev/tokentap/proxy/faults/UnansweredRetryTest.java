package dev.tokentap.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.ProxyHarness;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A pooled connection the server closed while it sat idle (its keep-alive timeout, or a reset just
 * after its last response) can be handed to the next request before the FIN or RST lands; the
 * request crosses it on the wire and the server never reads it. Tokentap sends such a request once
 * more, on a new connection, when no response byte came back and it still holds the body
 * ({@code upstream.retry-unanswered}). A fresh connection that closes unanswered is not retried:
 * the server may have acted on it.
 *
 * <p>The upstream here answers the first request on each connection and hangs up on the second one
 * unanswered (after reading it: the worst case, the server saw every byte), so the second request
 * of a keep-alive client always meets a stale pooled connection.
 */
class UnansweredRetryTest {
  static final String CHAT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}";
  static final String SSE = BrokenUpstreamsTest.HEAD + BrokenUpstreamsTest.chunk(BrokenUpstreamsTest.EVENT)
      + BrokenUpstreamsTest.chunk("data: [DONE]\n\n") + "0\r\n\r\n";

  /** Answers the first request of every connection; on the second, closes (or resets) unanswered. */
  static RawUpstream oneAnswerPerConnection(boolean reset, AtomicInteger hangUps) throws IOException {
    Map<RawUpstream.Connection, Integer> served = new ConcurrentHashMap<>();
    return new RawUpstream((request, c) -> {
      if (served.merge(c, 1, Integer::sum) == 1) {
        c.write(request.requestLine().startsWith("GET")
            ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            : SSE);
      } else {
        hangUps.incrementAndGet();
        if (reset) {
          c.reset();
        } else {
          c.close();
        }
      }
    });
  }

  static double retries(ProxyHarness proxy, String reason) {
    return proxy.tokentap.registry().find("tokentap.upstream.retries").tag("reason", reason).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  static List<RawUpstream.Request> drain(RawUpstream upstream, int n) throws InterruptedException {
    List<RawUpstream.Request> seen = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      seen.add(upstream.takeRequest());
    }
    return seen;
  }

  @Test
  void aRequestThatMeetsAStalePooledConnectionIsSentAgainOnANewOne() throws Exception {
    for (boolean reset : new boolean[] {false, true}) {
      AtomicInteger hangUps = new AtomicInteger();
      try (RawUpstream upstream = oneAnswerPerConnection(reset, hangUps);
          ProxyHarness proxy = new ProxyHarness(upstream.baseUrl());
          RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
        String second = CHAT.formatted("second");
        client.post("/v1/chat/completions", CHAT.formatted("first"));
        assertThat(client.read().bodyText()).endsWith("data: [DONE]\n\n");
        client.post("/v1/chat/completions", second); // same client connection: same loop, same pool

        RawHttpClient.Response r = client.read();
        assertThat(r.status()).as("reset=%s", reset).isEqualTo(200);
        assertThat(r.complete()).isTrue();
        assertThat(r.bodyText()).isEqualTo(BrokenUpstreamsTest.EVENT + "data: [DONE]\n\n");
        List<RawUpstream.Request> seen = drain(upstream, 3);
        assertThat(new String(seen.get(1).body(), StandardCharsets.UTF_8)).contains("second");
        assertThat(seen.get(2).body()).as("sent again byte for byte").isEqualTo(seen.get(1).body());
        assertThat(seen.get(2).head()).isEqualTo(seen.get(1).head());
        assertThat(hangUps).hasValue(1);
        assertThat(upstream.connectionsAccepted()).isEqualTo(2);
        proxy.next();
        FinishedRequest record = proxy.next();
        assertThat(record.outcome()).isEqualTo(Outcome.OK);
        assertThat(record.status()).isEqualTo(200);
        assertThat(retries(proxy, "stale_connection")).isEqualTo(1.0);
      }
    }
  }

  /**
   * A server that resets every connection right after its response: the next request takes the
   * pooled connection before its RST is read, and goes again on a new connection, whether the RST
   * comes after the request was written or the write itself fails inside the flush that sends it
   * (the RST already in, not yet read). Every request is answered. The failing flush used to leave
   * the exchange's upstream leg without a connection in the middle of sending, and the client's
   * connection was closed without an answer (a CI run's "connection closed before a response"): in
   * about one run of this test in three per 100 requests, hence 400.
   */
  @Test
  void aServerThatResetsAfterEveryResponseLosesNoRequest() throws Exception {
    try (RawUpstream upstream = new RawUpstream((request, c) -> {
          c.write(SSE);
          c.reset();
        });
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.io-threads", 1));
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      for (int i = 0; i < 400; i += 2) {
        // Two at once: the second waits in the proxy and takes the pooled connection the moment the
        // first's response has ended, just as the server's RST comes in behind it.
        client.post("/v1/chat/completions", CHAT.formatted("request " + i));
        client.post("/v1/chat/completions", CHAT.formatted("request " + (i + 1)));
        for (int j = i; j < i + 2; j++) {
          RawHttpClient.Response r = client.read();
          assertThat(r.status()).as("request %d: %s", j, r.bodyText()).isEqualTo(200);
          assertThat(r.bodyText()).as("request %d", j).isEqualTo(BrokenUpstreamsTest.EVENT + "data: [DONE]\n\n");
        }
      }
      // A new connection can be lost too in this churn (a closed socket's late readiness event
      // delivered to the new socket given its number): it is made once more, as nothing was sent.
      System.out.printf("400 requests, %.0f sent again after meeting a reset connection, %.0f new connections made again%n",
          retries(proxy, "stale_connection"), retries(proxy, "connect_failed"));
    }
  }

  @Test
  void aBodylessRequestIsSentAgainToo() throws Exception {
    AtomicInteger hangUps = new AtomicInteger();
    try (RawUpstream upstream = oneAnswerPerConnection(false, hangUps);
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl());
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      for (int i = 0; i < 2; i++) {
        client.send("GET /v1/models HTTP/1.1\r\nHost: test\r\n\r\n", null);
        RawHttpClient.Response r = client.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("{}");
      }
      assertThat(drain(upstream, 3)).extracting(RawUpstream.Request::requestLine).allMatch(l -> l.startsWith("GET /v1/models"));
      assertThat(retries(proxy, "stale_connection")).isEqualTo(1.0);
    }
  }

  @Test
  void theResentRequestIsNotSentAThirdTime() throws Exception {
    AtomicInteger hangUps = new AtomicInteger();
    Map<RawUpstream.Connection, Integer> served = new ConcurrentHashMap<>();
    // Answers only the very first request; every later one, on any connection, is hung up on.
    try (RawUpstream upstream = new RawUpstream((request, c) -> {
          if (served.isEmpty() && served.merge(c, 1, Integer::sum) == 1) {
            c.write(SSE);
          } else {
            hangUps.incrementAndGet();
            c.close();
          }
        });
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl());
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      client.post("/v1/chat/completions", CHAT.formatted("first"));
      assertThat(client.read().status()).isEqualTo(200);
      client.post("/v1/chat/completions", CHAT.formatted("second"));
      RawHttpClient.Response r = client.read();
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.bodyText()).contains("\"type\":\"upstream_closed\"");
      drain(upstream, 3);
      assertThat(upstream.pendingRequests()).isZero();
      assertThat(hangUps).hasValue(2);
      proxy.next();
      assertThat(proxy.next().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
      assertThat(retries(proxy, "stale_connection")).isEqualTo(1.0);
    }
  }

  @Test
  void aFreshConnectionClosedUnansweredIsNotRetried() throws Exception {
    try (RawUpstream upstream = new RawUpstream((request, c) -> c.close());
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl());
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      client.post("/v1/chat/completions", CHAT.formatted("only"));
      assertThat(client.read().status()).isEqualTo(502);
      upstream.takeRequest();
      Thread.sleep(100); // a wrong retry would arrive by now
      assertThat(upstream.pendingRequests()).isZero();
      assertThat(retries(proxy, "stale_connection")).isZero();
    }
  }

  @Test
  void aStreamedUploadTokentapNoLongerHoldsIsNotRetried() throws Exception {
    AtomicInteger hangUps = new AtomicInteger();
    try (RawUpstream upstream = oneAnswerPerConnection(false, hangUps);
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.max-inspected-request-body", "1KiB"));
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      client.post("/v1/chat/completions", CHAT.formatted("first"));
      assertThat(client.read().status()).isEqualTo(200);
      client.post("/v1/chat/completions", CHAT.formatted("x".repeat(4096))); // relayed as it came, not kept
      assertThat(client.read().status()).isEqualTo(502);
      drain(upstream, 2);
      Thread.sleep(100);
      assertThat(upstream.pendingRequests()).isZero();
      assertThat(retries(proxy, "stale_connection")).isZero();
    }
  }

  @Test
  void retryUnansweredOffGives502() throws Exception {
    AtomicInteger hangUps = new AtomicInteger();
    try (RawUpstream upstream = oneAnswerPerConnection(false, hangUps);
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.upstream.retry-unanswered", false));
        RawHttpClient client = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      client.post("/v1/chat/completions", CHAT.formatted("first"));
      assertThat(client.read().status()).isEqualTo(200);
      client.post("/v1/chat/completions", CHAT.formatted("second"));
      RawHttpClient.Response r = client.read();
      assertThat(r.status()).isEqualTo(502);
      drain(upstream, 2);
      Thread.sleep(100);
      assertThat(upstream.pendingRequests()).isZero();
      assertThat(retries(proxy, "stale_connection")).isZero();
    }
  }
}
