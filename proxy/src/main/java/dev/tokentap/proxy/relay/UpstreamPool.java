package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.UpstreamUri;
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
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to the upstream, owned by one event loop. Each client connection uses the
 * pool of its own event loop (Zuul's origin pool per loop), so acquiring and releasing need no lock
 * or volatile field: everything here runs on {@link #loop}.
 *
 * <p>Bounded: at most {@code max-connections-per-loop} open connections; further requests wait in a
 * queue of at most {@code max-pending-acquires-per-loop}, and beyond that are refused ({@link
 * PoolExhaustedException}). A connection whose response did not end cleanly is closed, never
 * returned.
 *
 * <p>For an {@code https://} upstream a connection is handed out only after its TLS handshake
 * succeeded, so a certificate the proxy does not trust fails the acquire (the client gets 502) and
 * no request byte ever leaves on it.
 *
 * <pre>
 *   upstream socket → [tls] → ReadClock → HttpClientCodec → UpstreamResponseHandler
 * </pre>
 */
final class UpstreamPool {
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final int maxConnections;
  private final int maxPending;
  private final long idleTimeoutNanos;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Promise<Channel>> waiters = new ArrayDeque<>();
  private final boolean secure;
  private int open;

  /** @param tls the client TLS context for an https upstream; null for plain http */
  UpstreamPool(EventLoop loop, UpstreamUri upstream, SslContext tls, Settings.Proxy proxy, Settings.Upstream settings) {
    this.loop = loop;
    this.secure = tls != null;
    this.maxConnections = settings.maxConnectionsPerLoop();
    this.maxPending = settings.maxPendingAcquiresPerLoop();
    this.idleTimeoutNanos = settings.pooledConnectionIdleTimeout().toNanos();
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(Transports.socketChannel())
            .remoteAddress(upstream.host(), upstream.port())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis()))
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      // The handshake shares the connect timeout: both are "reaching the upstream".
                      ch.pipeline().addLast("tls", TlsContexts.newHandler(tls, ch.alloc(), upstream, settings.connectTimeout()));
                    }
                    ch.pipeline()
                        .addLast("read-clock", new ReadClock())
                        .addLast("http", new HttpClientCodec(4096, proxy.maxHeaderSize(), 65536))
                        .addLast("response", new UpstreamResponseHandler());
                  }
                });
  }

  /** A connected channel, reused when one is idle. */
  Future<Channel> acquire() {
    return acquire(false);
  }

  /**
   * A connected channel; with {@code fresh}, never an idle one: a retry after a pooled connection
   * turned out stale should not meet another that the server closed at the same moment.
   */
  Future<Channel> acquire(boolean fresh) {
    Promise<Channel> promise = loop.newPromise();
    Channel reusable;
    while (!fresh && (reusable = idle.pollLast()) != null) {
      if (reusable.isActive() && System.nanoTime() - lastUsed(reusable) < idleTimeoutNanos) {
        return promise.setSuccess(reusable);
      }
      reusable.close();
    }
    if (open < maxConnections) {
      connect(promise);
    } else if (waiters.size() < maxPending) {
      waiters.add(promise);
    } else {
      promise.setFailure(new PoolExhaustedException(open, waiters.size()));
    }
    return promise;
  }

  /** Gives back a channel whose last exchange ended cleanly. */
  void release(Channel ch) {
    if (!ch.isActive()) {
      return;
    }
    ch.attr(UpstreamResponseHandler.LAST_USED).set(System.nanoTime());
    Promise<Channel> waiter;
    while ((waiter = waiters.poll()) != null) {
      if (waiter.trySuccess(ch)) {
        return;
      }
    }
    idle.addLast(ch);
  }

  /** Requests waiting for a connection on this loop (a queueing signal). */
  int pending() {
    return waiters.size();
  }

  void closeIdle() {
    Channel ch;
    while ((ch = idle.poll()) != null) {
      ch.close();
    }
  }

  /** Whether {@code ch} was given back to the pool before: the server may have closed it since. */
  static boolean reused(Channel ch) {
    return ch.attr(UpstreamResponseHandler.LAST_USED).get() != null;
  }

  private static long lastUsed(Channel ch) {
    Long t = ch.attr(UpstreamResponseHandler.LAST_USED).get();
    return t == null ? System.nanoTime() : t;
  }

  private void connect(Promise<Channel> promise) {
    open++;
    ChannelFuture f = bootstrap.connect();
    Channel ch = f.channel();
    ch.closeFuture().addListener(c -> onClosed(ch));
    f.addListener(
        c -> {
          if (!c.isSuccess()) {
            promise.tryFailure(c.cause());
            return;
          }
          if (secure) {
            afterHandshake(ch, promise);
          } else {
            handOut(ch, promise);
          }
        });
  }

  private void afterHandshake(Channel ch, Promise<Channel> promise) {
    ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
      if (h.isSuccess()) {
        handOut(ch, promise);
      } else {
        promise.tryFailure(h.cause()); // the SslHandler closes the connection itself
      }
    });
  }

  private void handOut(Channel ch, Promise<Channel> promise) {
    if (!promise.trySuccess(ch)) {
      release(ch);
    }
  }

  private void onClosed(Channel ch) {
    open--;
    idle.remove(ch);
    // A slot opened: the first waiter gets a fresh connection.
    Promise<Channel> waiter = waiters.poll();
    if (waiter != null) {
      connect(waiter);
    }
  }

  /** Every connection slot and waiting place on this loop is taken. */
  static final class PoolExhaustedException extends Exception {
    PoolExhaustedException(int open, int waiting) {
      super("all " + open + " upstream connections of this event loop are busy and " + waiting + " requests wait for one", null, false, false);
    }
  }
}
