package dev.tokentap.proxy.client;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * A part of a response body as it came off one socket read: {@link #content()} is the payload (the
 * chunk framing taken out, as slices of the read's buffer, for the meter), {@link #wire()} the same
 * bytes as the upstream framed them (what a relay that changes nothing forwards). For a body with a
 * Content-Length, or one that ends at close, the two are the same buffer.
 *
 * <p>One reference count covers both: {@link #release()} releases the payload and the wire bytes.
 * A consumer that keeps the wire bytes past the release retains them.
 */
public class WireContent extends DefaultHttpContent {
  private final ByteBuf wire;
  private final boolean wholeChunks;

  WireContent(ByteBuf payload, ByteBuf wire, boolean wholeChunks) {
    super(payload);
    this.wire = wire;
    this.wholeChunks = wholeChunks;
  }

  /** The part's bytes exactly as they were read, framing included. */
  public ByteBuf wire() {
    return wire;
  }

  /**
   * Whether the wire bytes are whole chunks of a chunked body: they start and end between two
   * chunks (or at the body's end), so they can be sent to a chunked client as they are, between
   * chunks framed by someone else.
   */
  public boolean wholeChunks() {
    return wholeChunks;
  }

  private boolean separate() {
    return wire != content();
  }

  @Override
  public HttpContent retain() {
    retain(1);
    return this;
  }

  @Override
  public HttpContent retain(int increment) {
    super.retain(increment);
    if (separate()) {
      wire.retain(increment);
    }
    return this;
  }

  @Override
  public boolean release() {
    return release(1);
  }

  @Override
  public boolean release(int decrement) {
    if (separate()) {
      wire.release(decrement);
    }
    return super.release(decrement);
  }

  @Override
  public HttpContent touch() {
    return touch(null);
  }

  @Override
  public HttpContent touch(Object hint) {
    super.touch(hint);
    if (separate()) {
      wire.touch(hint);
    }
    return this;
  }

  /** The part that ends the message (its trailer section, if any, is in the wire bytes). */
  public static final class Last extends WireContent implements LastHttpContent {
    Last(ByteBuf payload, ByteBuf wire, boolean wholeChunks) {
      super(payload, wire, wholeChunks);
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
