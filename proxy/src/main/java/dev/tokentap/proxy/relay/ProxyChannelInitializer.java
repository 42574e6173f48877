package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.client.ReadClock;
import dev.tokentap.proxy.config.Settings;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;

/**
 * The client-facing pipeline, top to bottom:
 *
 * <pre>
 *   tls         TLS, when tokentap.proxy.tls is configured (before the clock: a request starts at
 *               its first decrypted byte, not at the handshake)
 *   read-clock  stamps each read (t_start is the first byte of a request)
 *   http        HTTP/1.1 framing, RFC 9112 (keep-alive, chunked and content-length bodies); ambiguous
 *               framing becomes an invalid request, never a guess
 *   timeouts    the client-side timeouts: request head, keep-alive idle, request body (ClientTimeouts)
 *   relay       checks each request (size limits, Expect), then one Exchange per request: upstream
 *               pool, meter, usage filter, timeouts
 * </pre>
 *
 * <p>A connection over {@code tokentap.proxy.max-connections} gets no pipeline: it is closed as
 * accepted ({@link ClientConnectionCap}).
 */
final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final RelayContext relay;
  private final ChannelGroup clients;
  private final ClientConnectionCap cap;

  ProxyChannelInitializer(RelayContext relay, ChannelGroup clients) {
    this.relay = relay;
    this.clients = clients;
    this.cap = new ClientConnectionCap(relay.settings.proxy().clientLimits().maxConnections(),
        relay.recorder.metrics().clientConnectionsClosed("max_connections"));
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    Settings.Proxy s = relay.settings.proxy();
    if (!cap.admit(ch)) {
      ch.close();
      return;
    }
    clients.add(ch); // for draining at shutdown; the group forgets closed channels by itself
    ChannelPipeline p = ch.pipeline();
    if (relay.listenerTls != null) {
      p.addLast("tls", relay.listenerTls.newHandler(ch.alloc()));
    }
    p.addLast("read-clock", new ReadClock());
    p.addLast("http", new ClientHttpCodec(s.maxInitialLineLength(), s.maxHeaderSize()));
    p.addLast("timeouts", new ClientTimeouts(s.clientLimits(), relay.recorder.metrics()));
    p.addLast("relay", new ClientConnectionHandler(relay));
  }
}
