package dev.tokentap.proxy.relay;

import dev.tokentap.meter.StreamMeter;
import dev.tokentap.proxy.client.WireContent;
import dev.tokentap.proxy.record.RequestRecord;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The response side of one {@link Exchange}: each part the upstream sends (one per socket read) is
 * fed to the meter, then written to the client and flushed at once. Owns no connection: the
 * exchange decides when the response has ended.
 *
 * <p>How the body reaches the client, cheapest first ({@link Framing}): where the client can take it
 * exactly as the upstream framed it (the same chunking or the same Content-Length, nothing filtered
 * out), the upstream's bytes are forwarded as they came ({@link WireRelay}): nothing is decoded,
 * copied or encoded again. Where the usage event tokentap injected is filtered out ({@link
 * UsageEventFilter}), a read of whole upstream chunks with nothing to filter out is forwarded the
 * same way, and any other read's releasable payload goes out as one chunk of its own framing, in
 * one write. Only an HTTP/1.0 client, or a body that ends at the close, has its payload framed by
 * the encoder.
 */
final class ResponseRelay {
  private final RelayContext relay;
  private final ChannelHandlerContext client;
  private final RequestRecord record; // null for excluded paths: relayed, not metered
  private UsageEventFilter usageFilter;
  private boolean headSent;
  private boolean keepAlive;
  private Framing framing;

  /** How the body's bytes are framed for the client. */
  private enum Framing {
    /** The upstream's own bytes, framing included. */
    WIRE,
    /** Each write one chunk, framed here ({@link WireRelay#chunk}). */
    CHUNKS,
    /** {@code HttpContent} through the encoder: a close-delimited body. */
    ENCODER
  }

  ResponseRelay(RelayContext relay, ChannelHandlerContext client, RequestRecord record) {
    this.relay = relay;
    this.client = client;
    this.record = record;
  }

  /**
   * Meters and relays the response head (not an interim 1xx one).
   *
   * @param keepAliveToClient whether the client connection may stay open after this response
   */
  void onHead(HttpRequest request, HttpResponse response, long readNanos, boolean usageInjected, boolean keepAliveToClient) {
    StreamMeter meter = record == null ? null : record.meter(usageInjected);
    String contentType = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (meter != null) {
      meter.onResponseHead(response.status().code(), contentType, readNanos);
    }
    boolean eventStream = contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
    if (usageInjected && eventStream && meter != null) {
      usageFilter = new UsageEventFilter(meter, client.alloc());
    }
    HttpResponse toClient = RelayedHeads.toClient(request, response, keepAliveToClient, usageFilter != null);
    keepAlive = HttpUtil.isKeepAlive(toClient);
    headSent = true;
    framing = !mayHaveBody(request, response) ? Framing.ENCODER // the encoder knows what to blank
        : usageFilter == null && sameFraming(response, toClient) ? Framing.WIRE
        : HttpUtil.isTransferEncodingChunked(toClient) ? Framing.CHUNKS : Framing.ENCODER;
    client.writeAndFlush(framing == Framing.ENCODER ? toClient : new WireRelay.Head(toClient), client.voidPromise());
  }

  private static boolean mayHaveBody(HttpRequest request, HttpResponse response) {
    int status = response.status().code();
    return !request.method().equals(HttpMethod.HEAD) && status >= 200 && status != 204 && status != 205 && status != 304;
  }

  /** Whether the client's body framing is the upstream's, so its bytes can pass as they are. */
  private static boolean sameFraming(HttpResponse upstream, HttpResponse toClient) {
    if (HttpUtil.isTransferEncodingChunked(upstream)) {
      return HttpUtil.isTransferEncodingChunked(toClient);
    }
    long length = HttpUtil.getContentLength(upstream, -1L);
    return length >= 0 && length == HttpUtil.getContentLength(toClient, -1L);
  }

  /** Meters and relays one body part (released here); true when it ended the response. */
  boolean onContent(HttpContent content, long readNanos) {
    StreamMeter meter = record == null ? null : record.meterOrNull();
    if (meter != null) {
      record.responseBytes(WireContent.meter(content, meter, readNanos));
    }
    boolean last = content instanceof LastHttpContent;
    switch (framing) {
      case WIRE -> relayWire(content, last);
      case CHUNKS -> relayChunk(content, last);
      case ENCODER -> relayPayload(content, last);
    }
    relay.recorder.metrics().recordResponseOverhead(System.nanoTime() - readNanos);
    return last;
  }

  /** The upstream's bytes as they came: one write and one flush per read. */
  private void relayWire(HttpContent content, boolean last) {
    // Only a zero-length body arrives as something other than WireContent; its payload is its wire.
    ByteBuf bytes = content instanceof WireContent w ? w.wire() : content.content();
    if (bytes.isReadable()) {
      client.write(new WireRelay.Bytes(bytes.retain()), client.voidPromise());
    }
    content.release();
    if (last) {
      client.write(LastHttpContent.EMPTY_LAST_CONTENT, client.voidPromise());
    }
    client.flush();
  }

  /**
   * What is released of the payload (less the injected usage event) as one chunk: one write per
   * read. A read of whole upstream chunks holding whole events, none filtered out (all but the
   * stream's end, usually), goes out as the upstream framed it instead: no copy, no new framing.
   */
  private void relayChunk(HttpContent content, boolean last) {
    if (usageFilter != null && content instanceof WireContent w && w.wholeChunks()
        && usageFilter.passesWhole(w.payloadLength())) {
      if (last) {
        usageFilter = null;
      }
      relayWire(content, last);
      return;
    }
    ByteBuf out = payload(content, last);
    content.release();
    ByteBuf chunk = WireRelay.chunk(client.alloc(), out, last);
    if (chunk.isReadable()) {
      client.write(new WireRelay.Bytes(chunk), client.voidPromise());
    } else {
      chunk.release();
    }
    if (last) {
      client.write(LastHttpContent.EMPTY_LAST_CONTENT, client.voidPromise());
    }
    client.flush();
  }

  /** The payload, framed by the client's encoder (a body that ends at the close). */
  private void relayPayload(HttpContent content, boolean last) {
    ByteBuf out = payload(content, last);
    content.release();
    client.writeAndFlush(last ? new DefaultLastHttpContent(out) : new DefaultHttpContent(out), client.voidPromise());
  }

  /** The part's payload that may go to the client now (owned by the caller), less a filtered usage event. */
  private ByteBuf payload(HttpContent content, boolean last) {
    ByteBuf bytes = content.content();
    if (usageFilter == null) {
      return bytes.retain();
    }
    ByteBuf out = usageFilter.filter(bytes.retain());
    if (last) {
      out = Unpooled.wrappedBuffer(out, usageFilter.finish());
      usageFilter = null;
    }
    return out;
  }

  /** Whether the response head was written to the client (after it, tokentap cannot answer itself). */
  boolean headSent() {
    return headSent;
  }

  /** Whether the client connection stays open after this response (as its head said). */
  boolean keepAlive() {
    return keepAlive;
  }

  /** The response will not end cleanly: held bytes are dropped. */
  void discard() {
    if (usageFilter != null) {
      usageFilter.discard();
      usageFilter = null;
    }
  }
}
