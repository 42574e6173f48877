package dev.tokentap.proxy.client;

import dev.tokentap.meter.StreamMeter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AbstractReferenceCounted;

/**
 * A part of a response body as it came off one socket read: {@link #wire()} holds the bytes as the
 * upstream framed them (what a relay that changes nothing forwards), and the payload is where in
 * them the body's own bytes lie (the chunk framing left out). For a body with a Content-Length, or
 * one that ends at close, the payload is the wire bytes.
 *
 * <p>The meter reads the payload where it lies ({@link #meter}); a buffer of it ({@link #content()},
 * slices of the wire bytes) is made only for a caller that asks, such as a usage filter framing a
 * read anew. A read of several chunks thus costs one part and one small array, not a composite
 * buffer and a slice per chunk.
 *
 * <p>The part has a reference count of its own, and holds one reference to the wire bytes and one to
 * the payload buffer once made: its last {@link #release()} releases both. A consumer that keeps
 * either past that retains it.
 */
public class WireContent extends AbstractReferenceCounted implements HttpContent {
  private final ByteBuf wire;
  /** Offset and length of each payload range in {@link #wire}; null where the payload is the wire bytes. */
  private final int[] ranges;
  private final int payloadLength;
  private final boolean wholeChunks;
  private ByteBuf payload;
  private DecoderResult decoderResult = DecoderResult.SUCCESS;

  /** @param ranges offset and length pairs of the payload in {@code wire}, or null for all of it */
  WireContent(ByteBuf wire, int[] ranges, boolean wholeChunks) {
    this.wire = wire;
    this.ranges = ranges;
    this.wholeChunks = wholeChunks;
    int length = 0;
    if (ranges == null) {
      length = wire.readableBytes();
    } else {
      for (int i = 1; i < ranges.length; i += 2) {
        length += ranges[i];
      }
    }
    this.payloadLength = length;
  }

  /** The part's bytes exactly as they were read, framing included. */
  public ByteBuf wire() {
    return wire;
  }

  /** Bytes of payload in the part. */
  public int payloadLength() {
    return payloadLength;
  }

  /**
   * Whether the wire bytes are whole chunks of a chunked body: they start and end between two
   * chunks (or at the body's end), so they can be sent to a chunked client as they are, between
   * chunks framed by someone else.
   */
  public boolean wholeChunks() {
    return wholeChunks;
  }

  /**
   * Feeds a body part's payload to {@code meter}, read where it lies (a {@code WireContent}'s
   * ranges of its wire bytes; any other part's content); returns the payload's length.
   */
  public static int meter(HttpContent part, StreamMeter meter, long nanos) {
    if (!(part instanceof WireContent w)) {
      ByteBuf content = part.content();
      int n = content.readableBytes();
      meter.onBody(content, nanos);
      return n;
    }
    if (w.ranges == null) {
      meter.onBody(w.wire, 0, w.payloadLength, nanos);
    } else {
      for (int i = 0; i < w.ranges.length; i += 2) {
        meter.onBody(w.wire, w.ranges[i], w.ranges[i + 1], nanos);
      }
    }
    return w.payloadLength;
  }

  /** The payload as a buffer, made on the first call (slices of the wire bytes, nothing copied). */
  @Override
  public ByteBuf content() {
    if (ranges == null) {
      return wire;
    }
    if (payload == null) {
      payload = slices();
    }
    return payload;
  }

  private ByteBuf slices() {
    int count = ranges.length / 2;
    if (count == 0) {
      return Unpooled.EMPTY_BUFFER;
    }
    // Offsets count from the wire bytes' start, whatever a write to the client has read of them since.
    if (count == 1) {
      return wire.retainedSlice(ranges[0], ranges[1]);
    }
    CompositeByteBuf composite = wire.alloc().compositeBuffer(count);
    for (int i = 0; i < ranges.length; i += 2) {
      composite.addComponent(true, wire.retainedSlice(ranges[i], ranges[i + 1]));
    }
    return composite;
  }

  @Override
  protected void deallocate() {
    if (payload != null) {
      payload.release();
    }
    wire.release();
  }

  @Override
  public HttpContent retain() {
    super.retain();
    return this;
  }

  @Override
  public HttpContent retain(int increment) {
    super.retain(increment);
    return this;
  }

  @Override
  public HttpContent touch() {
    super.touch();
    return this;
  }

  @Override
  public HttpContent touch(Object hint) {
    wire.touch(hint);
    if (payload != null) {
      payload.touch(hint);
    }
    return this;
  }

  @Override
  public HttpContent copy() {
    return replace(content().copy());
  }

  @Override
  public HttpContent duplicate() {
    return replace(content().duplicate());
  }

  @Override
  public HttpContent retainedDuplicate() {
    return replace(content().retainedDuplicate());
  }

  @Override
  public HttpContent replace(ByteBuf content) {
    return new DefaultHttpContent(content);
  }

  @Override
  public DecoderResult decoderResult() {
    return decoderResult;
  }

  @Override
  @Deprecated
  public DecoderResult getDecoderResult() {
    return decoderResult;
  }

  @Override
  public void setDecoderResult(DecoderResult result) {
    this.decoderResult = result;
  }

  @Override
  public String toString() {
    return "WireContent(" + wire.readableBytes() + " bytes on the wire, " + payloadLength + " of payload)";
  }

  /** The part that ends the message (its trailer section, if any, is in the wire bytes). */
  public static final class Last extends WireContent implements LastHttpContent {
    Last(ByteBuf wire, int[] ranges, boolean wholeChunks) {
      super(wire, ranges, wholeChunks);
    }

    @Override
    public HttpHeaders trailingHeaders() {
      return EmptyHttpHeaders.INSTANCE;
    }

    @Override
    public Last retain() {
      super.retain();
      return this;
    }

    @Override
    public Last retain(int increment) {
      super.retain(increment);
      return this;
    }

    @Override
    public Last touch() {
      super.touch();
      return this;
    }

    @Override
    public Last touch(Object hint) {
      super.touch(hint);
      return this;
    }

    @Override
    public LastHttpContent copy() {
      return replace(content().copy());
    }

    @Override
    public LastHttpContent duplicate() {
      return replace(content().duplicate());
    }

    @Override
    public LastHttpContent retainedDuplicate() {
      return replace(content().retainedDuplicate());
    }

    @Override
    public LastHttpContent replace(ByteBuf content) {
      return new DefaultLastHttpContent(content);
    }
  }
}
