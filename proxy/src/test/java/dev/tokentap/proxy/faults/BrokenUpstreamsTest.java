package dev.tokentap.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.ProxyHarness;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Upstreams that send what no inference server should: garbage for SSE, a runaway event, invalid
 * UTF-8, silence, resets at every phase of the exchange, a 429. Bytes that reach the client are the
 * upstream's own, untouched; what tokentap adds (a 502, a cut stream) says what happened; the record
 * and the metrics say it too. Mid-stream resets and closes from a real server (the emulator's
 * faults) are in {@code UpstreamFaultsTest}; this class works at the byte level.
 */
class BrokenUpstreamsTest {
  static final String CHAT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  static final String EVENT = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"}}]}\n\n";
  /** With max-inspected-response-body at 64 KiB the meter keeps events up to its 256 KiB floor. */
  static final int EVENT_LIMIT = 256 * 1024;
  static RawUpstream upstream;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    upstream = new RawUpstream((request, c) -> c.write(HEAD + chunk(EVENT) + chunk("data: [DONE]\n\n") + "0\r\n\r\n"));
    proxy = new ProxyHarness(upstream.baseUrl(),
        Map.of("tokentap.upstream.idle-timeout", "300ms", "tokentap.upstream.response-head-timeout", "2s",
            "tokentap.proxy.max-inspected-response-body", "64KiB"));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    upstream.close();
  }

  @BeforeEach
  void forget() throws InterruptedException {
    proxy.finished.clear();
    while (upstream.pendingRequests() > 0) {
      upstream.takeRequest();
    }
    // A test that resets its connection after a complete response can leave the proxy a pooled
    // connection whose RST is still on its way; the next test's request is then sent again on a
    // new connection (UnansweredRetryTest), which these tests need not tell apart.
  }

  @AfterEach
  void inFlightReturnsToZero() throws InterruptedException {
    HostileRequestsTest.waitFor(() -> Meters.inFlight(proxy.tokentap.registry()) == 0);
  }

  static String chunk(String s) {
    return Integer.toHexString(s.getBytes(StandardCharsets.ISO_8859_1).length) + "\r\n" + s + "\r\n";
  }

  static byte[] chunk(byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(b);
    out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }

  static RawHttpClient.Response exchange() throws IOException {
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      c.post("/v1/chat/completions", CHAT);
      return c.read();
    }
  }

  @Test
  void garbageInsteadOfSseIsRelayedByteForByteAndRecordedUnparsed() throws Exception {
    byte[] garbage = new byte[4096];
    new java.util.Random(7).nextBytes(garbage);
    upstream.respond((request, c) -> {
      c.write(HEAD);
      c.write(chunk(garbage));
      c.write("0\r\n\r\n");
    });
    RawHttpClient.Response r = exchange();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.complete()).isTrue();
    assertThat(r.body()).isEqualTo(garbage);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.meter().tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(record.meter().tokenEvents()).isZero();
    assertThat(record.ttftSeconds()).isNaN();
    assertThat(record.responseBytes()).isEqualTo(garbage.length);
  }

  @Test
  void anEventLargerThanTheMeterLimitStopsMeteringButEveryByteFlows() throws Exception {
    String big = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + "x".repeat(EVENT_LIMIT * 2) + "\"}}]}\n\n";
    String expected = EVENT + EVENT + big + EVENT + "data: [DONE]\n\n";
    upstream.respond((request, c) -> {
      c.write(HEAD + chunk(EVENT) + chunk(EVENT));
      for (int i = 0; i < big.length(); i += 32 * 1024) {
        c.write(chunk(big.substring(i, Math.min(big.length(), i + 32 * 1024))));
      }
      c.write(chunk(EVENT) + chunk("data: [DONE]\n\n") + "0\r\n\r\n");
    });
    RawHttpClient.Response r = exchange();
    assertThat(r.complete()).isTrue();
    assertThat(r.bodyText()).isEqualTo(expected);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).as("a clean end is not an abort, though [DONE] was never read").isEqualTo(Outcome.OK);
    assertThat(record.meter().tokenSource()).as("the mark: the count stops at the big event").isEqualTo(TokenSource.UNPARSED);
    assertThat(record.meter().tokenEvents()).isEqualTo(2);
    assertThat(record.ttftSeconds()).isPositive();
    assertThat(record.responseBytes()).isEqualTo(expected.length());
    assertThat(Meters.requests(proxy.tokentap.registry(), "ok")).isPositive();
  }

  /** With usage injection the relay holds an event until it ends; a runaway event must not be held. */
  @Test
  void aRunawayEventIsNotHeldBackWhileItIsStillArriving() throws Exception {
    CountDownLatch clientGotIt = new CountDownLatch(1);
    AtomicBoolean released = new AtomicBoolean();
    upstream.respond((request, c) -> {
      c.write(HEAD + chunk(EVENT) + chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\""));
      for (int i = 0; i < 16; i++) {
        c.write(chunk("y".repeat(64 * 1024))); // 1 MiB of one event that never ends
      }
      released.set(clientGotIt.await(10, TimeUnit.SECONDS));
      c.write(chunk("\"}}]}\n\n") + chunk("data: [DONE]\n\n") + "0\r\n\r\n");
    });
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      c.post("/v1/chat/completions", CHAT); // no include_usage: the proxy injects it and filters events
      RawHttpClient.Response head = c.readHead();
      assertThat(head.status()).isEqualTo(200);
      InputStream in = c.socket().getInputStream();
      long seen = 0;
      byte[] buf = new byte[64 * 1024];
      while (seen < 768 * 1024) { // most of the event arrives while the upstream still holds its end
        int n = in.read(buf);
        assertThat(n).isPositive();
        seen += n;
      }
      clientGotIt.countDown();
      String tail = "";
      while (!tail.endsWith("0\r\n\r\n")) { // the rest, to the terminating chunk
        int n = in.read(buf);
        assertThat(n).isPositive();
        tail = (tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        tail = tail.substring(Math.max(0, tail.length() - 16));
      }
    }
    assertThat(released).as("the client read the event before it ended").isTrue();
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
    assertThat(record.meter().tokenSource()).isEqualTo(TokenSource.UNPARSED);
  }

  @Test
  void invalidUtf8PassesThroughUntouched() throws Exception {
    byte[] invalid = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\u0000\"}}]}\n\n".getBytes(StandardCharsets.ISO_8859_1);
    invalid[invalid.length - 10] = (byte) 0xC3; // a lead byte followed by '"': never valid UTF-8
    byte[] lone = {(byte) 0xFF, (byte) 0xFE, '\n', '\n'};
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(EVENT.getBytes(StandardCharsets.ISO_8859_1));
    expected.writeBytes(invalid);
    expected.writeBytes(lone);
    expected.writeBytes(EVENT.getBytes(StandardCharsets.ISO_8859_1));
    expected.writeBytes("data: [DONE]\n\n".getBytes(StandardCharsets.ISO_8859_1));
    upstream.respond((request, c) -> {
      c.write(HEAD + chunk(EVENT));
      c.write(chunk(invalid));
      c.write(chunk(lone));
      c.write(chunk(EVENT) + chunk("data: [DONE]\n\n") + "0\r\n\r\n");
    });
    RawHttpClient.Response r = exchange();
    assertThat(r.complete()).isTrue();
    assertThat(r.body()).isEqualTo(expected.toByteArray());
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
    assertThat(record.meter().tokenEvents()).as("the events around the bad bytes still count").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aStallAfterTheHeadPastTheIdleTimeoutCutsTheStreamAndTheUpstreamConnection() throws Exception {
    AtomicBoolean upstreamSawTheClose = new AtomicBoolean();
    upstream.respond((request, c) -> {
      c.write(HEAD + chunk(EVENT));
      upstreamSawTheClose.set(c.stallUntilPeerCloses(10_000));
    });
    RawHttpClient.Response r = exchange();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.complete()).as("cut, not ended").isFalse();
    assertThat(r.bodyText()).isEqualTo(EVENT);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(record.meter().tokenEvents()).isEqualTo(1);
    HostileRequestsTest.waitFor(upstreamSawTheClose::get);
    assertThat(Meters.requests(proxy.tokentap.registry(), "timeout")).isPositive();
  }

  /** Where the upstream resets the connection, and what the client gets then. */
  enum ResetPoint {
    BEFORE_ANY_BYTE(""),
    INSIDE_THE_STATUS_LINE("HTTP/1.1 20"),
    INSIDE_THE_HEADERS("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-"),
    AFTER_THE_HEAD(HEAD),
    INSIDE_A_CHUNK_SIZE(HEAD + chunk(EVENT) + "1"),
    INSIDE_AN_EVENT(HEAD + chunk(EVENT) + chunk(EVENT.substring(0, 20))),
    BEFORE_THE_LAST_CHUNK(HEAD + chunk(EVENT) + chunk("data: [DONE]\n\n")),
    AFTER_THE_LAST_CHUNK(HEAD + chunk(EVENT) + chunk("data: [DONE]\n\n") + "0\r\n\r\n");

    final String sent;

    ResetPoint(String sent) {
      this.sent = sent;
    }

    boolean beforeHead() {
      return !sent.contains("\r\n\r\n");
    }
  }

  @ParameterizedTest
  @EnumSource(ResetPoint.class)
  void aResetAtEveryPhaseGivesTheClientACleanResult(ResetPoint point) throws Exception {
    upstream.respond((request, c) -> {
      c.write(point.sent);
      Thread.sleep(50); // the bytes leave before the reset, which would discard them
      c.reset();
    });
    RawHttpClient.Response r = exchange();
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    if (point.beforeHead()) {
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.bodyText()).contains("\"type\":\"upstream_closed\"");
      assertThat(record.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
      assertThat(record.status()).isEqualTo(502);
    } else if (point == ResetPoint.AFTER_THE_LAST_CHUNK) {
      assertThat(r.complete()).isTrue();
      assertThat(r.bodyText()).isEqualTo(EVENT + "data: [DONE]\n\n");
      assertThat(record.outcome()).isEqualTo(Outcome.OK);
    } else {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.complete()).as("the client's stream is cut the way the upstream's was").isFalse();
      assertThat(r.bodyText()).doesNotContain("tokentap");
      assertThat(record.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    }
  }

  @Test
  void garbageInsteadOfAnHttpResponseGives502() throws Exception {
    upstream.respond((request, c) -> {
      c.write("SSH-2.0-OpenSSH_9.6\r\n\r\n");
      c.close();
    });
    RawHttpClient.Response r = exchange();
    assertThat(r.status()).isEqualTo(502);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.status()).isEqualTo(502);
    assertThat(record.outcome()).isIn(Outcome.UPSTREAM_ABORT, Outcome.ERROR);
  }

  @Test
  void a429WithRetryAfterPassesThroughUntouched() throws Exception {
    String body = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
    upstream.respond((request, c) -> c.write("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 7\r\n"
        + "x-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: 6.5s\r\nContent-Length: " + body.length() + "\r\n\r\n" + body));
    RawHttpClient.Response r = exchange();
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("retry-after")).isEqualTo("7");
    assertThat(r.header("x-ratelimit-remaining-requests")).isEqualTo("0");
    assertThat(r.header("x-ratelimit-reset-requests")).isEqualTo("6.5s");
    assertThat(r.bodyText()).isEqualTo(body);
    upstream.takeRequest();
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(record.status()).isEqualTo(429);
    assertThat(Meters.requests(proxy.tokentap.registry(), "error")).isPositive();
  }
}
