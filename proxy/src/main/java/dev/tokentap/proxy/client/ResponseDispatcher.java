package dev.tokentap.proxy.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of every upstream connection ({@link ConnectionPool}): hands each decoded response
 * part to the {@link ResponseListener} bound to the connection, stamped with the read that carried
 * it. Between exchanges (idle in the pool) nothing should arrive; if something does, the connection
 * is out of step with its requests and is closed.
 *
 * <pre>
 *   upstream socket → [tls] → ReadClock → UpstreamHttpCodec → ResponseDispatcher → listener
 * </pre>
 */
public final class ResponseDispatcher extends ChannelInboundHandlerAdapter {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ResponseDispatcher.class);
  private ResponseListener listener;
  private ReadClock clock;

  /** The dispatcher of a connection the pool made. */
  public static ResponseDispatcher of(Channel ch) {
    return ch.pipeline().get(ResponseDispatcher.class);
  }

  /** From now on the connection's response goes to {@code l}. */
  public void bind(ResponseListener l) {
    this.listener = l;
  }

  /** The exchange has ended; whatever arrives before the next bind breaks the connection. */
  public void unbind() {
    this.listener = null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    clock = ctx.pipeline().get(ReadClock.class);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ResponseListener l = listener;
    if (l == null) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      // Not a response (malformed, or the connection closed inside the head).
      ReferenceCountUtil.release(msg);
      listener = null;
      l.onConnectionBroken(o.decoderResult().cause());
      ctx.close();
      return;
    }
    long readNanos = clock.lastReadNanos();
    if (msg instanceof HttpResponse head) {
      l.onResponseHead(head, readNanos);
    }
    if (msg instanceof HttpContent content) {
      l.onResponseContent(content, readNanos);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (listener != null) {
      listener.onWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ResponseListener l = listener;
    listener = null;
    if (l != null) {
      l.onConnectionBroken(null);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (PeerFaults.unexpected(cause)) {
      // Not the upstream failing: a fault in tokentap's handling of its response, logged, never silent.
      LOG.warn("closing an upstream connection after an unexpected error", cause);
    }
    ResponseListener l = listener;
    listener = null;
    if (l != null) {
      l.onConnectionBroken(cause);
    }
    ctx.close();
  }
}
