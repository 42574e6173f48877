package dev.tokentap.proxy.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of an upstream connection: hands each decoded response part to the {@link Exchange}
 * the connection currently serves. Between exchanges (idle in the pool) nothing should arrive; if
 * something does the connection is broken and is closed.
 *
 * <pre>
 *   upstream socket → ReadClock → HttpClientCodec → UpstreamResponseHandler → Exchange → client
 * </pre>
 */
final class UpstreamResponseHandler extends ChannelInboundHandlerAdapter {
  static final AttributeKey<Long> LAST_USED = AttributeKey.valueOf("tokentap.lastUsed");

  private Exchange exchange;
  private ReadClock clock;

  static UpstreamResponseHandler of(io.netty.channel.Channel ch) {
    return ch.pipeline().get(UpstreamResponseHandler.class);
  }

  void bind(Exchange e) {
    this.exchange = e;
  }

  void unbind() {
    this.exchange = null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    clock = ctx.pipeline().get(ReadClock.class);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Exchange e = exchange;
    if (e == null) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    if (msg instanceof io.netty.handler.codec.http.HttpObject o && o.decoderResult().isFailure()) {
      // Not a response we can relay (malformed, or the connection closed inside the head).
      ReferenceCountUtil.release(msg);
      exchange = null;
      e.onUpstreamClosed(o.decoderResult().cause());
      ctx.close();
      return;
    }
    long readNanos = clock.lastReadNanos();
    if (msg instanceof HttpResponse response) {
      e.onResponseHead(response, readNanos);
    }
    if (msg instanceof HttpContent content) {
      e.onResponseContent(content, readNanos);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.upstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(cause);
    }
    ctx.close();
  }
}
