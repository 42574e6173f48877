package dev.tokentap.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * What the client-side encoder ({@link ClientHttpCodec}) is given for a response whose body is
 * framed outside it: a {@link Head} it encodes but whose body it leaves alone, then {@link Bytes}
 * it passes to the socket untouched, then an empty {@code LastHttpContent} that ends the message.
 * The bytes are either the upstream's own, when the client takes the body as the upstream framed
 * it, or one {@link #chunk} per upstream read ({@link ResponseRelay}).
 */
final class WireRelay {
  private WireRelay() {}

  /**
   * Payloads up to this size are copied next to their framing rather than referenced: a copy of
   * a few KiB costs less than a composite of one slice per upstream chunk, which the epoll
   * transport writes as that many iovecs, each an NIO buffer allocated per write.
   */
  static final int COPY_THRESHOLD = 16 * 1024;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] CRLF_LAST_CHUNK = {'\r', '\n', '0', '\r', '\n', '\r', '\n'};
  private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};

  /**
   * {@code payload} (owned by the result) as one HTTP/1.1 chunk, followed by the last chunk when
   * {@code last}: one buffer, so one write. An empty payload is no chunk (it would end the body).
   */
  static ByteBuf chunk(ByteBufAllocator alloc, ByteBuf payload, boolean last) {
    int n = payload.readableBytes();
    if (n == 0) {
      payload.release();
      return last ? alloc.ioBuffer(LAST_CHUNK.length).writeBytes(LAST_CHUNK) : Unpooled.EMPTY_BUFFER;
    }
    byte[] tail = last ? CRLF_LAST_CHUNK : CRLF;
    if (n <= COPY_THRESHOLD) {
      // An SSE read is a few hundred bytes: one buffer holding framing and payload is cheaper to
      // make and to write than a composite of three.
      ByteBuf chunk = alloc.ioBuffer(10 + n + tail.length);
      writeSize(chunk, n);
      // getBytes, not writeBytes: a composite payload (the slices of one read) is copied part by
      // part, where writeBytes would first merge it into a new heap buffer (the profile's largest
      // allocation before, docs/performance.md).
      payload.getBytes(payload.readerIndex(), chunk, chunk.writerIndex(), n);
      chunk.writerIndex(chunk.writerIndex() + n).writeBytes(tail);
      payload.release();
      return chunk;
    }
    // Every part direct: one heap part would make the epoll transport copy the whole composite
    // into a new direct buffer before writing it.
    ByteBuf size = alloc.ioBuffer(10);
    writeSize(size, n);
    CompositeByteBuf chunk = alloc.compositeDirectBuffer(3);
    chunk.addComponent(true, size);
    chunk.addComponent(true, payload);
    chunk.addComponent(true, alloc.ioBuffer(tail.length).writeBytes(tail));
    return chunk;
  }

  /** The chunk-size line: {@code n} in hex, CRLF. */
  private static void writeSize(ByteBuf out, int n) {
    for (int shift = (31 - Integer.numberOfLeadingZeros(n)) / 4 * 4; shift >= 0; shift -= 4) {
      out.writeByte(HEX[(n >>> shift) & 0xF]);
    }
    out.writeBytes(CRLF);
  }

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
