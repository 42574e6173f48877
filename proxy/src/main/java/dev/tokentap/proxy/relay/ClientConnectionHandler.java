package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.client.PeerFaults;
import dev.tokentap.proxy.client.ReadClock;
import dev.tokentap.proxy.record.Role;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The client side of one proxy connection: checks each request head, starts an {@link Exchange} for
 * it and feeds it the request parts. HTTP/1.1 keep-alive reuses the connection; a pipelined request
 * waits (reads paused) until the exchange before it has ended, so responses leave in request order.
 *
 * <p>Tokentap answers itself, records the request as {@code rejected}, relays nothing and closes the
 * connection (the body that may follow cannot be told from a next request) when the head is
 * malformed (400, 414, 431) or fails {@link RequestHeadCheck} (request line, target, Host: 400, 405,
 * 501, 505), declares a body over {@code max-request-body} (413, before any 100
 * Continue), uses a transfer coding other than chunked (501, RFC 9112 §6.1) or an expectation other
 * than 100-continue (417). {@code Expect: 100-continue} is answered here, and not sent upstream.
 */
final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClientConnectionHandler.class);
  private final RelayContext relay;
  private ReadClock clock;
  private ChannelHandlerContext ctx;
  private Exchange current;
  private final ArrayDeque<Object> pipelined = new ArrayDeque<>(2); // one per open connection: small, it grows if ever needed
  /** A request was refused and the connection is closing: whatever else arrives is dropped. */
  private boolean rejected;

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
    if (rejected) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!ctx.channel().isActive() && msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      // The decoder's word on bytes the client left unfinished when it closed (or was closed by a
      // client timeout): an incomplete head was never a request (docs/reliability.md), and a
      // request cut mid-body ends as a client abort when channelInactive follows.
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        rejectMalformed(request.decoderResult().cause());
        return;
      }
      if (!acceptHead(request)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      current = new Exchange(relay, this, ctx, request, clock.requestStart(System.nanoTime()));
      current.onRequestHead();
    }
    if (msg instanceof HttpContent content) {
      if (current == null) {
        content.release(); // the rest of a request whose exchange already ended
        if (content.decoderResult().isFailure()) {
          rejected = true;
          ctx.close(); // the decoder lost the framing: no next request can be found
        }
      } else if (content.decoderResult().isFailure()) {
        // A broken chunk (RFC 9112 §7.1): the body's end cannot be known, so none of it is relayed.
        content.release();
        Exchange e = current;
        rejected = true;
        releasePipelined();
        e.onRequestMalformed(content.decoderResult().cause());
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
    // The next request, head and body: its parts were queued behind the exchange that just ended.
    while (!pipelined.isEmpty() && (current == null || !current.requestComplete())) {
      dispatch(pipelined.poll());
    }
    if (pipelined.isEmpty()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  /** Checks what the head declares; false when the request was answered here and must go no further. */
  private boolean acceptHead(HttpRequest request) {
    RequestHeadCheck.Refusal refusal = RequestHeadCheck.check(request); // may rewrite the target to origin-form
    if (refusal != null) {
      reject(refusal.status(), refusal.message(), refusal.http2Preface());
      return false;
    }
    String codings = request.headers().get(HttpHeaderNames.TRANSFER_ENCODING);
    if (codings != null && !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(codings.trim())) {
      // The decoder checked chunked is last; any coding before it would reach the upstream undone.
      reject(HttpResponseStatus.NOT_IMPLEMENTED, "tokentap: transfer coding not supported: " + codings);
      return false;
    }
    long declared = HttpUtil.getContentLength(request, -1L);
    long limit = relay.settings.proxy().maxRequestBody();
    if (declared > limit) {
      reject(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "tokentap: request body of " + declared + " bytes exceeds tokentap.proxy.max-request-body (" + limit + " bytes)");
      return false;
    }
    String expect = request.headers().get(HttpHeaderNames.EXPECT);
    if (expect != null && request.protocolVersion().compareTo(HttpVersion.HTTP_1_1) >= 0
        && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
      reject(HttpResponseStatus.EXPECTATION_FAILED, "tokentap: unsupported expectation: " + expect);
      return false;
    }
    if (HttpUtil.is100ContinueExpected(request)) {
      // Answered here so the upload starts at once; the upstream sees a plain request.
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER), ctx.voidPromise());
      request.headers().remove(HttpHeaderNames.EXPECT);
    }
    return true;
  }

  private void rejectMalformed(Throwable cause) {
    HttpResponseStatus status =
        cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
            : HttpResponseStatus.BAD_REQUEST;
    String reason = cause instanceof TooLongFrameException || cause instanceof IllegalArgumentException && cause.getMessage() != null
        ? cause.getMessage() : String.valueOf(cause);
    reject(status, "tokentap: malformed request: " + reason);
  }

  /** Answers the request itself, records it rejected, and closes: the next request cannot be found. */
  private void reject(HttpResponseStatus status, String message) {
    reject(status, message, false);
  }

  /** {@code http2}: the HTTP/2 preface, answered with a GOAWAY (written past the HTTP/1 encoder). */
  private void reject(HttpResponseStatus status, String message, boolean http2) {
    long now = System.nanoTime();
    relay.recorder.start(Role.PRIMARY, relay.settings.proxy().targetName(), clock.requestStart(now))
        .finishWithoutResponse(Outcome.REJECTED, status.code(), now);
    if (http2) {
      ctx.pipeline().context(ClientHttpCodec.class).writeAndFlush(RequestHeadCheck.goAway(ctx.alloc(), message))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      var response = ErrorResponses.of(ctx.alloc(), status, "invalid_request_error", message);
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
        response.headers().set(HttpHeaderNames.ALLOW, RequestHeadCheck.ALLOWED_METHODS);
      }
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
    current = null;
    releasePipelined();
    rejected = true;
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
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt != ClientTimeouts.BodyStalled.INSTANCE) {
      ctx.fireUserEventTriggered(evt);
      return;
    }
    rejected = true; // nothing more is read from this connection
    releasePipelined();
    if (current != null && !current.requestComplete()) {
      current.onRequestBodyTimeout(relay.settings.proxy().clientLimits().requestBodyTimeout());
    } else {
      ctx.close(); // the rest of a body whose exchange already ended: no one is owed an answer
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Client resets and the like: the close that follows ends any exchange as a client abort.
    // Anything else is a fault in tokentap (a client sees its connection close without an
    // answer): logged, never silent.
    if (PeerFaults.unexpected(cause)) {
      LOG.warn("closing a client connection after an unexpected error", cause);
    }
    ctx.close();
  }

  private void releasePipelined() {
    Object msg;
    while ((msg = pipelined.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
