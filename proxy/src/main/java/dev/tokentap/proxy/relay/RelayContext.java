package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.ConnectionPools;
import dev.tokentap.proxy.client.TlsContexts;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.tap.RequestTap;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import java.util.List;

/** What every connection of one proxy listener shares: settings, the recorder, the pools per loop. */
final class RelayContext {
  final Settings settings;
  final RequestRecorder recorder;
  final RouteResolver routes;
  /** Where a request's tenant comes from (tokentap.metrics.tenant); finds nothing when off. */
  final TenantSource tenants;
  /** Given a copy of each inspected request (the shadow engine); empty when none is installed. */
  final List<RequestTap> taps;
  /** TLS towards the upstream (null: plain http) and on the listener (null: off). */
  final SslContext upstreamTls;
  final SslContext listenerTls;
  private final ConnectionPools pools;
  /** Set once at shutdown: responses then close their connections instead of keeping them. */
  private volatile boolean draining;

  RelayContext(Settings settings, RequestRecorder recorder, List<RequestTap> taps) {
    this.settings = settings;
    this.taps = List.copyOf(taps);
    this.recorder = recorder;
    this.routes = new RouteResolver(settings.metrics().excludePaths(), settings.metrics().routes());
    this.tenants = new TenantSource(settings.metrics().tenant());
    this.upstreamTls = TlsContexts.forUpstream(settings.proxy().upstream(), settings.upstream().tls(), "tokentap.upstream.tls");
    this.listenerTls = TlsContexts.forListener(settings.proxy().tls(), "tokentap.proxy.tls");
    Settings.Upstream u = settings.upstream();
    this.pools = new ConnectionPools(settings.proxy().upstream(), upstreamTls, new ConnectionPool.Limits(
        u.connectTimeout(), u.pooledConnectionIdleTimeout(), u.maxConnectionsPerLoop(), u.maxPendingAcquiresPerLoop(),
        settings.proxy().maxHeaderSize()));
  }

  /** The pool of {@code loop}; only ever used from that loop. */
  ConnectionPool pool(EventLoop loop) {
    return pools.of(loop);
  }

  void startDraining() {
    draining = true;
  }

  boolean draining() {
    return draining;
  }

  void closeIdleConnections() {
    pools.closeIdle();
  }
}
