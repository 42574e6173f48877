package dev.tokentap.shadow;

import dev.tokentap.proxy.config.ShadowTarget;
import dev.tokentap.proxy.relay.TlsContexts;
import dev.tokentap.proxy.relay.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to one staging target, owned by one of that target's own event loops
 * (never the proxy's): everything here runs on {@link #loop}, so there is no lock. Unbounded on its
 * own; the target's bulkhead bounds how many copies (and so connections) are open at once.
 *
 * <pre>
 *   staging socket → [tls] → HttpClientCodec → StagingResponseHandler → StagingExchange (meter, discard)
 * </pre>
 *
 * <p>For an https target a connection is handed out once its TLS handshake succeeded; a failed
 * handshake fails the copy (counted {@code failed}, and by the target's circuit breaker).
 */
final class StagingPool {
  /**
   * Idle connections older than this are closed rather than reused: below uvicorn's 5 s keep-alive
   * (it serves vLLM and SGLang), so a copy is not written to a connection the server is closing.
   */
  private static final long IDLE_REUSE_NANOS = 4_000_000_000L;

  private static final AttributeKey<Long> LAST_USED = AttributeKey.valueOf("tokentap.shadow.lastUsed");

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final boolean secure;

  /** @param tls the target's client TLS context; null for plain http */
  StagingPool(EventLoop loop, ShadowTarget target, SslContext tls) {
    this.loop = loop;
    this.secure = tls != null;
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(Transports.socketChannel())
            .remoteAddress(target.upstream().host(), target.upstream().port())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, target.connectTimeout().toMillis()))
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast("tls", TlsContexts.newHandler(tls, ch.alloc(), target.upstream(), target.connectTimeout()));
                    }
                    ch.pipeline().addLast("http", new HttpClientCodec()).addLast("response", new StagingResponseHandler());
                  }
                });
  }

  Future<Channel> acquire() {
    Channel reusable;
    while ((reusable = idle.pollLast()) != null) {
      Long used = reusable.attr(LAST_USED).get();
      if (reusable.isActive() && used != null && System.nanoTime() - used < IDLE_REUSE_NANOS) {
        return loop.<Channel>newPromise().setSuccess(reusable);
      }
      reusable.close();
    }
    Promise<Channel> promise = loop.newPromise();
    ChannelFuture f = bootstrap.connect();
    Channel ch = f.channel();
    ch.closeFuture().addListener(c -> idle.remove(ch));
    f.addListener(c -> {
      if (!c.isSuccess()) {
        promise.setFailure(c.cause());
      } else if (secure) {
        afterHandshake(ch, promise);
      } else {
        promise.setSuccess(ch);
      }
    });
    return promise;
  }

  private static void afterHandshake(Channel ch, Promise<Channel> promise) {
    ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
      if (h.isSuccess()) {
        promise.setSuccess(ch);
      } else {
        promise.setFailure(h.cause()); // the SslHandler closes the connection itself
      }
    });
  }

  void release(Channel ch) {
    if (ch.isActive()) {
      ch.attr(LAST_USED).set(System.nanoTime());
      idle.addLast(ch);
    }
  }

  void closeIdle() {
    Channel ch;
    while ((ch = idle.poll()) != null) {
      ch.close();
    }
  }
}
