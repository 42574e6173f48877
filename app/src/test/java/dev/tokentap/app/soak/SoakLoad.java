package dev.tokentap.app.soak;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The soak's clients: {@code streams} slots, each a keep-alive connection sending one streaming chat
 * request after another until the deadline, each request drawn from a fault mix. Every slot runs on
 * the client's own event loops and never blocks. What each request was meant to be and what the
 * client saw give the outcome the proxy must have recorded; {@link #outcomes()} counts them.
 *
 * <p>Every twentieth slot is a slow client: a 4 KiB receive buffer and one read every 20 ms, so the
 * proxy's backpressure is exercised all the time. {@code -Dtokentap.soak.only=NORMAL,STALL} draws
 * from the listed kinds only, to isolate one fault when the counts disagree.
 */
final class SoakLoad {
  /** The kinds of request in the mix, with their weight (per 100) and the outcome each must get. */
  enum Kind {
    NORMAL(57, "ok"),
    CLIENT_ABORT(10, "client_abort"),
    UPSTREAM_RESET(8, "upstream_abort"),
    UPSTREAM_CLOSE(5, "upstream_abort"),
    STALL(4, "timeout"),
    STATUS_503(5, "error"),
    STATUS_429(4, "error"),
    ERROR_EVENT(4, "error"),
    EARLY_ABORT(3, "client_abort");

    final int weight;
    final String outcome;

    Kind(int weight, String outcome) {
      this.weight = weight;
      this.outcome = outcome;
    }
  }

  private static final String[] OUTCOMES = {"ok", "error", "client_abort", "upstream_abort", "timeout", "rejected"};

  private final InetSocketAddress proxy;
  private final int streams;
  private final long deadlineNanos;
  private final EventLoopGroup group;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLongArray outcomes = new AtomicLongArray(OUTCOMES.length);
  private final Map<Kind, AtomicLong> byKind = new EnumMap<>(Kind.class);
  private final AtomicLong unexpected = new AtomicLong();
  private final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> mismatches = new java.util.concurrent.ConcurrentHashMap<>();
  private final CountDownLatch done;

  /** Longer than the proxy's idle timeout in the soak's configuration, so a stall is cut. */
  static final String STALL = "15s";

  SoakLoad(InetSocketAddress proxy, int streams, long deadlineNanos, int threads) {
    this.proxy = proxy;
    this.streams = streams;
    this.deadlineNanos = deadlineNanos;
    this.group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
    this.done = new CountDownLatch(streams);
    for (Kind k : Kind.values()) {
      byKind.put(k, new AtomicLong());
    }
  }

  void start(long seed) {
    for (int i = 0; i < streams; i++) {
      new Slot(i, new Random(seed * 1_000_003L + i), i % 20 == 0).next();
    }
  }

  /** Waits for every slot to finish its last request after the deadline. */
  boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit);
  }

  void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  long sent() {
    return sent.get();
  }

  /** Requests finished, by the outcome the proxy must have recorded for each. */
  Map<String, Long> outcomes() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < OUTCOMES.length; i++) {
      m.put(OUTCOMES[i], outcomes.get(i));
    }
    return m;
  }

  Map<Kind, Long> sentByKind() {
    Map<Kind, Long> m = new EnumMap<>(Kind.class);
    byKind.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Requests whose observation contradicted their kind, by kind and observation. */
  Map<String, Long> mismatches() {
    Map<String, Long> m = new java.util.TreeMap<>();
    mismatches.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** Requests whose observation contradicted their kind (counted by what was observed). */
  long unexpected() {
    return unexpected.get();
  }

  private void count(String outcome) {
    for (int i = 0; i < OUTCOMES.length; i++) {
      if (OUTCOMES[i].equals(outcome)) {
        outcomes.incrementAndGet(i);
        return;
      }
    }
    throw new IllegalArgumentException(outcome);
  }

  private static final String ONLY = System.getProperty("tokentap.soak.only");

  private static Kind draw(Random random) {
    if (ONLY != null) {
      String[] kinds = ONLY.split(",");
      return Kind.valueOf(kinds[random.nextInt(kinds.length)]);
    }
    int r = random.nextInt(100);
    for (Kind k : Kind.values()) {
      r -= k.weight;
      if (r < 0) {
        return k;
      }
    }
    return Kind.NORMAL;
  }

  /** One client connection and the request on it; all state is touched on its event loop only. */
  @io.netty.channel.ChannelHandler.Sharable // one channel at a time: a slot reconnects after a close
  private final class Slot extends SimpleChannelInboundHandler<HttpObject> {
    private final int id;
    private final Random random;
    private final boolean slow;
    private Channel channel;
    private Kind kind;
    private int status;
    /** The start of a response body of ours ({@code "type":"upstream_..."}), to classify our own errors. */
    private final StringBuilder errorBody = new StringBuilder();
    private long bodyBytes;
    private boolean finished = true;
    private boolean aborted;
    private boolean keepAlive;

    Slot(int id, Random random, boolean slow) {
      this.id = id;
      this.random = random;
      this.slow = slow;
    }

    /** Starts the next request, or ends this slot after the deadline. */
    void next() {
      if (System.nanoTime() - deadlineNanos >= 0) {
        if (channel != null) {
          channel.close();
        }
        done.countDown();
        return;
      }
      kind = slow ? Kind.NORMAL : draw(random);
      status = 0;
      keepAlive = true;
      errorBody.setLength(0);
      bodyBytes = 0;
      aborted = false;
      finished = false;
      if (channel != null && channel.isActive()) {
        send();
      } else {
        connect();
      }
    }

    private void connect() {
      Bootstrap b = new Bootstrap()
          .group(group)
          .channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (slow) {
                ch.config().setReceiveBufferSize(4096);
                ch.config().setAutoRead(false);
              }
              ch.pipeline().addLast(new HttpClientCodec()).addLast(Slot.this);
            }
          });
      ChannelFuture f = b.connect(proxy);
      f.addListener(x -> {
        if (x.isSuccess()) {
          channel = f.channel();
          if (slow) {
            channel.read(); // then one read per 20 ms, for the life of the connection
          }
          send();
        } else {
          // The proxy refused a connection: the soak fails on the count (nothing was sent).
          unexpected.incrementAndGet();
          channel = null;
          group.next().schedule(this::next, 100, TimeUnit.MILLISECONDS);
        }
      });
    }

    private void send() {
      int maxTokens = 16 + random.nextInt(112);
      String fault = switch (kind) {
        case UPSTREAM_RESET -> "reset-after=" + (1 + random.nextInt(maxTokens / 2));
        case UPSTREAM_CLOSE -> "close-after=" + (1 + random.nextInt(maxTokens / 2));
        case STALL -> "stall-after=" + (1 + random.nextInt(4)) + ":" + STALL;
        case STATUS_503 -> "status=503";
        case STATUS_429 -> "status=429";
        case ERROR_EVENT -> "error-after=" + (1 + random.nextInt(maxTokens / 2));
        default -> null;
      };
      if (kind == Kind.CLIENT_ABORT || kind == Kind.EARLY_ABORT) {
        maxTokens = 2000; // long enough that the abort always comes first
      }
      if (kind == Kind.EARLY_ABORT) {
        fault = "stall-after=0:" + STALL; // non-streaming and stalled: no response can precede the abort
      }
      String json = "{\"model\":\"soak\",\"stream\":" + (kind != Kind.EARLY_ABORT) + ",\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"soak " + id + "\"}]}";
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions",
          Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
      request.headers().set(HttpHeaderNames.HOST, "tokentap");
      request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      HttpUtil.setContentLength(request, request.content().readableBytes());
      if (fault != null) {
        request.headers().set("x-emulator-fault", fault);
      }
      sent.incrementAndGet();
      byKind.get(kind).incrementAndGet();
      channel.writeAndFlush(request);
      if (kind == Kind.EARLY_ABORT) {
        // Gone before any response: the proxy is waiting on the upstream's head.
        // 50-100 ms: long after an answer tokentap gives at once (a 502 when it cannot connect,
        // which the client then sees), long before the stalled upstream's.
        channel.eventLoop().schedule(this::abort, 50 + random.nextInt(50), TimeUnit.MILLISECONDS);
      }
    }

    private void abort() {
      if (!finished) {
        aborted = true;
        channel.close();
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (finished) {
        return;
      }
      if (msg instanceof HttpResponse r) {
        status = r.status().code();
        keepAlive = HttpUtil.isKeepAlive(r);
      }
      if (msg instanceof HttpContent c) {
        bodyBytes += c.content().readableBytes();
        if (status >= 500 && errorBody.length() < 256) {
          errorBody.append(c.content().toString(StandardCharsets.UTF_8));
        }
        if (kind == Kind.CLIENT_ABORT && bodyBytes > 600) {
          abort();
          return;
        }
      }
      if (msg instanceof LastHttpContent) {
        finish(true);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (slow && ctx.channel().isActive()) {
        ctx.channel().eventLoop().schedule(() -> ctx.channel().read(), 20, TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel() != channel) {
        return; // a connection this slot already left
      }
      channel = null;
      if (!finished) {
        finish(false);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // resets passed on by the proxy: channelInactive counts the request
    }

    /** The request ended as the client saw it: the outcome the proxy must have recorded. */
    private void finish(boolean complete) {
      finished = true;
      String observed;
      if (aborted) {
        observed = "client_abort";
      } else if (errorBody.indexOf("\"type\":\"upstream_closed\"") >= 0) {
        observed = "upstream_abort"; // tokentap's own 502: the upstream closed before responding
      } else if (errorBody.indexOf("\"type\":\"upstream_timeout\"") >= 0) {
        observed = "timeout";
      } else if (status >= 400) {
        observed = "error";
      } else if (complete) {
        observed = kind == Kind.ERROR_EVENT ? "error" : "ok";
      } else {
        observed = kind.outcome.equals("timeout") ? "timeout" : "upstream_abort";
      }
      if (!observed.equals(kind.outcome)) {
        unexpected.incrementAndGet();
        mismatches.computeIfAbsent(kind.name().toLowerCase() + (slow ? " (slow)" : "") + " seen as " + observed + " (status " + status
            + (bodyBytes == 0 ? ", no body)" : ", part of the body)") + (errorBody.length() > 0 ? ": " + errorBody : ""),
            k -> new AtomicLong()).incrementAndGet();
      }
      count(observed);
      Channel ch = channel;
      if (ch != null && !keepAlive) {
        channel = null;
        ch.close();
        ch = null;
      }
      if (ch != null && ch.isActive()) {
        ch.eventLoop().execute(this::next);
      } else {
        group.next().execute(this::next);
      }
    }
  }
}
