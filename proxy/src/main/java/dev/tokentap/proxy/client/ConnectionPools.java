package dev.tokentap.proxy.client;

import dev.tokentap.proxy.config.UpstreamUri;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One upstream's {@link ConnectionPool}s, one per event loop, made when a loop first asks. A user
 * on loop L only ever touches L's pool, from L.
 */
public final class ConnectionPools {
  private final UpstreamUri upstream;
  private final SslContext tls;
  private final ConnectionPool.Limits limits;
  private final Map<EventLoop, ConnectionPool> pools = new ConcurrentHashMap<>();

  /** @param tls the client TLS context for an https upstream; null for plain http */
  public ConnectionPools(UpstreamUri upstream, SslContext tls, ConnectionPool.Limits limits) {
    this.upstream = upstream;
    this.tls = tls;
    this.limits = limits;
  }

  /** The pool of {@code loop}; use it from that loop only. */
  public ConnectionPool of(EventLoop loop) {
    ConnectionPool pool = pools.get(loop);
    if (pool == null) {
      pool = pools.computeIfAbsent(loop, l -> new ConnectionPool(l, upstream, tls, limits));
    }
    return pool;
  }

  /** Closes every pool's idle connections, each on its own loop. */
  public void closeIdle() {
    pools.forEach((loop, pool) -> loop.execute(pool::closeIdle));
  }
}
