package dev.tokentap.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * An upstream that answers each request with a scripted response: a status, headers and a body sent
 * in given pieces, each written and flushed on its own after a pause (so the pieces reach the
 * proxy as separate reads), ending cleanly, with a plain close or with a TCP reset. It records every
 * request it received, so tests can assert what the upstream saw.
 */
public final class ScriptedUpstream implements AutoCloseable {

  public enum Ending { COMPLETE, CLOSE, RESET }

  /** One scripted response. */
  public record Script(int status, String contentType, List<byte[]> pieces, long pauseMicros, Ending ending) {
    public static Script sse(byte[] body, int[] splitOffsets, long pauseMicros) {
      return new Script(200, "text/event-stream", split(body, splitOffsets), pauseMicros, Ending.COMPLETE);
    }

    public Script ending(Ending e) {
      return new Script(status, contentType, pieces, pauseMicros, e);
    }
  }

  /** A request as the upstream received it. */
  public record Received(String method, String uri, HttpHeaders headers, byte[] body) {}

  // Epoll where available: its timers have microsecond resolution, so pauses between pieces are short
  // and real (NIO's selector rounds them up to milliseconds).
  private static final boolean EPOLL = io.netty.channel.epoll.Epoll.isAvailable();
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EPOLL ? io.netty.channel.epoll.EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  private final Channel listener;
  private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<java.util.List<String>> serverNames = new LinkedBlockingQueue<>();
  private final io.netty.handler.ssl.SslContext tls;
  private volatile Function<Received, Script> script;

  public ScriptedUpstream(Function<Received, Script> script) throws InterruptedException {
    this(null, script);
  }

  /** An upstream speaking TLS with {@code tls} (a server context; see {@link TestTls}); null: plain HTTP. */
  public ScriptedUpstream(io.netty.handler.ssl.SslContext tls, Function<Received, Script> script) throws InterruptedException {
    this.tls = tls;
    this.script = script;
    this.listener =
        new ServerBootstrap()
            .group(group)
            .channel(EPOLL ? io.netty.channel.epoll.EpollServerSocketChannel.class : NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast(tls.newHandler(ch.alloc())).addLast(new ServerNameRecorder());
                    }
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(16 * 1024 * 1024))
                        .addLast(new Responder());
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  public void script(Function<Received, Script> script) {
    this.script = script;
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  public String baseUrl() {
    return (tls != null ? "https" : "http") + "://127.0.0.1:" + port();
  }

  /** The SNI host names the client of the next completed TLS handshake asked for, waiting up to 5 s. */
  public java.util.List<String> takeServerNames() throws InterruptedException {
    java.util.List<String> names = serverNames.poll(5, TimeUnit.SECONDS);
    if (names == null) {
      throw new AssertionError("no TLS handshake completed");
    }
    return names;
  }

  /** The next request the upstream received, waiting up to 5 s. */
  public Received takeRequest() throws InterruptedException {
    Received r = received.poll(5, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("the upstream received no request");
    }
    return r;
  }

  public int requestCount() {
    return received.size();
  }

  /** Forgets the requests received so far. */
  public void clearRequests() {
    received.clear();
  }

  /** {@code body} cut at the given offsets (sorted, distinct, inside the body). */
  public static List<byte[]> split(byte[] body, int[] offsets) {
    List<byte[]> pieces = new ArrayList<>();
    int from = 0;
    for (int at : offsets) {
      if (at > from && at < body.length) {
        pieces.add(java.util.Arrays.copyOfRange(body, from, at));
        from = at;
      }
    }
    pieces.add(java.util.Arrays.copyOfRange(body, from, body.length));
    return pieces;
  }

  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Notes the SNI names of each completed handshake; failed handshakes just close. */
  private final class ServerNameRecorder extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && e.isSuccess()) {
        var session = (javax.net.ssl.ExtendedSSLSession) ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class).engine().getSession();
        serverNames.add(session.getRequestedServerNames().stream()
            .map(n -> n instanceof javax.net.ssl.SNIHostName h ? h.getAsciiName() : n.toString()).toList());
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a client that rejected our certificate: expected in TLS tests
    }
  }

  private final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** A response paused because the peer stopped reading (a well-behaved server respects writability). */
    private Runnable resume;

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && resume != null) {
        Runnable r = resume;
        resume = null;
        r.run();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      Received r = new Received(req.method().name(), req.uri(), req.headers().copy(), ByteBufUtil.getBytes(req.content()));
      received.add(r);
      Script s = script.apply(r);
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(s.status()));
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, s.contentType());
      HttpUtil.setTransferEncodingChunked(head, true);
      ctx.writeAndFlush(head);
      sendPiece(ctx, s, 0);
    }

    private void sendPiece(ChannelHandlerContext ctx, Script s, int i) {
      if (!ctx.channel().isActive()) {
        return;
      }
      if (i == s.pieces().size()) {
        switch (s.ending()) {
          case COMPLETE -> ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
          case CLOSE -> ctx.close();
          case RESET -> {
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
          }
        }
        return;
      }
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(s.pieces().get(i))));
      if (s.pauseMicros() > 0) {
        ctx.executor().schedule(() -> sendPiece(ctx, s, i + 1), s.pauseMicros(), TimeUnit.MICROSECONDS);
      } else if (!ctx.channel().isWritable()) {
        resume = () -> sendPiece(ctx, s, i + 1);
      } else {
        sendPiece(ctx, s, i + 1);
      }
    }
  }
}
