package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.RequestRecorder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The client-facing listener and the event loops that serve both its connections and their
 * upstream connections (one loop per connection pair, so relaying never crosses threads).
 */
public final class ProxyServer implements AutoCloseable {
  private final RelayContext relay;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel listener;
  private final ChannelGroup clients;

  private ProxyServer(RelayContext relay, EventLoopGroup boss, EventLoopGroup workers, Channel listener, ChannelGroup clients) {
    this.relay = relay;
    this.boss = boss;
    this.workers = workers;
    this.listener = listener;
    this.clients = clients;
  }

  public static ProxyServer start(Settings settings, RequestRecorder recorder) throws InterruptedException, java.io.IOException {
    return start(settings, recorder, java.util.List.of());
  }

  /** A listener whose inspected requests are also handed to {@code taps}. */
  public static ProxyServer start(Settings settings, RequestRecorder recorder, java.util.List<dev.tokentap.proxy.tap.RequestTap> taps)
      throws InterruptedException, java.io.IOException {
    RelayContext relay = new RelayContext(settings, recorder, taps);
    Settings.Proxy s = settings.proxy();
    EventLoopGroup boss = Transports.newGroup(1, "tokentap-accept");
    // 0: one per core, as documented (and as nginx's worker_processes auto); Netty's own default
    // for 0 would be two per core, each a thread to wake and switch to.
    int ioThreads = s.ioThreads() > 0 ? s.ioThreads() : Runtime.getRuntime().availableProcessors();
    EventLoopGroup workers = Transports.newGroup(ioThreads, "tokentap-io");
    ChannelGroup clients = new DefaultChannelGroup("tokentap-clients", GlobalEventExecutor.INSTANCE);
    try {
      // Every I/O thread started before the listener opens: a thread's start (and its selector's)
      // would otherwise fall on the first connection it serves, inside that request's timings.
      for (io.netty.util.concurrent.EventExecutor loop : workers) {
        loop.submit(ProxyServer::primeThread).sync();
      }
      Channel listener =
          new ServerBootstrap()
              .group(boss, workers)
              .channel(Transports.serverChannel())
              .option(ChannelOption.SO_BACKLOG, s.clientLimits().backlog())
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(s.writeBufferLowWaterMark(), s.writeBufferHighWaterMark()))
              .childHandler(new ProxyChannelInitializer(relay, clients))
              .bind(s.listen().host(), s.listen().port())
              .sync()
              .channel();
      return new ProxyServer(relay, boss, workers, listener, clients);
    } catch (Exception e) { // bind failures arrive as (undeclared) IOExceptions from sync()
      boss.shutdownGracefully();
      workers.shutdownGracefully();
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      throw new java.io.IOException("cannot listen on " + s.listen() + " (tokentap.proxy.listen): " + e.getMessage(), e);
    }
  }

  /**
   * On a new I/O thread: the buffer allocator's per-thread state (Netty's allocators give each event
   * loop its own cache or magazine, whose first chunk is allocated on first use) made now, so its
   * first request does not pay for it between a read and the write to the client.
   */
  private static void primeThread() {
    io.netty.buffer.ByteBufAllocator alloc = io.netty.buffer.ByteBufAllocator.DEFAULT;
    alloc.directBuffer(16 * 1024).release();
    alloc.heapBuffer(16 * 1024).release();
    alloc.ioBuffer(2048).release();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  public EventLoopGroup workers() {
    return workers;
  }

  /**
   * Graceful part of a shutdown: stops accepting new connections, closes connections that are
   * between requests, and lets requests in flight finish (their responses say Connection: close)
   * for up to {@code grace}. Returns when every client connection has closed or the time is up.
   */
  public void drain(Duration grace) throws InterruptedException {
    relay.startDraining();
    listener.close().syncUninterruptibly();
    for (Channel ch : clients) {
      ClientConnectionHandler handler = ch.pipeline().get(ClientConnectionHandler.class);
      if (handler != null) {
        ch.eventLoop().execute(handler::closeIfIdle);
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    while (!clients.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  /** Stops accepting; connections still open (after {@link #drain}, the stragglers) are cut. */
  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    clients.close().awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
    relay.closeIdleConnections();
    boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
