package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client-side timeouts of one connection (docs/reliability.md, "Limits"), chosen by what the
 * connection is doing:
 *
 * <pre>
 *   no request in progress, no byte yet  keep-alive-timeout from the end of the last response
 *                                        (written to the socket) or from the accept; then closed
 *   a request head arriving              request-head-timeout from its first byte; then 408 and close
 *   a request body arriving              request-body-timeout of silence, timed only while tokentap
 *                                        reads (not while it holds the client back) and once every
 *                                        request before it is answered (pipelining); then the relay
 *                                        answers 408 or cuts the exchange, and closes
 *   a request read, its answer owed      none: the upstream's timeouts govern, so a stream of any
 *                                        length is never cut here
 * </pre>
 *
 * <p>Sits right after the HTTP codec: it sees the decoded request parts, the responses written, and
 * every socket read as a {@code channelReadComplete} (the decoder passes one on for each read,
 * whether or not it made a message of it). Bytes read during a TLS handshake are no request head:
 * the handshake has its own timeout in {@link SslHandler}.
 *
 * <p>One check is scheduled on the channel's event loop at the earliest deadline; when it runs it
 * looks at the state then, so reads move no timer. A connection closed here is counted in
 * {@code tokentap_client_connections_closed_total{reason}}; closed mid-head or idle, it was never
 * a request and nothing records it.
 */
final class ClientTimeouts extends ChannelDuplexHandler {
  /** Fired inbound when a request body stalls: the relay ends the request (408 or a cut) and closes. */
  enum BodyStalled { INSTANCE }

  private enum Phase {
    IDLE("idle_timeout"),
    HEAD("head_timeout"),
    BODY("body_timeout");

    final String reason;

    Phase(String reason) {
      this.reason = reason;
    }
  }

  private final long headNanos;
  private final long idleNanos;
  private final long bodyNanos;
  private final TokentapMetrics metrics;
  private ChannelHandlerContext ctx;
  private Future<?> handshake; // null without TLS
  /** Request heads decoded whose final response has not been written yet. */
  private int unanswered;
  /** A request head was decoded and its body is not read to the end yet. */
  private boolean inBody;
  private long idleSince;
  /** The first read of the next request head, while no request is in progress; -1: none yet. */
  private long headStart = -1;
  private long lastRead;
  /** When the body arriving became the only request owed an answer: its silence counts from here at the earliest. */
  private long bodySince;
  /** The last time the channel was asked to read: reading resumes after tokentap held it. */
  private long readRequested;
  private ScheduledFuture<?> check;
  private long checkAt;
  private boolean expired;

  ClientTimeouts(Settings.ClientLimits limits, TokentapMetrics metrics) {
    this.headNanos = limits.requestHeadTimeout().toNanos();
    this.idleNanos = limits.keepAliveTimeout().toNanos();
    this.bodyNanos = limits.requestBodyTimeout().toNanos();
    this.metrics = metrics;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    handshake = tls == null ? null : tls.handshakeFuture();
    idleSince = now();
    lastRead = idleSince;
    readRequested = idleSince;
    rearm();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request) {
      unanswered++;
      headStart = -1;
      // A head the decoder failed is answered 400 and the connection closed: no body follows.
      inBody = !request.decoderResult().isFailure();
    }
    if (msg instanceof LastHttpContent || msg instanceof HttpContent c && c.decoderResult().isFailure()) {
      inBody = false;
      if (unanswered == 0) {
        idleSince = now(); // answered before its body ended (an early response): idle from here
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    long now = now();
    lastRead = now;
    if (unanswered == 0 && !inBody && headStart < 0 && (handshake == null || handshake.isDone())) {
      headStart = now; // the first bytes of a next request
    }
    rearm();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    readRequested = now();
    ctx.read();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof LastHttpContent && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
      // The end of a final response (not a 100 Continue): idle from when it has left for the socket.
      ChannelPromise p = promise.unvoid();
      p.addListener(f -> responseWritten());
      ctx.write(msg, p);
      return;
    }
    ctx.write(msg, promise);
  }

  private void responseWritten() {
    if (unanswered > 0) {
      unanswered--;
    }
    if (inBody) {
      bodySince = now(); // a pipelined body waited for this answer: its silence counts from now
    } else if (unanswered == 0) {
      idleSince = now();
      headStart = -1;
    }
    rearm();
  }

  /** What the connection is waiting for from the client; null while a response is owed to it. */
  private Phase phase() {
    if (inBody) {
      // A body behind a request still being answered waits on tokentap, not the other way round.
      return unanswered <= 1 ? Phase.BODY : null;
    }
    if (unanswered > 0) {
      return null;
    }
    return headStart >= 0 ? Phase.HEAD : Phase.IDLE;
  }

  private long deadline(Phase phase) {
    return switch (phase) {
      case IDLE -> idleSince + idleNanos;
      case HEAD -> headStart + headNanos;
      case BODY -> Math.max(Math.max(lastRead, readRequested), bodySince) + bodyNanos;
    };
  }

  private long timeout(Phase phase) {
    return switch (phase) {
      case IDLE -> idleNanos;
      case HEAD -> headNanos;
      case BODY -> bodyNanos;
    };
  }

  /** Makes sure a check runs by the current deadline; a later one already scheduled is moved up. */
  private void rearm() {
    Phase phase = phase();
    if (phase == null || expired || ctx == null || !ctx.channel().isActive()) {
      return; // a check already scheduled finds nothing to do
    }
    long at = deadline(phase);
    if (check != null) {
      if (checkAt <= at) {
        return;
      }
      check.cancel(false);
    }
    schedule(at);
  }

  private void schedule(long at) {
    checkAt = at;
    check = ctx.executor().schedule(this::onCheck, Math.max(0, at - now()), TimeUnit.NANOSECONDS);
  }

  private void onCheck() {
    check = null;
    Phase phase = phase();
    if (phase == null || expired || !ctx.channel().isActive()) {
      return;
    }
    long now = now();
    if (!ctx.channel().config().isAutoRead()) {
      // Tokentap holds the client back (a slow upstream, a request waiting its turn): its silence
      // is not the client's. Looked at again later; reading again restarts the body's clock.
      schedule(now + timeout(phase));
      return;
    }
    long at = deadline(phase);
    if (now < at) {
      schedule(at);
      return;
    }
    expire(phase);
  }

  private void expire(Phase phase) {
    expired = true;
    metrics.clientConnectionsClosed(phase.reason).increment();
    switch (phase) {
      case IDLE -> ctx.close(); // RFC 9112 §9.8: a client expects an idle connection to close
      case HEAD -> {
        var response = ErrorResponses.of(ctx.alloc(), HttpResponseStatus.REQUEST_TIMEOUT, "request_timeout",
            "tokentap: request head not complete within " + TimeUnit.NANOSECONDS.toMillis(headNanos)
                + " ms (tokentap.proxy.request-head-timeout)");
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
      case BODY -> ctx.fireUserEventTriggered(BodyStalled.INSTANCE);
    }
  }

  private void cancel() {
    if (check != null) {
      check.cancel(false);
      check = null;
    }
  }

  private long now() {
    return ctx.executor().ticker().nanoTime();
  }
}
