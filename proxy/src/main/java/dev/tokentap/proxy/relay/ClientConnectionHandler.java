package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.Role;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The client side of one proxy connection: starts an {@link Exchange} for each request and feeds it
 * the request parts. HTTP/1.1 keep-alive reuses the connection; a pipelined request waits (reads
 * paused) until the exchange before it has ended, so responses leave in request order.
 */
final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {
  private final RelayContext relay;
  private ReadClock clock;
  private ChannelHandlerContext ctx;
  private Exchange current;
  private final ArrayDeque<Object> pipelined = new ArrayDeque<>();

  ClientConnectionHandler(RelayContext relay) {
    this.relay = relay;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.clock = ctx.pipeline().get(ReadClock.class);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (current != null && current.requestComplete() || !pipelined.isEmpty()) {
      pipelined.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    dispatch(msg);
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        rejectMalformed(request.decoderResult().cause());
        return;
      }
      current = new Exchange(relay, this, ctx, request, clock.firstReadSinceMark());
      current.onRequestHead();
    }
    if (msg instanceof HttpContent content) {
      if (current == null) {
        content.release(); // the rest of a request whose exchange already ended
      } else {
        current.onRequestContent(content, clock.lastReadNanos());
      }
    } else if (!(msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** At shutdown: a connection between requests is closed now; one in a request closes after it. */
  void closeIfIdle() {
    if (current == null && pipelined.isEmpty()) {
      ctx.close();
    }
  }

  /** Called by the exchange when it has ended; the connection goes on with the next request or closes. */
  void exchangeEnded(Exchange exchange, boolean keepAlive) {
    if (current != exchange) {
      return;
    }
    current = null;
    clock.mark();
    if (!keepAlive || relay.draining()) { // draining: a response begun before the shutdown still ends the connection
      releasePipelined();
      // Close once everything written so far has left (an empty buffer passes the HTTP encoder
      // untouched and completes after the writes before it), so a slow client still gets the end.
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    while (current == null && !pipelined.isEmpty()) {
      dispatch(pipelined.poll());
    }
    if (pipelined.isEmpty()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void rejectMalformed(Throwable cause) {
    HttpResponseStatus status =
        cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
            : HttpResponseStatus.BAD_REQUEST;
    long now = System.nanoTime();
    relay.recorder.start(Role.PRIMARY, relay.settings.proxy().targetName(), clock.firstReadSinceMark())
        .finishWithoutResponse(Outcome.REJECTED, status.code(), now);
    var response = ErrorResponses.of(ctx.alloc(), status, "invalid_request_error",
        "tokentap: malformed request: " + (cause instanceof TooLongFrameException ? cause.getMessage() : String.valueOf(cause)));
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    // The decoder cannot find the next request after a malformed one: answer, then close.
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    current = null;
    releasePipelined();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null) {
      current.clientWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePipelined();
    if (current != null) {
      Exchange e = current;
      current = null;
      e.onClientClosed();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Client resets and the like: the close that follows ends any exchange as a client abort.
    ctx.close();
  }

  private void releasePipelined() {
    Object msg;
    while ((msg = pipelined.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
