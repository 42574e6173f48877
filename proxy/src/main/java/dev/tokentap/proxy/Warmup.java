package dev.tokentap.proxy;

import dev.tokentap.meter.Route;
import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.MeteredCall;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.proxy.metrics.MetricsClock;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.relay.ProxyServer;
import dev.tokentap.proxy.relay.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the relay, the meter and the upstream client on canned traffic before the listener opens
 * ({@code tokentap.proxy.warmup-requests}), so the first requests of real traffic meet compiled code
 * rather than the interpreter: cold, the relay path delays each token by milliseconds, and
 * tokentap's TTFT then reads below what the client saw (docs/performance.md, "Warm from the first
 * request").
 *
 * <p>Everything here is private to the warm-up and gone before the listener opens: a loopback
 * server answering every request with a recorded OpenAI chat stream, a second relay in front of it
 * (loopback, ephemeral port, its own event loops and its own registry, so no production series
 * counts the canned requests), and the upstream client sending streaming chat requests through it,
 * a few at a time: {@code warmup-requests} that do not ask for usage (injected and filtered out,
 * the OpenAI SDKs' default), and a quarter as many again that do (the relay forwards the upstream's
 * bytes, as for Anthropic and Responses streams), so both response paths are compiled. Nothing leaves the machine. A warm-up that fails or outlasts its budget is
 * logged and abandoned: it never stops tokentap from starting.
 */
final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  private static final byte[] STREAM = stream();
  /** Usage injected and filtered out again: the relay frames the payload anew for the client. */
  private static final byte[] BODY =
      "{\"model\":\"warmup\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}]}".getBytes(StandardCharsets.US_ASCII);
  /** Usage asked for by the client: the relay forwards the upstream's bytes as they came. */
  private static final byte[] BODY_WITH_USAGE =
      "{\"model\":\"warmup\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}]}"
          .getBytes(StandardCharsets.US_ASCII);
  private static final int IN_FLIGHT = 4;
  private static final Duration BUDGET = Duration.ofSeconds(30);

  private Warmup() {}

  /** Sends {@code requests} canned requests through a private relay; returns when they are done or the budget is spent. */
  static void run(int requests) {
    long start = System.nanoTime();
    EventLoopGroup group = Transports.newGroup(1, "tokentap-warmup");
    ProxyServer relay = null;
    try {
      Channel upstream = new ServerBootstrap().group(group).channel(Transports.serverChannel())
          .childOption(io.netty.channel.ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpServerCodec(), new CannedStream());
            }
          })
          .bind("127.0.0.1", 0).sync().channel();
      int upstreamPort = ((InetSocketAddress) upstream.localAddress()).getPort();
      Settings settings = SettingsLoader.load(SettingsLoader.resolve(null, Map.of(
          "tokentap.proxy.listen", "127.0.0.1:0",
          "tokentap.proxy.upstream", "http://127.0.0.1:" + upstreamPort,
          "tokentap.proxy.io-threads", 1,
          "tokentap.proxy.warmup-requests", 0,
          "tokentap.access-log.enabled", false)));
      RequestRecorder recorder = recorder(settings);
      relay = ProxyServer.start(settings, recorder, List.of());
      int sent = send(group, relay.address().getPort(), recorder, requests + requests / 4);
      log.info("warmed up on {} canned requests in {} ms", sent, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      log.warn("warm-up skipped: {}", e.toString());
    } finally {
      if (relay != null) {
        relay.close();
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** A recorder of the warm-up's own, on a registry of its own (the Prometheus kind, as in production). */
  private static RequestRecorder recorder(Settings settings) {
    TokentapMetrics metrics = new TokentapMetrics(MetricsClock.prometheusRegistry(), settings.slos());
    return new RequestRecorder(metrics, new SloPolicy(settings.slos()), new ModelLabels(4), settings.proxy().maxInspectedResponseBody());
  }

  /** Sends {@code requests} through the relay at {@code port}, {@value #IN_FLIGHT} at a time; the number that finished. */
  private static int send(EventLoopGroup group, int port, RequestRecorder recorder, int requests) throws InterruptedException {
    ConnectionPool pool = new ConnectionPool(group.next(), UpstreamUri.parse("http://127.0.0.1:" + port), null,
        ConnectionPool.Limits.unbounded(Duration.ofSeconds(5)));
    CountDownLatch done = new CountDownLatch(requests);
    AtomicInteger next = new AtomicInteger();
    MeteredCall.Timeouts timeouts = new MeteredCall.Timeouts(null, null, Duration.ofSeconds(10));
    Runnable[] sendOne = new Runnable[1];
    sendOne[0] = () -> {
      int n = next.getAndIncrement();
      if (n >= requests) {
        return;
      }
      RequestRecord record = recorder.start(Role.BENCH, "warmup", System.nanoTime());
      record.describe("POST", Route.CHAT, "warmup");
      new MeteredCall(pool, record, false, null, timeouts, (finished, completed, cause) -> {
        done.countDown();
        sendOne[0].run();
      }).send(() -> request(n % 5 == 4 ? BODY_WITH_USAGE : BODY));
    };
    for (int i = 0; i < IN_FLIGHT; i++) {
      sendOne[0].run();
    }
    done.await(BUDGET.toMillis(), TimeUnit.MILLISECONDS);
    next.set(requests); // past the budget: send no more
    return requests - (int) done.getCount();
  }

  /** One request in five asks for usage: each of the relay's two response paths is compiled (docs/performance.md, "Zero-copy response relay"). */
  private static FullHttpRequest request(byte[] body) {
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions", Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.HOST, "warmup").set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return r;
  }

  /** Answers each request, once read whole, with the recorded stream in two chunks. */
  private static final class CannedStream extends SimpleChannelInboundHandler<HttpObject> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (!(msg instanceof LastHttpContent)) {
        return;
      }
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream").set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      int half = STREAM.length / 2;
      ctx.write(head);
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(STREAM, 0, half)));
      ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(STREAM, half, STREAM.length - half)));
    }
  }

  private static byte[] stream() {
    try (InputStream in = Warmup.class.getResourceAsStream("warmup-chat.sse")) {
      if (in == null) {
        throw new IllegalStateException("warmup-chat.sse is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
