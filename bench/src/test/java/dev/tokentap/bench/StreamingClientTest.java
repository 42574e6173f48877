package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.RawUpstream;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.TestTls;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bench's Netty client on its own, against servers that show what happened on the wire:
 * connections accepted, request bytes, a stream cut midway, a stalled stream, TLS. Everything else
 * (formulas, schedules, timeouts against the emulator) is in {@link BenchRunTest}.
 */
class StreamingClientTest {
  private static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse"); // 30 usage tokens, 30 content events
  private static final byte[] BODY = "{\"model\":\"m\",\"stream\":true}".getBytes(StandardCharsets.US_ASCII);
  private static final BenchRequest CHAT = new BenchRequest("/v1/chat/completions", Route.CHAT, "m", BODY, -1, -1);

  private static RequestRecorder recorder() {
    return new RequestRecorder(new TokentapMetrics(new SimpleMeterRegistry(), SloSpec.NONE.rules()),
        new SloPolicy(SloSpec.NONE.rules()), new ModelLabels(100), 1 << 20);
  }

  private static StreamingClient client(String base, Duration timeout) {
    return new StreamingClient(StreamingClient.baseOf(base), recorder(), "bench", timeout);
  }

  /** A chunked SSE response written in two pieces, each flushed on its own. */
  private static void sse(RawUpstream.Connection c, byte[] body, boolean complete) throws java.io.IOException, InterruptedException {
    c.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    int half = body.length / 2;
    c.write(RawUpstream.chunk(Arrays.copyOfRange(body, 0, half)));
    Thread.sleep(5);
    if (!complete) {
      c.close();
      return;
    }
    c.write(RawUpstream.chunk(Arrays.copyOfRange(body, half, body.length)));
    c.write("0\r\n\r\n");
  }


  @Test
  void sendsTheRequestAndReusesOneKeptAliveConnection() throws Exception {
    try (RawUpstream upstream = new RawUpstream((r, c) -> sse(c, SSE, true));
        StreamingClient client = client(upstream.baseUrl() + "/api/v1", Duration.ofSeconds(10))) {
      for (int i = 0; i < 3; i++) {
        StreamingClient.Result r = client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS);
        FinishedRequest f = r.record();
        assertThat(f.outcome()).isEqualTo(Outcome.OK);
        assertThat(f.outputTokens()).isEqualTo(30);
        assertThat(r.itlGapsNanos()).hasSize(f.meter().tokenEvents() - 1);
        assertThat(Arrays.stream(r.itlGapsNanos()).sum()).isEqualTo(f.meter().lastTokenNanos() - f.meter().firstTokenNanos());
        RawUpstream.Request seen = upstream.takeRequest();
        assertThat(seen.requestLine()).isEqualTo("POST /api/v1/chat/completions HTTP/1.1");
        assertThat(seen.header("host")).isEqualTo("127.0.0.1:" + upstream.port());
        assertThat(seen.header("content-type")).isEqualTo("application/json");
        assertThat(seen.header("accept")).isEqualTo("text/event-stream");
        assertThat(seen.body()).isEqualTo(BODY);
      }
      // One request at a time: every one after the first went out on the connection kept alive
      // (sends rotate over the event loops, each with its own pool: at most one connection each).
      assertThat(upstream.connectionsAccepted()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }
  }

  @Test
  void oneEventLoopKeepsOneConnectionForSequentialRequests() throws Exception {
    try (RawUpstream upstream = new RawUpstream((r, c) -> sse(c, SSE, true));
        StreamingClient client = new StreamingClient(
            URI.create(upstream.baseUrl()), recorder(), "bench", Duration.ofSeconds(10), 1, null)) {
      for (int i = 0; i < 5; i++) {
        assertThat(client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record().outcome()).isEqualTo(Outcome.OK);
      }
      assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  void aConnectionIdlePastTheReuseLimitIsClosedNotReused() throws Exception {
    try (RawUpstream upstream = new RawUpstream((r, c) -> sse(c, SSE, true));
        StreamingClient client = new StreamingClient(
            URI.create(upstream.baseUrl()), recorder(), "bench", Duration.ofSeconds(10), 1, null)) {
      assertThat(client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record().outcome()).isEqualTo(Outcome.OK);
      // A server closing idle connections at about this age (uvicorn: 5 s) may be closing this one.
      Thread.sleep(dev.tokentap.proxy.client.ConnectionPool.Limits.DEFAULT_IDLE_REUSE_LIMIT.toMillis() + 200);
      assertThat(client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record().outcome()).isEqualTo(Outcome.OK);
      assertThat(upstream.connectionsAccepted()).isEqualTo(2);
      assertThat(upstream.connectionsClosedByPeer()).as("the old connection was closed by the bench").isEqualTo(1);
    }
  }

  @Test
  void aStreamCutMidwayIsAnUpstreamAbortAndItsConnectionIsNotReused() throws Exception {
    try (RawUpstream upstream = new RawUpstream((r, c) -> sse(c, SSE, false));
        StreamingClient client = new StreamingClient(
            URI.create(upstream.baseUrl()), recorder(), "bench", Duration.ofSeconds(10), 1, null)) {
      FinishedRequest cut = client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record();
      assertThat(cut.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
      assertThat(cut.status()).isEqualTo(200);
      upstream.respond((r, c) -> sse(c, SSE, true));
      assertThat(client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record().outcome()).isEqualTo(Outcome.OK);
      assertThat(upstream.connectionsAccepted()).isEqualTo(2);
    }
  }

  @Test
  void aStalledStreamTimesOutAndItsConnectionIsClosed() throws Exception {
    CountDownLatch closedByClient = new CountDownLatch(1);
    try (RawUpstream upstream = new RawUpstream((r, c) -> {
          c.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
          c.write(RawUpstream.chunk(Arrays.copyOfRange(SSE, 0, SSE.length / 2)));
          if (c.stallUntilPeerCloses(30_000)) {
            closedByClient.countDown();
          }
          c.close();
        });
        StreamingClient client = client(upstream.baseUrl(), Duration.ofMillis(300))) {
      FinishedRequest f = client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record();
      assertThat(f.outcome()).isEqualTo(Outcome.TIMEOUT);
      assertThat(f.e2eSeconds()).isGreaterThanOrEqualTo(0.3);
      assertThat(closedByClient.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void anHttpsTargetIsVerifiedAndNamedInSni() throws Exception {
    ScriptedUpstream.Script script = ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 2}, 100);
    try (ScriptedUpstream trusted = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(), r -> script);
        StreamingClient client = new StreamingClient(URI.create("https://localhost:" + trusted.port()), recorder(), "bench",
            Duration.ofSeconds(10), 1, TestTls.caTrustManager())) {
      for (int i = 0; i < 2; i++) {
        FinishedRequest f = client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record();
        assertThat(f.outcome()).isEqualTo(Outcome.OK);
        assertThat(f.outputTokens()).isEqualTo(30);
      }
      assertThat(trusted.takeRequest().headers().get("host")).isEqualTo("localhost:" + trusted.port());
      assertThat(trusted.takeServerNames()).containsExactly("localhost");
    }
  }

  @Test
  void anUntrustedCertificateFailsTheRequestBeforeAnyByteIsSent() throws Exception {
    ScriptedUpstream.Script script = ScriptedUpstream.Script.sse(SSE, new int[0], 0);
    // The JVM's default trust store, as `tokentap bench` uses: a self-signed certificate is refused.
    try (ScriptedUpstream untrusted = new ScriptedUpstream(TestTls.Server.UNTRUSTED.serverContext(), r -> script);
        StreamingClient client = client("https://localhost:" + untrusted.port(), Duration.ofSeconds(10))) {
      FinishedRequest f = client.send(CHAT, System.nanoTime()).get(10, TimeUnit.SECONDS).record();
      // No connection could be had: `error`, as the relay's 502 and a shadow copy's (upstream client, MeteredCall).
      assertThat(f.outcome()).isEqualTo(Outcome.ERROR);
      assertThat(f.status()).isZero();
      assertThat(untrusted.requestCount()).isZero();
    }
  }
}
