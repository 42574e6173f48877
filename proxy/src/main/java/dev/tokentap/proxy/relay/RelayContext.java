package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.RequestRecorder;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import dev.tokentap.proxy.tap.RequestTap;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/** What every connection of one proxy listener shares: settings, the recorder, the pools per loop. */
final class RelayContext {
  final Settings settings;
  final RequestRecorder recorder;
  final RouteResolver routes;
  /** Given a copy of each inspected request (the shadow engine); empty when none is installed. */
  final List<RequestTap> taps;
  /** TLS towards the upstream (null: plain http) and on the listener (null: off). */
  final SslContext upstreamTls;
  final SslContext listenerTls;
  private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  /** Set once at shutdown: responses then close their connections instead of keeping them. */
  private volatile boolean draining;

  RelayContext(Settings settings, RequestRecorder recorder, List<RequestTap> taps) {
    this.settings = settings;
    this.taps = List.copyOf(taps);
    this.recorder = recorder;
    this.routes = new RouteResolver(settings.metrics().excludePaths(), settings.metrics().routes());
    this.upstreamTls = TlsContexts.forUpstream(settings.proxy().upstream(), settings.upstream().tls(), "tokentap.upstream.tls");
    this.listenerTls = TlsContexts.forListener(settings.proxy().tls(), "tokentap.proxy.tls");
  }

  /** The pool of {@code loop}; only ever used from that loop. */
  UpstreamPool pool(EventLoop loop) {
    UpstreamPool pool = pools.get(loop);
    if (pool == null) {
      pool = pools.computeIfAbsent(loop, l -> new UpstreamPool(l, settings.proxy().upstream(), upstreamTls, settings.proxy(), settings.upstream()));
    }
    return pool;
  }

  void startDraining() {
    draining = true;
  }

  boolean draining() {
    return draining;
  }

  void closeIdleConnections() {
    pools.forEach((loop, pool) -> loop.execute(pool::closeIdle));
  }
}
