package dev.tokentap.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The bench's keep-alive connections to its target that belong to one event loop, as the proxy's
 * upstream pool per loop: everything here runs on {@link #loop}, so there is no lock. Unbounded:
 * how many requests are in flight is the runner's decision (its concurrency or schedule), and a
 * client-side limit would hide that as queueing. A connection whose last response did not end
 * cleanly is closed, never given back.
 *
 * <p>A connection idle for {@link #IDLE_REUSE_LIMIT} or longer is closed instead of reused: servers
 * close idle keep-alive connections (uvicorn, in front of vLLM and SGLang, after 5 s), and a request
 * written to one the server is closing fails without the server ever seeing it, which the bench
 * would count against the server. The proxy's pool keeps the same limit
 * ({@code tokentap.upstream.pooled-connection-idle-timeout}, 4 s).
 *
 * <p>For an https target a connection is handed out only after its TLS handshake succeeded, so an
 * untrusted certificate fails the request before any request byte leaves.
 */
final class KeepAlivePool {
  static final Duration IDLE_REUSE_LIMIT = Duration.ofSeconds(4);
  private static final AttributeKey<Long> IDLE_SINCE = AttributeKey.valueOf("tokentap.bench.idleSince");

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final boolean secure;
  /** Most recently used last: reused first, so idle ones at the head are the ones servers close. */
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();

  KeepAlivePool(EventLoop loop, Bootstrap template, boolean secure) {
    this.loop = loop;
    this.bootstrap = template.clone(loop);
    this.secure = secure;
  }

  EventLoop loop() {
    return loop;
  }

  /** A connected channel, an idle one when there is one. On {@link #loop} only. */
  Future<Channel> acquire() {
    Channel ch;
    while ((ch = idle.pollLast()) != null) {
      if (ch.isActive() && System.nanoTime() - ch.attr(IDLE_SINCE).get() < IDLE_REUSE_LIMIT.toNanos()) {
        return loop.newSucceededFuture(ch);
      }
      ch.close();
    }
    Promise<Channel> promise = loop.newPromise();
    ChannelFuture connect = bootstrap.connect();
    Channel fresh = connect.channel();
    fresh.closeFuture().addListener(c -> idle.removeLastOccurrence(fresh));
    connect.addListener(c -> {
      if (!c.isSuccess()) {
        promise.tryFailure(c.cause());
      } else if (secure) {
        fresh.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
          if (h.isSuccess()) {
            promise.trySuccess(fresh);
          } else {
            promise.tryFailure(h.cause()); // the SslHandler closes the connection itself
          }
        });
      } else {
        promise.trySuccess(fresh);
      }
    });
    return promise;
  }

  /** Gives back a channel whose last exchange ended cleanly. On {@link #loop} only. */
  void release(Channel ch) {
    if (ch.isActive()) {
      ch.attr(IDLE_SINCE).set(System.nanoTime());
      idle.addLast(ch);
    }
  }
}
