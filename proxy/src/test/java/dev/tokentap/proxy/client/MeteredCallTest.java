package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.relay.Transports;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.RawUpstream;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link MeteredCall} through real sockets: each way a call ends, what it records, and when its connection is kept. */
class MeteredCallTest {
  private static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse"); // 30 usage tokens, 30 content events
  private static final byte[] BODY = "{\"model\":\"m\",\"stream\":true}".getBytes(StandardCharsets.US_ASCII);
  private static final MeteredCall.Timeouts NONE = new MeteredCall.Timeouts(null, null, null);

  private EventLoopGroup group;
  private RawUpstream upstream;
  private ConnectionPool pool;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final RequestRecorder recorder = new RequestRecorder(new TokentapMetrics(registry, List.of()),
      new SloPolicy(List.of()), new ModelLabels(100), 1 << 20);

  private record Ended(FinishedRequest finished, boolean completed, Throwable cause) {}

  @BeforeEach
  void start() throws Exception {
    group = Transports.newGroup(1, "call-test");
    upstream = new RawUpstream((r, c) -> sse(c, true));
    pool = new ConnectionPool(group.next(), UpstreamUri.parse(upstream.baseUrl()), null, ConnectionPool.Limits.unbounded(Duration.ofSeconds(5)));
  }

  @AfterEach
  void stop() throws Exception {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    upstream.close();
  }

  private static void sse(RawUpstream.Connection c, boolean complete) throws java.io.IOException, InterruptedException {
    c.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    int half = SSE.length / 2;
    c.write(RawUpstream.chunk(java.util.Arrays.copyOfRange(SSE, 0, half)));
    Thread.sleep(5);
    c.write(RawUpstream.chunk(java.util.Arrays.copyOfRange(SSE, half, SSE.length)));
    if (complete) {
      c.write("0\r\n\r\n");
    } else {
      c.close();
    }
  }


  private FullHttpRequest request() {
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions", Unpooled.wrappedBuffer(BODY));
    r.headers().set(HttpHeaderNames.HOST, "upstream").setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
    return r;
  }

  private Ended call(MeteredCall.Timeouts timeouts, List<Long> gaps) throws Exception {
    RequestRecord record = recorder.start(Role.BENCH, "t", System.nanoTime());
    record.describe("POST", Route.CHAT, "m");
    CompletableFuture<Ended> done = new CompletableFuture<>();
    new MeteredCall(pool, record, false, gaps == null ? null : gaps::add, timeouts, (f, completed, cause) -> done.complete(new Ended(f, completed, cause)))
        .send(this::request);
    return done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aCompletedStreamIsMeteredOnceAndItsConnectionReused() throws Exception {
    List<Long> gaps = new CopyOnWriteArrayList<>();
    Ended first = call(NONE, gaps);
    assertThat(first.completed()).isTrue();
    assertThat(first.finished().outcome()).isEqualTo(Outcome.OK);
    assertThat(first.finished().status()).isEqualTo(200);
    assertThat(first.finished().meter().outputTokens()).isEqualTo(30);
    assertThat(first.finished().ttftSeconds()).isPositive();
    assertThat(first.finished().sentNanos()).isBetween(first.finished().startNanos(), first.finished().endNanos());
    assertThat(gaps).as("every gap after the first token-bearing event, also to the caller").hasSize(29);
    assertThat(call(NONE, null).finished().outcome()).isEqualTo(Outcome.OK);
    assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    assertThat(upstream.takeRequest().requestLine()).isEqualTo("POST /v1/chat/completions HTTP/1.1");
  }

  @Test
  void aCutStreamIsAnUpstreamAbortAndItsConnectionIsNotReused() throws Exception {
    upstream.respond((r, c) -> sse(c, false));
    Ended cut = call(NONE, null);
    assertThat(cut.completed()).isFalse();
    assertThat(cut.finished().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(cut.finished().status()).isEqualTo(200);
    upstream.respond((r, c) -> sse(c, true));
    assertThat(call(NONE, null).finished().outcome()).isEqualTo(Outcome.OK);
    assertThat(upstream.connectionsAccepted()).isEqualTo(2);
  }

  @Test
  void anInterimResponseIsSkippedNotTakenForTheEnd() throws Exception {
    upstream.respond((r, c) -> {
      c.write("HTTP/1.1 100 Continue\r\n\r\n");
      sse(c, true);
    });
    Ended e = call(NONE, null);
    assertThat(e.finished().outcome()).isEqualTo(Outcome.OK);
    assertThat(e.finished().status()).isEqualTo(200);
    assertThat(e.finished().meter().outputTokens()).isEqualTo(30);
  }

  @Test
  void eachTimeoutEndsTheCallAsTimeoutAndClosesTheConnection() throws Exception {
    upstream.respond((r, c) -> c.stallUntilPeerCloses(10_000));
    Ended firstByte = call(new MeteredCall.Timeouts(Duration.ofMillis(200), null, null), null);
    assertThat(firstByte.finished().outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(firstByte.finished().status()).isZero();

    upstream.respond((r, c) -> {
      c.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      c.stallUntilPeerCloses(10_000);
    });
    Ended idle = call(new MeteredCall.Timeouts(null, Duration.ofMillis(200), null), null);
    assertThat(idle.finished().outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(idle.finished().status()).isEqualTo(200);

    Ended total = call(new MeteredCall.Timeouts(null, null, Duration.ofMillis(200)), null);
    assertThat(total.finished().outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(total.finished().endNanos() - total.finished().startNanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(upstream.connectionsAccepted()).as("a timed-out connection is never reused").isEqualTo(3);
  }

  /**
   * A server that closes a keep-alive connection while it sits idle: the next call takes it from
   * the pool and meets the close. The server never saw that request, so it goes once more on a new
   * connection and the call succeeds, as in the relay.
   */
  @Test
  void aRequestMeetingAStaleConnectionIsSentOnceMoreOnANewOne() throws Exception {
    java.util.Map<RawUpstream.Connection, Integer> requestsOn = new java.util.concurrent.ConcurrentHashMap<>();
    upstream.respond((r, c) -> {
      if (requestsOn.merge(c, 1, Integer::sum) == 1) {
        sse(c, true);
      } else {
        c.close(); // the idle close crossing the next request
      }
    });
    assertThat(call(NONE, null).finished().outcome()).isEqualTo(Outcome.OK);
    Ended second = call(NONE, null);
    assertThat(second.completed()).isTrue();
    assertThat(second.finished().outcome()).isEqualTo(Outcome.OK);
    assertThat(second.finished().meter().outputTokens()).isEqualTo(30);
    assertThat(upstream.connectionsAccepted()).isEqualTo(2);
    for (int i = 0; i < 3; i++) {
      assertThat(new String(upstream.takeRequest().body(), StandardCharsets.US_ASCII)).as("the same request each time").isEqualTo(new String(BODY, StandardCharsets.US_ASCII));
    }
    assertThat(retries("stale_connection")).isEqualTo(1.0);
  }

  @Test
  void aRequestIsSentAgainOnceAtMost() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean servedOne = new java.util.concurrent.atomic.AtomicBoolean();
    upstream.respond((r, c) -> {
      if (servedOne.compareAndSet(false, true)) {
        sse(c, true);
      } else {
        c.close();
      }
    });
    assertThat(call(NONE, null).finished().outcome()).isEqualTo(Outcome.OK);
    Ended second = call(NONE, null);
    assertThat(second.completed()).isFalse();
    assertThat(second.finished().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    for (int i = 0; i < 3; i++) {
      upstream.takeRequest();
    }
    assertThat(upstream.pendingRequests()).isZero();
    assertThat(retries("stale_connection")).isEqualTo(1.0);
  }

  /** A response head means the server acted on the request: a connection lost after it is never a resend. */
  @Test
  void aConnectionLostAfterTheHeadIsNotSentAgain() throws Exception {
    assertThat(call(NONE, null).finished().outcome()).isEqualTo(Outcome.OK);
    upstream.respond((r, c) -> sse(c, false));
    Ended cut = call(NONE, null);
    assertThat(cut.finished().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    assertThat(retries("stale_connection")).isZero();
  }

  /** Resets after every response, calls two at a time: none is lost to a connection reset while idle. */
  @Test
  void aServerThatResetsAfterEveryResponseLosesNoCall() throws Exception {
    upstream.respond((r, c) -> {
      sse(c, true);
      c.reset();
    });
    for (int i = 0; i < 100; i++) {
      List<CompletableFuture<Ended>> pair = List.of(callAsync(), callAsync());
      for (CompletableFuture<Ended> f : pair) {
        Ended e = f.get(10, TimeUnit.SECONDS);
        assertThat(e.finished().outcome()).as("call %d: %s", i, e.cause()).isEqualTo(Outcome.OK);
      }
    }
  }

  private CompletableFuture<Ended> callAsync() {
    RequestRecord record = recorder.start(Role.BENCH, "t", System.nanoTime());
    record.describe("POST", Route.CHAT, "m");
    CompletableFuture<Ended> done = new CompletableFuture<>();
    new MeteredCall(pool, record, false, null, NONE, (f, completed, cause) -> done.complete(new Ended(f, completed, cause))).send(this::request);
    return done;
  }

  private double retries(String reason) {
    io.micrometer.core.instrument.Counter c = registry.find("tokentap.upstream.retries").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void noConnectionIsAnErrorWithoutStatus() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    pool = new ConnectionPool(group.next(), UpstreamUri.parse("http://127.0.0.1:" + port), null, ConnectionPool.Limits.unbounded(Duration.ofSeconds(5)));
    Ended refused = call(NONE, null);
    assertThat(refused.completed()).isFalse();
    assertThat(refused.finished().outcome()).isEqualTo(Outcome.ERROR);
    assertThat(refused.finished().status()).isZero();
    assertThat(refused.cause()).isInstanceOf(java.net.ConnectException.class);
  }
}
