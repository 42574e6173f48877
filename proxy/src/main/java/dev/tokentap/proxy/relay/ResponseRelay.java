package dev.tokentap.proxy.relay;

import dev.tokentap.meter.StreamMeter;
import dev.tokentap.proxy.record.RequestRecord;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The response side of one {@link Exchange}: each part the upstream sends is fed to the meter, then
 * written to the client and flushed at once, less the usage event tokentap injected ({@link
 * UsageEventFilter}). Owns no connection: the exchange decides when the response has ended.
 */
final class ResponseRelay {
  private final RelayContext relay;
  private final ChannelHandlerContext client;
  private final RequestRecord record; // null for excluded paths: relayed, not metered
  private UsageEventFilter usageFilter;
  private boolean headSent;
  private boolean keepAlive;

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
    client.writeAndFlush(toClient, client.voidPromise());
  }

  /** Meters and relays one body part (released here); true when it ended the response. */
  boolean onContent(HttpContent content, long readNanos) {
    ByteBuf bytes = content.content();
    StreamMeter meter = record == null ? null : record.meterOrNull();
    if (meter != null) {
      meter.onBody(bytes, readNanos);
      record.responseBytes(bytes.readableBytes());
    }
    ByteBuf out = usageFilter != null ? usageFilter.filter(bytes.retain()) : bytes.retain();
    boolean last = content instanceof LastHttpContent;
    HttpContent relayed;
    if (last) {
      if (usageFilter != null) {
        out = Unpooled.wrappedBuffer(out, usageFilter.finish());
        usageFilter = null;
      }
      LastHttpContent tail = new DefaultLastHttpContent(out);
      tail.trailingHeaders().set(((LastHttpContent) content).trailingHeaders());
      relayed = tail;
    } else {
      relayed = new DefaultHttpContent(out);
    }
    content.release();
    client.writeAndFlush(relayed, client.voidPromise());
    relay.recorder.metrics().recordResponseOverhead(System.nanoTime() - readNanos);
    return last;
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
