package dev.tokentap.proxy.relay;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;

/**
 * The I/O transport of every event loop in the process (listener, upstream client, admin, shadow,
 * bench): native epoll where the platform has it (Linux), the JDK's NIO elsewhere, or Linux
 * io_uring when asked for ({@code tokentap.proxy.transport}; docs/performance.md, "Transports").
 * Chosen once at start-up, before the first loop is made: a channel must belong to a loop of its
 * own transport. Tools without settings take the {@code tokentap.transport} system property.
 */
public final class Transports {
  /** A transport and its Netty classes. */
  public enum Kind {
    EPOLL("epoll"),
    IO_URING("io_uring"),
    NIO("nio");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private static volatile Kind kind = resolve(System.getProperty("tokentap.transport", Boolean.getBoolean("tokentap.nio") ? "nio" : "auto"));

  private Transports() {}

  /**
   * The transport named {@code name} ({@code auto}, {@code epoll}, {@code io_uring}, {@code nio}):
   * {@code auto} is epoll where available, else NIO.
   *
   * @throws IllegalArgumentException for an unknown name, or a native transport this machine cannot
   *     run (with the reason, e.g. io_uring disabled by the kernel or a seccomp profile)
   */
  public static Kind resolve(String name) {
    return switch (name.toLowerCase(Locale.ROOT).replace('-', '_')) {
      case "auto" -> Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
      case "nio" -> Kind.NIO;
      case "epoll" -> {
        if (!Epoll.isAvailable()) {
          throw new IllegalArgumentException("epoll is not available here: " + Epoll.unavailabilityCause());
        }
        yield Kind.EPOLL;
      }
      case "io_uring", "iouring" -> {
        if (!IoUring.isAvailable()) {
          throw new IllegalArgumentException("io_uring is not available here: " + IoUring.unavailabilityCause());
        }
        yield Kind.IO_URING;
      }
      default -> throw new IllegalArgumentException("unknown transport \"" + name + "\" (expected: auto, epoll, io_uring, nio)");
    };
  }

  /** Makes {@code k} the transport of the loops made from now on. */
  public static void use(Kind k) {
    kind = k;
  }

  public static String name() {
    return kind.label();
  }

  public static EventLoopGroup newGroup(int threads, String name) {
    IoHandlerFactory factory = switch (kind) {
      case EPOLL -> EpollIoHandler.newFactory();
      case IO_URING -> IoUringIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
  }

  public static Class<? extends ServerChannel> serverChannel() {
    return switch (kind) {
      case EPOLL -> EpollServerSocketChannel.class;
      case IO_URING -> IoUringServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  public static Class<? extends SocketChannel> socketChannel() {
    return switch (kind) {
      case EPOLL -> EpollSocketChannel.class;
      case IO_URING -> IoUringSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }
}
