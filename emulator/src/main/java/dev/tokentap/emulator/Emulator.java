package dev.tokentap.emulator;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible inference server emulation on a real socket: the upstream for tests, the
 * demo and benchmarks. Not a mock: requests queue, batch and slow each other down as in a
 * continuous-batching engine ({@link EngineLoop}, DESIGN §7), or keep an exact timing ({@link
 * FixedTiming}), and faults can be injected per request ({@link FaultSpec}).
 *
 * <p>Endpoints: {@code POST /v1/chat/completions} and {@code POST /v1/completions} (streaming or
 * not, framed as vLLM frames them), {@code GET /v1/models}, {@code GET /health}, {@code GET
 * /metrics} (vLLM's metric names). Output is deterministic ({@link OutputPlan}); prompt tokens are
 * estimated by {@link PromptTokenEstimator}.
 *
 * <pre>{@code
 * EmulatorSettings settings =
 *     EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast());
 * try (Emulator emulator = Emulator.start(settings)) {
 *   URI base = emulator.baseUri(); // http://127.0.0.1:PORT
 * }
 * }</pre>
 */
public final class Emulator implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Emulator.class);

  private final EmulatorSettings settings;
  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final Engine engine;
  private final EmulatorMetrics metrics;
  private final List<Consumer<EmulatedRequest>> listeners;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Emulator(
      EmulatorSettings settings,
      EventLoopGroup group,
      Channel serverChannel,
      Engine engine,
      EmulatorMetrics metrics,
      List<Consumer<EmulatedRequest>> listeners) {
    this.settings = settings;
    this.group = group;
    this.serverChannel = serverChannel;
    this.engine = engine;
    this.metrics = metrics;
    this.listeners = listeners;
  }

  /**
   * Starts the engine and listens; returns once the port is bound.
   *
   * @throws IllegalStateException if the address cannot be bound
   */
  public static Emulator start(EmulatorSettings settings) throws InterruptedException {
    requireNonNull(settings, "settings");
    EmulatorMetrics metrics = new EmulatorMetrics(settings.servedModelName());
    Engine engine = Engine.of(settings, metrics);
    List<Consumer<EmulatedRequest>> listeners = new CopyOnWriteArrayList<>();
    EmulatorRuntime runtime = new EmulatorRuntime(settings, engine, metrics, listeners);

    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    int threads =
        settings.ioThreads() == 0
            ? Runtime.getRuntime().availableProcessors()
            : settings.ioThreads();
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            threads, new DefaultThreadFactory("tokentap-emulator-io", true), io);
    engine.start();
    ChannelFuture bind =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            // Every chunk is flushed at its step's end; Nagle would hold small chunks back.
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new EmulatorChannelInitializer(runtime, System.currentTimeMillis() / 1000))
            .bind(settings.host(), settings.port())
            .await();
    if (!bind.isSuccess()) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      engine.close();
      throw new IllegalStateException(
          "emulator could not listen on " + settings.host() + ":" + settings.port(), bind.cause());
    }
    Emulator emulator = new Emulator(settings, group, bind.channel(), engine, metrics, listeners);
    log.info(
        "Emulator listening on {} ({}, {} transport)",
        emulator.baseUri(),
        settings.timingName(),
        epoll ? "epoll" : "nio");
    return emulator;
  }

  /** The bound port (the chosen one when the settings said 0). */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /**
   * {@code http://host:port}; a wildcard listen address is given as loopback, for local clients.
   */
  public URI baseUri() {
    String host = settings.host();
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      host = "127.0.0.1";
    } else if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + port());
  }

  public EmulatorSettings settings() {
    return settings;
  }

  /**
   * Called once per finished generation request (completed, cancelled, or ended by a fault), on the
   * connection's event loop: keep it quick.
   */
  public void addListener(Consumer<EmulatedRequest> onFinished) {
    listeners.add(requireNonNull(onFinished, "onFinished"));
  }

  public EngineStats stats() {
    return metrics.stats();
  }

  /**
   * Stops listening, closes every connection (running requests finish as cancelled), stops the
   * engine.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    engine.close();
  }
}
