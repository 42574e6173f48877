package dev.tokentap.proxy.admin;

import dev.tokentap.proxy.config.HostAndPort;
import dev.tokentap.proxy.relay.Transports;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * The admin listener, apart from client traffic on its own event loop: {@code /metrics} (Prometheus
 * text format), {@code /health} (the process is up) and {@code /ready} (it accepts traffic; false
 * while starting or draining, for Kubernetes readiness probes).
 */
public final class AdminServer implements AutoCloseable {
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final EventLoopGroup group;
  private final Channel listener;

  private AdminServer(EventLoopGroup group, Channel listener) {
    this.group = group;
    this.listener = listener;
  }

  public static AdminServer start(HostAndPort listen, PrometheusMeterRegistry registry, BooleanSupplier ready)
      throws InterruptedException, java.io.IOException {
    return start(listen, registry, ready, java.util.List.of(), null);
  }

  /**
   * With control {@code endpoints}, reachable from anywhere with {@code Authorization: Bearer
   * <token>} when {@code token} is not null, else from loopback peers naming a loopback Host
   * ({@link AdminAccess}). {@code /metrics}, {@code /health} and {@code /ready} answer any peer and
   * any Host: Prometheus scrapes with the pod's address as Host, probes with whatever they like.
   */
  public static AdminServer start(HostAndPort listen, PrometheusMeterRegistry registry, BooleanSupplier ready,
      java.util.List<AdminEndpoint> endpoints, String token) throws InterruptedException, java.io.IOException {
    EventLoopGroup group = Transports.newGroup(1, "tokentap-admin");
    try {
      Channel ch =
          new ServerBootstrap()
              .group(group)
              .channel(Transports.serverChannel())
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                      c.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new HttpObjectAggregator(8192))
                          .addLast(new Endpoints(registry, ready, endpoints, token));
                    }
                  })
              .bind(listen.host(), listen.port())
              .sync()
              .channel();
      InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
      if (!endpoints.isEmpty() && token == null && !bound.getAddress().isLoopbackAddress()) {
        org.slf4j.LoggerFactory.getLogger(AdminServer.class).warn(
            "admin listener on {} is reachable from other hosts; its control endpoints answer loopback peers only until"
                + " tokentap.admin.token is set", bound);
      }
      return new AdminServer(group, ch);
    } catch (Exception e) { // bind failures arrive as (undeclared) IOExceptions from sync()
      group.shutdownGracefully();
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      throw new java.io.IOException("cannot listen on " + listen + " (tokentap.admin.listen): " + e.getMessage(), e);
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Endpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final java.util.List<AdminEndpoint> endpoints;
    private final String token;

    Endpoints(PrometheusMeterRegistry registry, BooleanSupplier ready, java.util.List<AdminEndpoint> endpoints, String token) {
      this.registry = registry;
      this.ready = ready;
      this.endpoints = java.util.List.copyOf(endpoints);
      this.token = token;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String[] pathAndQuery = req.uri().split("\\?", 2);
      String path = pathAndQuery[0];
      boolean getOrHead = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
      AdminEndpoint endpoint = endpoints.stream().filter(e -> e.path().equals(path)).findFirst().orElse(null);
      FullHttpResponse res;
      if (endpoint != null) {
        String refusal =
            AdminAccess.refusal(ctx.channel().remoteAddress(), req.headers().get(HttpHeaderNames.AUTHORIZATION),
                req.headers().get(HttpHeaderNames.HOST), req.headers().get(HttpHeaderNames.ORIGIN), token);
        if (refusal != null) {
          res = text(ctx, HttpResponseStatus.FORBIDDEN, "text/plain", refusal + "\n");
        } else {
          AdminEndpoint.Response r;
          try {
            r = endpoint.handle(req.method().name(), pathAndQuery.length > 1 ? pathAndQuery[1] : "", io.netty.buffer.ByteBufUtil.getBytes(req.content()));
          } catch (RuntimeException e) {
            r = new AdminEndpoint.Response(500, "text/plain", "error: " + e.getMessage() + "\n");
          }
          res = text(ctx, HttpResponseStatus.valueOf(r.status()), r.contentType(), r.body());
        }
      } else if (!getOrHead) {
        res = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
      } else {
        res = switch (path) {
          case "/metrics" -> text(ctx, HttpResponseStatus.OK, PROMETHEUS_TEXT, registry.scrape());
          case "/health" -> text(ctx, HttpResponseStatus.OK, "text/plain", "ok\n");
          case "/ready" -> ready.getAsBoolean()
              ? text(ctx, HttpResponseStatus.OK, "text/plain", "ready\n")
              : text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "not ready\n");
          default -> text(ctx, HttpResponseStatus.NOT_FOUND, "text/plain", "not found: try /metrics, /health, /ready\n");
        };
      }
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      HttpUtil.setKeepAlive(res, keepAlive);
      var f = ctx.writeAndFlush(res);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body) {
      ByteBuf buf = ctx.alloc().buffer(body.length());
      buf.writeCharSequence(body, StandardCharsets.UTF_8);
      FullHttpResponse res = new DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1, status, buf);
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
      return res;
    }
  }
}
