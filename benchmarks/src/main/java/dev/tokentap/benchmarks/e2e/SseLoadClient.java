package dev.tokentap.benchmarks.e2e;

import dev.tokentap.proxy.relay.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
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
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop streaming load generator: N keep-alive HTTP/1.1 connections, each sending the same
 * streaming chat request again as soon as the previous response ends. Every read is stamped with
 * {@link System#nanoTime()} once, on arrival, and every SSE event that ends in it ({@code \n\n})
 * gets that stamp: the first event of a response gives its TTFT (from the write of the request),
 * each later one an inter-event gap (ITL).
 *
 * <p>All connections live on one event loop, so the statistics are plain fields confined to that
 * thread; the driver reads and resets them by running tasks on the loop. One loop also keeps the
 * client's CPU share the same whichever path it drives.
 */
final class SseLoadClient implements AutoCloseable {
  private final EventLoopGroup group = Transports.newGroup(1, "e2e-client");
  private final EventLoop loop = group.next();
  private final String model;
  private final Stats stats = new Stats();
  private boolean running; // loop thread only
  private int flowing; // streams of the current phase that have had an event; loop thread only

  SseLoadClient(String model) {
    this.model = model;
  }

  /** What the loop saw since the last {@link #reset}. */
  static final class Stats {
    final Histogram ttft = new Histogram(3);
    final Histogram itl = new Histogram(3);
    long events;
    long requests;
    long errors;
    long reconnects;
    /** Errors by kind ({@code status 502}, {@code connect}, ...), for the log. */
    final java.util.TreeMap<String, Long> errorKinds = new java.util.TreeMap<>();

    void error(String kind) {
      errors++;
      errorKinds.merge(kind, 1L, Long::sum);
    }

    void reset() {
      ttft.reset();
      itl.reset();
      events = requests = errors = reconnects = 0;
      errorKinds.clear();
    }

    Stats copy() {
      Stats c = new Stats();
      c.ttft.add(ttft);
      c.itl.add(itl);
      c.events = events;
      c.requests = requests;
      c.errors = errors;
      c.reconnects = reconnects;
      c.errorKinds.putAll(errorKinds);
      return c;
    }
  }

  /** One load phase against one address: open, run, read, close. */
  final class Phase implements AutoCloseable {
    private final ChannelGroup channels = new DefaultChannelGroup(loop);
    private final Bootstrap bootstrap;
    private final String host;
    private final byte[] body;

    Phase(InetSocketAddress target, int maxTokens) {
      this.host = target.getHostString() + ":" + target.getPort();
      this.body =
          ("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me"
                  + " a story.\"}],\"stream\":true,\"max_tokens\":" + maxTokens
                  + ",\"ignore_eos\":true,\"stream_options\":{\"include_usage\":true}}")
              .getBytes(StandardCharsets.US_ASCII);
      this.bootstrap =
          new Bootstrap()
              .group(group)
              .channel(Transports.socketChannel())
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 60_000)
              .remoteAddress(target)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline().addLast(new HttpClientCodec(), new StreamHandler());
                    }
                  });
    }

    /**
     * Opens {@code streams} idle connections in batches (so no listen backlog overflows), then
     * starts a request on each, {@code batch} streams every {@code startPauseMillis}: connecting
     * while earlier streams already load the server would make the ramp as slow as the busiest
     * server's accept loop, and starting thousands at once would send as many upstream connects
     * through a proxy at the same instant.
     */
    void open(int streams, int batch, long startPauseMillis)
        throws InterruptedException, ExecutionException {
      for (int opened = 0; opened < streams; ) {
        int n = Math.min(batch, streams - opened);
        List<ChannelFuture> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          futures.add(bootstrap.connect());
        }
        for (ChannelFuture f : futures) {
          f.await();
          if (f.isSuccess()) {
            channels.add(f.channel());
          } else {
            onLoop(() -> stats.error("connect"));
          }
        }
        opened += n;
      }
      onLoop(
          () -> {
            running = true;
            flowing = 0;
          });
      List<Channel> idle = new ArrayList<>(channels);
      for (int from = 0; from < idle.size(); from += batch) {
        List<Channel> slice = idle.subList(from, Math.min(from + batch, idle.size()));
        onLoop(
            () -> {
              for (Channel ch : slice) {
                StreamHandler handler = ch.pipeline().get(StreamHandler.class);
                if (handler != null) {
                  handler.send(ch.pipeline().context(StreamHandler.class));
                }
              }
            });
        if (startPauseMillis > 0 && from + batch < idle.size()) {
          Thread.sleep(startPauseMillis);
        }
      }
    }

    int openConnections() {
      return channels.size();
    }

    /** Streams that have received at least one event since {@link #open}. */
    int flowing() throws InterruptedException, ExecutionException {
      return loop.submit(() -> flowing).get();
    }

    @Override
    public void close() throws InterruptedException, ExecutionException {
      onLoop(() -> running = false);
      channels.close().await();
    }

    private final class StreamHandler extends SimpleChannelInboundHandler<HttpObject>
        implements ByteProcessor {
      private long sentAt;
      private long lastEventAt;
      private long readAt;
      private boolean firstEvent;
      private boolean afterNewline;
      private boolean ok;
      private boolean flowingCounted;

      @Override
      public void channelActive(ChannelHandlerContext ctx) {
        send(ctx); // a reconnect under load; the first connections wait for open() to start them
      }

      void send(ChannelHandlerContext ctx) {
        if (!running) {
          return;
        }
        FullHttpRequest request =
            new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.POST,
                "/v1/chat/completions",
                Unpooled.wrappedBuffer(body));
        request.headers()
            .set(HttpHeaderNames.HOST, host)
            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
            .set(HttpHeaderNames.ACCEPT, "text/event-stream")
            .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        firstEvent = true;
        afterNewline = false;
        sentAt = System.nanoTime();
        ctx.writeAndFlush(request);
      }

      @Override
      protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
        readAt = System.nanoTime();
        if (msg instanceof HttpResponse response) {
          ok = response.status().code() == 200;
          if (!ok) {
            stats.error("status " + response.status().code());
          }
        }
        if (msg instanceof HttpContent content) {
          ByteBuf bytes = content.content();
          bytes.forEachByte(this);
        }
        if (msg instanceof LastHttpContent) {
          if (ok) {
            stats.requests++;
          }
          send(ctx);
        }
      }

      /** Counts {@code \n\n} event ends; each one is an event that arrived at {@link #readAt}. */
      @Override
      public boolean process(byte b) {
        if (b == '\n') {
          if (afterNewline) {
            afterNewline = false;
            onEvent();
          } else {
            afterNewline = true;
          }
        } else if (b != '\r') {
          afterNewline = false;
        }
        return true;
      }

      private void onEvent() {
        stats.events++;
        if (firstEvent) {
          stats.ttft.recordValue(readAt - sentAt);
          firstEvent = false;
          if (!flowingCounted) {
            flowingCounted = true;
            flowing++;
          }
        } else {
          stats.itl.recordValue(readAt - lastEventAt);
        }
        lastEventAt = readAt;
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (running) {
          stats.error(cause.getClass().getSimpleName());
        }
        ctx.close();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (running) {
          // Closed under load (a keep-alive limit, or a dropped stream): count it and reconnect,
          // so the number of streams stays what the phase asked for.
          stats.reconnects++;
          bootstrap.connect().addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
              channels.add(f.channel());
            } else {
              stats.error("reconnect");
            }
          });
        }
      }
    }
  }

  Phase phase(InetSocketAddress target, int maxTokens) {
    return new Phase(target, maxTokens);
  }

  void reset() throws InterruptedException, ExecutionException {
    onLoop(stats::reset);
  }

  Stats snapshot() throws InterruptedException, ExecutionException {
    return loop.submit(stats::copy).get();
  }

  private void onLoop(Runnable task) throws InterruptedException, ExecutionException {
    loop.submit(task).get();
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
