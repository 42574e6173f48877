package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.RequestRecorder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;

/**
 * The client-facing listener and the event loops that serve both its connections and their
 * upstream connections (one loop per connection pair, so relaying never crosses threads).
 */
public final class ProxyServer implements AutoCloseable {
  private final RelayContext relay;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel listener;

  private ProxyServer(RelayContext relay, EventLoopGroup boss, EventLoopGroup workers, Channel listener) {
    this.relay = relay;
    this.boss = boss;
    this.workers = workers;
    this.listener = listener;
  }

  public static ProxyServer start(Settings settings, RequestRecorder recorder) throws InterruptedException, java.io.IOException {
    RelayContext relay = new RelayContext(settings, recorder);
    Settings.Proxy s = settings.proxy();
    EventLoopGroup boss = Transports.newGroup(1, "tokentap-accept");
    EventLoopGroup workers = Transports.newGroup(s.ioThreads(), "tokentap-io");
    try {
      Channel listener =
          new ServerBootstrap()
              .group(boss, workers)
              .channel(Transports.serverChannel())
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(s.writeBufferLowWaterMark(), s.writeBufferHighWaterMark()))
              .childHandler(new ProxyChannelInitializer(relay))
              .bind(s.listen().host(), s.listen().port())
              .sync()
              .channel();
      return new ProxyServer(relay, boss, workers, listener);
    } catch (Exception e) { // bind failures arrive as (undeclared) IOExceptions from sync()
      boss.shutdownGracefully();
      workers.shutdownGracefully();
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      throw new java.io.IOException("cannot listen on " + s.listen() + " (tokentap.proxy.listen): " + e.getMessage(), e);
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  public EventLoopGroup workers() {
    return workers;
  }

  /** Stops accepting; connections in flight are cut when the loops shut down. */
  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    relay.closeIdleConnections();
    boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
