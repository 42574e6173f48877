package dev.tokentap.proxy.client;

import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.proxy.relay.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to one upstream, owned by one event loop: the one connection pool of the
 * relay (to the inference server), the shadow engine (to each staging target) and the bench (to its
 * target). Each user takes the pool of the loop it runs on (Zuul's origin pool per loop, see
 * {@link ConnectionPools}), so acquiring and releasing need no lock or volatile field: everything
 * here runs on {@link #loop}.
 *
 * <p>Bounded by {@link Limits}: at most {@code maxConnections} open connections; further acquires
 * wait in a queue of at most {@code maxPending}, and beyond that are refused ({@link
 * PoolExhaustedException}). A connection idle for {@code idleReuseLimit} is closed, never reused:
 * servers close idle keep-alive connections (uvicorn, in front of vLLM and SGLang, after 5 s), and a
 * request written to one the server is closing fails without the server seeing it. It is closed when
 * it reaches that age, not only when an acquire meets it: after a burst, the connections it opened
 * would otherwise stay open on a server that never closes idle ones (nginx closes its upstream
 * keep-alive connections at {@code keepalive_timeout} the same way). A connection whose response
 * did not end cleanly is closed by its user, never given back.
 *
 * <p>For an {@code https://} upstream a connection is handed out only after its TLS handshake
 * succeeded, so a certificate that is not trusted fails the acquire and no request byte ever leaves
 * on it. The handshake shares the connect timeout: both are "reaching the upstream".
 *
 * <pre>
 *   upstream socket → [tls] → ReadClock → UpstreamHttpCodec → ResponseDispatcher → listener
 * </pre>
 */
public final class ConnectionPool {
  private static final AttributeKey<Long> LAST_USED = AttributeKey.valueOf("tokentap.client.lastUsed");
  /** Set as {@link #LAST_USED} on an idle connection taken out of {@link #idle} to be closed. */
  private static final Long DISCARDED = Long.valueOf(Long.MIN_VALUE);

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final Limits limits;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Promise<Channel>> waiters = new ArrayDeque<>();
  private final boolean secure;
  private int open;
  /** The pending close of idle connections past the limit; null while none is idle. */
  private ScheduledFuture<?> expiry;

  /**
   * How a pool connects and how far it grows.
   *
   * @param connectTimeout TCP connect, and TLS handshake after it
   * @param idleReuseLimit an idle connection this old is closed, never reused
   * @param maxConnections connections open at once
   * @param maxPending acquires that may wait for a connection; beyond, they fail at once
   * @param maxHeaderSize the largest response head accepted
   */
  public record Limits(Duration connectTimeout, Duration idleReuseLimit, int maxConnections, int maxPending, int maxHeaderSize) {
    /** The idle reuse limit unless configured ({@code tokentap.upstream.pooled-connection-idle-timeout}): below uvicorn's 5 s. */
    public static final Duration DEFAULT_IDLE_REUSE_LIMIT = Duration.ofSeconds(4);

    /**
     * No bound on connections: how many requests are in flight is the caller's decision (a shadow
     * target's bulkhead, the bench's load), and a limit here would hide it as queueing.
     */
    public static Limits unbounded(Duration connectTimeout) {
      return new Limits(connectTimeout, DEFAULT_IDLE_REUSE_LIMIT, Integer.MAX_VALUE, 0, 65536);
    }
  }

  /**
   * How much one read of an upstream socket asks for. Netty's default guess shrinks to 64 bytes
   * after a run of small reads, and then cuts the next larger burst into several reads, each one a
   * meter pass, a write and a flush to the client, and each cut chunk framed anew where the usage
   * event is filtered (docs/performance.md, "Whole reads"). A stream's reads are a few events
   * each, so the guess stays at 2 KiB or more; buffers are pooled and released once relayed.
   */
  private static final AdaptiveRecvByteBufAllocator READ_SIZES = new AdaptiveRecvByteBufAllocator(2048, 8192, 65536);

  /** @param tls the client TLS context for an https upstream ({@link TlsContexts}); null for plain http */
  public ConnectionPool(EventLoop loop, UpstreamUri upstream, SslContext tls, Limits limits) {
    this.loop = loop;
    this.secure = tls != null;
    this.limits = limits;
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(Transports.socketChannel())
            .remoteAddress(upstream.host(), upstream.port())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, limits.connectTimeout().toMillis()))
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.RCVBUF_ALLOCATOR, READ_SIZES)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast("tls", TlsContexts.newHandler(tls, ch.alloc(), upstream, limits.connectTimeout()));
                    }
                    ch.pipeline()
                        .addLast("read-clock", new ReadClock())
                        .addLast("http", new UpstreamHttpCodec(4096, limits.maxHeaderSize()))
                        .addLast("response", new ResponseDispatcher());
                  }
                });
  }

  /** The loop this pool belongs to; every call is made on it. */
  public EventLoop loop() {
    return loop;
  }

  /** A connected channel, reused when one is idle. */
  public Future<Channel> acquire() {
    return acquire(false);
  }

  /**
   * A connected channel; with {@code fresh}, never an idle one: a retry after a pooled connection
   * turned out stale should not meet another that the server closed at the same moment.
   */
  public Future<Channel> acquire(boolean fresh) {
    Promise<Channel> promise = loop.newPromise();
    Channel reusable;
    long limit = limits.idleReuseLimit().toNanos();
    while (!fresh && (reusable = idle.pollLast()) != null) {
      if (reusable.isActive() && System.nanoTime() - lastUsed(reusable) < limit) {
        return promise.setSuccess(reusable);
      }
      discard(reusable);
    }
    if (open < limits.maxConnections()) {
      connect(promise);
    } else if (waiters.size() < limits.maxPending()) {
      waiters.add(promise);
    } else {
      promise.setFailure(new PoolExhaustedException(open, waiters.size()));
    }
    return promise;
  }

  /** Gives back a channel whose last exchange ended cleanly and may carry another. */
  public void release(Channel ch) {
    if (!ch.isActive()) {
      return;
    }
    ch.attr(LAST_USED).set(System.nanoTime());
    Promise<Channel> waiter;
    while ((waiter = waiters.poll()) != null) {
      if (waiter.trySuccess(ch)) {
        return;
      }
    }
    idle.addLast(ch); // newest last: idle is oldest first
    if (expiry == null) {
      expiry = loop.schedule(this::closeExpired, limits.idleReuseLimit().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Idle connections open on this loop. */
  public int idle() {
    return idle.size();
  }

  /** Acquires waiting for a connection on this loop (a queueing signal). */
  public int pending() {
    return waiters.size();
  }

  /** Closes the idle connections (at shutdown). */
  public void closeIdle() {
    if (expiry != null) {
      expiry.cancel(false);
      expiry = null;
    }
    Channel ch;
    while ((ch = idle.poll()) != null) {
      discard(ch);
    }
  }

  /** Closes the idle connections that reached the limit, and plans the next such close. */
  private void closeExpired() {
    expiry = null;
    long limit = limits.idleReuseLimit().toNanos();
    long now = System.nanoTime();
    Channel oldest;
    while ((oldest = idle.peekFirst()) != null) {
      long age = now - lastUsed(oldest);
      if (age < limit) {
        expiry = loop.schedule(this::closeExpired, limit - age, TimeUnit.NANOSECONDS);
        return;
      }
      discard(idle.pollFirst());
    }
  }

  /** Closes a connection already taken out of {@link #idle}, so {@link #onClosed} need not look for it there. */
  private static void discard(Channel ch) {
    ch.attr(LAST_USED).set(DISCARDED);
    ch.close();
  }

  /** Whether {@code ch} was given back to a pool before: the server may have closed it since. */
  public static boolean reused(Channel ch) {
    return ch.attr(LAST_USED).get() != null;
  }

  private static long lastUsed(Channel ch) {
    Long t = ch.attr(LAST_USED).get();
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
      release(ch); // the acquire was given up (its exchange ended while connecting)
    }
  }

  private void onClosed(Channel ch) {
    open--;
    if (ch.attr(LAST_USED).get() != DISCARDED) {
      idle.remove(ch); // closed by the server while idle (or never pooled)
    }
    // A slot opened: the first waiter gets a fresh connection.
    Promise<Channel> waiter = waiters.poll();
    if (waiter != null) {
      connect(waiter);
    }
  }

  /** Every connection slot and waiting place on this loop is taken. */
  public static final class PoolExhaustedException extends Exception {
    PoolExhaustedException(int open, int waiting) {
      super("all " + open + " upstream connections of this event loop are busy and " + waiting + " requests wait for one", null, false, false);
    }
  }
}
