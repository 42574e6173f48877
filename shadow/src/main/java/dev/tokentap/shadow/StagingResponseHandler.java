package dev.tokentap.shadow;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of a staging connection: hands each response part to the {@link StagingExchange} the
 * connection serves; between copies (idle in the pool) anything that arrives breaks the connection.
 */
final class StagingResponseHandler extends ChannelInboundHandlerAdapter {
  private StagingExchange exchange;

  static StagingResponseHandler of(Channel ch) {
    return ch.pipeline().get(StagingResponseHandler.class);
  }

  void bind(StagingExchange e) {
    exchange = e;
  }

  void unbind() {
    exchange = null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    StagingExchange e = exchange;
    if (e == null) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      exchange = null;
      e.onBroken(o.decoderResult().cause());
      ctx.close();
      return;
    }
    long now = System.nanoTime();
    if (msg instanceof HttpResponse response) {
      e.onResponseHead(response, now);
    }
    if (msg instanceof HttpContent content) {
      e.onResponseContent(content, now); // releases it
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    StagingExchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onBroken(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    StagingExchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onBroken(cause);
    }
    ctx.close();
  }
}
