package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.relay.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/**
 * Sends one streaming request and meters its response as the bytes arrive: each socket read is
 * stamped with {@link System#nanoTime()} once, before the HTTP decoder sees it, and the body bytes
 * it carries are fed to the {@link StreamMeter} of a {@link RequestRecord} ({@link Role#BENCH}),
 * the same record the proxy keeps, so every number has the proxy's definition. The record's clock
 * starts at the caller's {@code startNanos}: the intended send time on open-loop schedules.
 *
 * <p>The record's meter reports gaps to the live metrics only, so a second meter on the same bytes
 * collects the per-gap ITL values for the report.
 *
 * <p>Netty, HTTP/1.1: requests are spread over the event loops in turn, and each loop keeps its own
 * keep-alive connections ({@link KeepAlivePool}), one per request in flight on it. An exchange lives
 * on its connection's loop from start to end (timeout included), so the record is confined to one
 * thread. A request still running {@code requestTimeout} after it was sent (head and body together)
 * is recorded as {@code timeout} and its connection closed. The future completes on the event loop:
 * callers hand any real work to their own threads.
 *
 * <pre>
 *   socket → [tls] → ReadStamp → HttpClientCodec → ResponseHandler → Exchange (meters, future)
 * </pre>
 */
public final class StreamingClient implements AutoCloseable {
  private static final long CONNECT_TIMEOUT_MILLIS = 10_000;
  private static final int MAX_BUFFERED_BODY_BYTES = 1 << 20;

  private final URI base;
  private final String pathPrefix;
  private final String hostHeader;
  private final RequestRecorder recorder;
  private final String target;
  private final long requestTimeoutNanos;
  private final EventLoopGroup group;
  private final KeepAlivePool[] pools;
  private final AtomicInteger nextPool = new AtomicInteger();

  /** One event loop per available processor, the JVM's default trust for https. */
  public StreamingClient(URI base, RequestRecorder recorder, String target, Duration requestTimeout) {
    this(base, recorder, target, requestTimeout, Runtime.getRuntime().availableProcessors(), null);
  }

  /**
   * @param ioThreads event loops (at least 1)
   * @param trust for https: the certificates to trust; null for the JVM's default trust store
   */
  StreamingClient(URI base, RequestRecorder recorder, String target, Duration requestTimeout, int ioThreads, TrustManager trust) {
    this.base = requireNonNull(base, "base");
    this.recorder = requireNonNull(recorder, "recorder");
    this.target = requireNonNull(target, "target");
    this.requestTimeoutNanos = requireNonNull(requestTimeout, "requestTimeout").toNanos();
    if (ioThreads < 1) {
      throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: >= 1)");
    }
    boolean secure = "https".equals(base.getScheme());
    String host = bare(base.getHost());
    int port = base.getPort() != -1 ? base.getPort() : secure ? 443 : 80;
    this.pathPrefix = base.getRawPath() == null ? "" : base.getRawPath();
    this.hostHeader = base.getRawAuthority();
    SslContext tls = secure ? clientTls(host, trust) : null;
    this.group = Transports.newGroup(ioThreads, "bench-client");
    Bootstrap template = new Bootstrap()
        .channel(Transports.socketChannel())
        .remoteAddress(host, port)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT_MILLIS)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls != null) {
              SslHandler handler = tls.newHandler(ch.alloc(), host, port);
              handler.setHandshakeTimeoutMillis(CONNECT_TIMEOUT_MILLIS); // both are "reaching the target"
              ch.pipeline().addLast("tls", handler);
            }
            ReadStamp stamp = new ReadStamp();
            ch.pipeline()
                .addLast("read-stamp", stamp)
                .addLast("http", new HttpClientCodec(4096, 65536, 65536))
                .addLast("response", new ResponseHandler(stamp));
          }
        });
    this.pools = new KeepAlivePool[ioThreads];
    for (int i = 0; i < ioThreads; i++) {
      pools[i] = new KeepAlivePool(group.next(), template, secure);
    }
  }

  /** Normalises a {@code --target}: scheme, host and port, any trailing {@code /v1} dropped. */
  public static URI baseOf(String target) {
    URI uri;
    try {
      uri = URI.create(target.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--target " + target + " (expected: http://host:port)");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("--target " + target + " (expected: http://host:port)");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    path = path.replaceAll("/+$", "");
    if (path.endsWith("/v1")) {
      path = path.substring(0, path.length() - 3);
    }
    return URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + path);
  }

  /**
   * Sends {@code request}, timed from {@code startNanos}; the future completes with the finished
   * request, never exceptionally, on one of the client's event loops.
   */
  public CompletableFuture<Result> send(BenchRequest request, long startNanos) {
    RequestRecord record = recorder.start(Role.BENCH, target, startNanos);
    record.describe("POST", request.route(), request.model());
    record.requestBodyRead(startNanos, request.body().length);
    KeepAlivePool pool = pools[Math.floorMod(nextPool.getAndIncrement(), pools.length)];
    Exchange exchange = new Exchange(record, Api.defaultFor(request.route()), request, pool);
    long deadline = System.nanoTime() + requestTimeoutNanos;
    try {
      pool.loop().execute(() -> exchange.start(deadline));
    } catch (RuntimeException e) { // rejected: the client is closed
      exchange.finish(Outcome.UPSTREAM_ABORT, System.nanoTime());
    }
    return exchange.done;
  }

  /** A finished request and its ITL gaps. */
  public record Result(FinishedRequest record, long[] itlGapsNanos) {}

  /** One request on one event loop, from acquiring a connection to the end of the response. */
  private final class Exchange {
    final CompletableFuture<Result> done = new CompletableFuture<>();
    final RequestRecord record;
    final StreamMeter gapMeter;
    final GapCollector gaps = new GapCollector();
    private final BenchRequest request;
    private final KeepAlivePool pool;
    private ScheduledFuture<?> deadline;
    private Channel channel;
    private boolean finished;
    private boolean keepAlive;
    /** A 1xx head was read: its (empty) end is not the response's. */
    private boolean informational;

    Exchange(RequestRecord record, Api api, BenchRequest request, KeepAlivePool pool) {
      this.record = record;
      this.request = request;
      this.pool = pool;
      this.gapMeter = new StreamMeter(api, false, gaps, MAX_BUFFERED_BODY_BYTES);
    }

    void start(long deadlineNanos) {
      deadline = pool.loop().schedule(this::timedOut, deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
      Future<Channel> acquired = pool.acquire();
      if (acquired.isDone()) {
        onAcquired(acquired);
      } else {
        acquired.addListener(f -> onAcquired(acquired));
      }
    }

    private void onAcquired(Future<Channel> acquired) {
      if (!acquired.isSuccess()) {
        finish(Outcome.UPSTREAM_ABORT, System.nanoTime());
        return;
      }
      Channel ch = acquired.getNow();
      if (finished) {
        pool.release(ch); // timed out while connecting: the connection itself is fine
        return;
      }
      channel = ch;
      ch.pipeline().get(ResponseHandler.class).exchange = this;
      ch.writeAndFlush(httpRequest()).addListener(w -> {
        if (!w.isSuccess()) {
          ch.close(); // the handler ends the exchange as the connection goes
        }
      });
    }

    private FullHttpRequest httpRequest() {
      byte[] body = request.body();
      FullHttpRequest r = new DefaultFullHttpRequest(
          HttpVersion.HTTP_1_1, HttpMethod.POST, pathPrefix + request.path(), Unpooled.wrappedBuffer(body));
      r.headers()
          .set(HttpHeaderNames.HOST, hostHeader)
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .set(HttpHeaderNames.ACCEPT, "text/event-stream")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      return r;
    }

    void onHead(HttpResponse head, long now) {
      int status = head.status().code();
      if (status < 200 && status != 101) {
        informational = true;
        return;
      }
      keepAlive = HttpUtil.isKeepAlive(head);
      String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
      record.meter(false).onResponseHead(status, contentType, now);
      gapMeter.onResponseHead(status, contentType, now);
    }

    void onBody(ByteBuf content, long now) {
      int n = content.readableBytes();
      if (n == 0 || informational) {
        return;
      }
      record.meter(false).onBody(content, now);
      gapMeter.onBody(content, now);
      record.responseBytes(n);
    }

    /** Whether an end just read is a 1xx head's, not the response's. */
    boolean endOfInformational() {
      boolean was = informational;
      informational = false;
      return was;
    }

    /** The response ended cleanly: its connection goes back to the pool unless it said close. */
    void onEnd(Channel ch, long now) {
      channel = null;
      if (keepAlive) {
        pool.release(ch);
      } else {
        ch.close();
      }
      finish(null, now);
    }

    /** The connection broke or closed before the response ended. */
    void broken(long now) {
      channel = null;
      finish(Outcome.UPSTREAM_ABORT, now);
    }

    /** The whole request outlived the timeout: record it as {@code timeout} and close the stream. */
    void timedOut() {
      if (finished) {
        return;
      }
      finish(Outcome.TIMEOUT, System.nanoTime());
      Channel ch = channel;
      if (ch != null) {
        channel = null;
        ch.pipeline().get(ResponseHandler.class).exchange = null;
        ch.close();
      }
    }

    void finish(Outcome broken, long now) {
      if (finished) {
        return;
      }
      finished = true;
      if (deadline != null) {
        deadline.cancel(false);
      }
      FinishedRequest f;
      if (record.meterOrNull() == null) {
        f = record.finishWithoutResponse(broken == null ? Outcome.UPSTREAM_ABORT : broken, 0, now);
      } else {
        f = record.finish(broken, now);
      }
      done.complete(new Result(f, gaps.toArray()));
    }
  }

  /** Stamps every socket read before any decoder sees it: all it carries arrived then. */
  private static final class ReadStamp extends ChannelInboundHandlerAdapter {
    long lastReadNanos;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      lastReadNanos = System.nanoTime();
      ctx.fireChannelRead(msg);
    }
  }

  /** Hands one connection's decoded response to its current exchange; releases every message. */
  private static final class ResponseHandler extends ChannelInboundHandlerAdapter {
    private final ReadStamp stamp;
    Exchange exchange;

    ResponseHandler(ReadStamp stamp) {
      this.stamp = stamp;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        Exchange ex = exchange;
        if (ex == null) {
          ctx.close(); // bytes nobody asked for: the connection is out of step
          return;
        }
        long now = stamp.lastReadNanos;
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
          exchange = null;
          ex.broken(now);
          ctx.close();
          return;
        }
        if (msg instanceof HttpResponse head) {
          ex.onHead(head, now);
        }
        if (msg instanceof HttpContent content) {
          ex.onBody(content.content(), now);
        }
        if (msg instanceof LastHttpContent && !ex.endOfInformational()) {
          exchange = null;
          ex.onEnd(ctx.channel(), now);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Exchange ex = exchange;
      if (ex != null) {
        exchange = null;
        ex.broken(System.nanoTime());
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Exchange ex = exchange;
      if (ex != null) {
        exchange = null;
        ex.broken(System.nanoTime());
      }
      ctx.close();
    }
  }

  /** Collects gaps into a growable array (one per token-bearing event after the first). */
  private static final class GapCollector implements TokenGapListener {
    private long[] values = new long[64];
    private int size;

    @Override
    public void interTokenGap(long gapNanos) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = gapNanos;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  /** The JDK's TLS provider (no native library needed); verifies the chain and that the certificate names the host. */
  private static SslContext clientTls(String host, TrustManager trust) {
    SslContextBuilder builder = SslContextBuilder.forClient()
        .sslProvider(SslProvider.JDK)
        .endpointIdentificationAlgorithm("HTTPS");
    if (trust != null) {
      builder.trustManager(trust);
    }
    if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
      // The JDK sends SNI by itself only for names with a dot; single-label names need it too.
      builder.serverName(new SNIHostName(host));
    }
    try {
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS for the target: " + e.getMessage(), e);
    }
  }

  private static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public void close() {
    // Open connections close with the loops; an exchange still running ends as upstream_abort.
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
