package dev.tokentap.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;

/**
 * What the client-side encoder ({@link ClientHttpCodec}) is given for a response whose body is
 * relayed in the upstream's own framing: a {@link Head} it encodes but whose body it leaves alone,
 * then {@link Bytes} it passes to the socket untouched, then an empty {@code LastHttpContent} that
 * ends the message. Used when the body reaches the client exactly as the upstream framed it: same
 * chunking or same Content-Length, nothing filtered out ({@link ResponseRelay}).
 */
final class WireRelay {
  private WireRelay() {}

  /** A response head whose body follows as {@link Bytes}. */
  static final class Head extends DefaultHttpResponse {
    Head(HttpResponse head) {
      super(head.protocolVersion(), head.status(), head.headers());
    }
  }

  /** Body bytes as the upstream framed them; the encoder unwraps and writes them as they are. */
  static final class Bytes extends DefaultByteBufHolder {
    Bytes(ByteBuf wire) {
      super(wire);
    }
  }
}
