package dev.tokentap.proxy.client;

import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.nio.channels.NotYetConnectedException;

/**
 * Tells a peer's fault from tokentap's own in an {@code exceptionCaught}. A reset, a TLS alert or
 * bytes no decoder accepts (IOException, or a DecoderException of the peer's bytes) are the peer's:
 * they end the connection quietly and are counted where the exchange ends. Anything else, such as a
 * decoder or handler throwing on bytes it should have handled, is tokentap's, and is logged.
 */
public final class PeerFaults {
  private PeerFaults() {}

  /**
   * Whether {@code cause} says the connection itself is gone: an I/O error (a reset, a broken pipe),
   * or a read from a socket the peer's RST has already closed, which Netty's epoll transport reports
   * as {@link NotYetConnectedException} (ENOTCONN), not as an IOException.
   */
  public static boolean connectionLost(Throwable cause) {
    return cause instanceof IOException || cause instanceof NotYetConnectedException;
  }

  /** Whether {@code cause} is not the peer's doing and should be logged. */
  public static boolean unexpected(Throwable cause) {
    Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    return !connectionLost(c) && !(c instanceof DecoderException);
  }
}
