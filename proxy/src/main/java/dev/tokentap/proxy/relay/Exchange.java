package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.client.PeerFaults;
import dev.tokentap.proxy.client.ResponseListener;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.Role;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response, relayed between a client connection and an upstream connection,
 * with the {@link RequestRecord} that times it: its lifecycle, timeouts and endings. The request
 * side is {@link RequestRelay}, the upstream connection {@link UpstreamLeg}, the response side
 * {@link ResponseRelay}. Everything runs on the client's event loop (the upstream connection comes
 * from that loop's pool), so there is no locking.
 *
 * <pre>
 *  client ─ request head/body ─▶ RequestRelay [inspect, inject usage, taps] ─▶ UpstreamLeg ─▶ upstream
 *  client ◀─ head, each read flushed at once ◀─ ResponseRelay [meter, usage filter] ◀─ upstream
 *
 *  backpressure: client not writable ─▶ upstream autoRead off; writable again ─▶ on
 *                upstream not writable ─▶ client autoRead off (request uploads)
 * </pre>
 *
 * <p>It ends exactly once, in {@link #end} or {@link #respondItself}: the response completed, either
 * side broke, a timeout fired, or tokentap answered itself. A client abort closes the upstream
 * connection (so the server stops generating) instead of returning it to the pool.
 */
final class Exchange implements ResponseListener {
  private final RelayContext relay;
  private final ClientConnectionHandler connection;
  private final ChannelHandlerContext client;
  private final HttpRequest request;
  private final RequestRecord record; // null for excluded paths: relayed, not recorded
  private final boolean clientKeepAlive;
  private final UpstreamLeg upstream;
  private final RequestRelay requestSide;
  private final ResponseRelay responseSide;

  private boolean requestComplete;
  private ScheduledFuture<?> headTimeout;
  private ScheduledFuture<?> idleTimeout;
  private long lastUpstreamReadNanos;
  private boolean upstreamReusable;
  private boolean ended;

  Exchange(RelayContext relay, ClientConnectionHandler connection, ChannelHandlerContext client, HttpRequest request, long startNanos) {
    this.relay = relay;
    this.connection = connection;
    this.client = client;
    this.request = request;
    String path = RouteResolver.pathOf(request.uri());
    RouteResolver.Resolution resolution = relay.routes.resolve(path);
    this.record = relay.routes.excluded(path) ? null : relay.recorder.start(Role.PRIMARY, relay.settings.proxy().targetName(), startNanos);
    this.clientKeepAlive = HttpUtil.isKeepAlive(request);
    if (record != null) {
      record.describe(request.method().name(), resolution.route(), resolution.api(), resolution.pathModel());
      if (relay.tenants.enabled()) {
        record.tenant(relay.tenants.of(request, path));
      }
    }
    this.upstream = new UpstreamLeg(relay, this, client.channel());
    this.requestSide = new RequestRelay(relay, client, request, resolution, record, upstream);
    this.responseSide = new ResponseRelay(relay, client, record);
  }

  boolean requestComplete() {
    return requestComplete;
  }

  boolean ended() {
    return ended;
  }

  // ---------------------------------------------------------------- request side

  void onRequestHead() {
    requestSide.onHead();
  }

  void onRequestContent(HttpContent content, long readNanos) {
    long bytes = requestSide.count(content);
    boolean last = content instanceof LastHttpContent;
    if (!ended && bytes > relay.settings.proxy().maxRequestBody()) {
      content.release();
      // A chunked body grew past max-request-body: whatever was relayed of it is cut with the upstream connection.
      failRequest(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Outcome.REJECTED, "invalid_request_error",
          "tokentap: request body exceeds tokentap.proxy.max-request-body (" + relay.settings.proxy().maxRequestBody() + " bytes)");
      return;
    }
    if (ended) {
      content.release();
    } else {
      requestSide.onContent(content);
    }
    if (last) {
      requestComplete = true;
      requestSide.onLast(readNanos, !ended);
    }
  }

  /** The request body was malformed (a bad chunk): 400, and whatever was relayed of it is cut. */
  void onRequestMalformed(Throwable cause) {
    failRequest(HttpResponseStatus.BAD_REQUEST, Outcome.REJECTED, "invalid_request_error",
        "tokentap: malformed request body: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
  }

  /**
   * No request body byte came for {@code limit} while it was being read (tokentap.proxy.request-body-timeout):
   * the upstream request is cancelled (its connection closed), the client gets 408 if no response
   * has started (else its response is cut), and the request is a {@code client_abort}: the client
   * stalled, no server failed (docs/reliability.md, "Slow and vanishing clients").
   */
  void onRequestBodyTimeout(Duration limit) {
    failRequest(HttpResponseStatus.REQUEST_TIMEOUT, Outcome.CLIENT_ABORT, "request_timeout",
        "tokentap: no request body bytes for " + limit.toMillis() + " ms (tokentap.proxy.request-body-timeout)");
  }

  /** The request cannot go on: answered here, or the response already under way is cut. */
  private void failRequest(HttpResponseStatus status, Outcome outcome, String type, String message) {
    if (ended) {
      return;
    }
    upstreamReusable = false;
    if (responseSide.headSent()) {
      end(outcome, System.nanoTime(), false);
    } else {
      respondItself(status, outcome, type, message);
    }
  }

  /** The request's last byte was written upstream: the upstream now has the response-head timeout to answer. */
  void onRequestSent() {
    if (ended) {
      return;
    }
    if (record != null) {
      record.requestSent(System.nanoTime());
    }
    if (!responseSide.headSent() && headTimeout == null) {
      long timeout = relay.settings.upstream().responseHeadTimeout().toNanos();
      headTimeout = client.channel().eventLoop().schedule(this::onHeadTimeout, timeout, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void onWritabilityChanged(boolean writable) {
    if (!ended && !requestComplete) {
      client.channel().config().setAutoRead(writable);
    }
  }

  // ---------------------------------------------------------------- response side

  @Override
  public void onResponseHead(HttpResponse response, long readNanos) {
    if (ended) {
      return;
    }
    upstream.forgetReplay(); // the upstream answered: it has acted on the request
    if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
      return; // 1xx interim responses (other than the 100 handled locally) are not part of this relay
    }
    cancel(headTimeout);
    lastUpstreamReadNanos = readNanos;
    upstreamReusable = HttpUtil.isKeepAlive(response);
    responseSide.onHead(request, response, readNanos, requestSide.usageInjected(), clientKeepAlive && !relay.draining());
    scheduleIdleTimeout(relay.settings.upstream().idleTimeout().toNanos());
  }

  @Override
  public void onResponseContent(HttpContent content, long readNanos) {
    if (ended || !responseSide.headSent()) {
      content.release();
      return;
    }
    lastUpstreamReadNanos = readNanos;
    if (responseSide.onContent(content, readNanos)) {
      upstreamReusable &= requestComplete;
      end(null, System.nanoTime(), false);
    } else if (!client.channel().isWritable()) {
      upstream.setAutoRead(false);
    }
  }

  void clientWritabilityChanged(boolean writable) {
    if (upstream.connected() && !ended) {
      upstream.setAutoRead(writable);
      if (writable) {
        lastUpstreamReadNanos = System.nanoTime(); // the upstream's silence is timed from when we listen again
      }
    }
  }

  // ---------------------------------------------------------------- endings

  /** The upstream connection closed or failed before this exchange ended. */
  @Override
  public void onConnectionBroken(Throwable cause) {
    if (ended) {
      return;
    }
    upstreamReusable = false;
    if (upstream.mayResend(cause, requestComplete, responseSide.headSent())) {
      cancel(headTimeout);
      headTimeout = null;
      upstream.resend();
    } else if (!responseSide.headSent()) {
      respondItself(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ABORT, "upstream_closed",
          "tokentap: upstream " + relay.settings.proxy().upstream() + " closed the connection before responding"
              + (cause == null ? "" : ": " + UpstreamLeg.describe(cause)));
    } else {
      // Break the client's stream the way the server broke ours: no terminating chunk, no fake [DONE];
      // a reset is passed on as a reset, a plain close as a plain close.
      end(Outcome.UPSTREAM_ABORT, System.nanoTime(), PeerFaults.connectionLost(cause));
    }
  }

  /** The client connection closed while this exchange was in flight. */
  void onClientClosed() {
    if (ended) {
      return;
    }
    upstreamReusable = false;
    end(Outcome.CLIENT_ABORT, System.nanoTime(), false);
  }

  private void onHeadTimeout() {
    if (!ended && !responseSide.headSent()) {
      upstreamReusable = false;
      respondItself(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.TIMEOUT, "upstream_timeout",
          "tokentap: upstream sent no response head within " + relay.settings.upstream().responseHeadTimeout().toMillis() + " ms");
    }
  }

  private void scheduleIdleTimeout(long delayNanos) {
    idleTimeout = client.channel().eventLoop().schedule(this::onIdleCheck, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onIdleCheck() {
    if (ended) {
      return;
    }
    long limit = relay.settings.upstream().idleTimeout().toNanos();
    if (!upstream.reading()) {
      // We stopped reading for a slow client (backpressure): the upstream is not the one idle.
      scheduleIdleTimeout(limit);
      return;
    }
    long silent = System.nanoTime() - lastUpstreamReadNanos;
    if (silent < limit) {
      scheduleIdleTimeout(limit - silent);
    } else {
      upstreamReusable = false;
      end(Outcome.TIMEOUT, System.nanoTime(), false);
    }
  }

  /** Tokentap answers the client itself: there is no upstream response to relay. */
  void respondItself(HttpResponseStatus status, Outcome outcome, String type, String message) {
    if (ended) {
      return;
    }
    ended = true;
    long now = System.nanoTime();
    boolean clientOpen = client.channel().isActive();
    if (record != null) {
      record.finishWithoutResponse(outcome, clientOpen ? status.code() : 0, now);
    }
    releaseAll();
    // Any unread request body would be taken for the next request: close unless it was read whole.
    boolean keepAlive = clientKeepAlive && requestComplete;
    if (clientOpen) {
      var response = ErrorResponses.of(client.alloc(), status, type, message);
      if (!keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      client.writeAndFlush(response, client.voidPromise());
    }
    connection.exchangeEnded(this, keepAlive);
  }

  /** The one place a relayed exchange ends: {@code broken == null} when the response completed. */
  private void end(Outcome broken, long nanos, boolean resetClient) {
    if (ended) {
      return;
    }
    ended = true;
    if (record != null) {
      record.finish(broken, nanos);
    }
    releaseAll();
    if (broken != null && client.channel().isActive()) {
      // A response already under way cannot be turned into an error: cut it.
      if (resetClient) {
        client.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      }
      client.close();
    }
    connection.exchangeEnded(this, broken == null && responseSide.keepAlive());
  }

  private void releaseAll() {
    cancel(headTimeout);
    cancel(idleTimeout);
    responseSide.discard();
    requestSide.release();
    upstream.finish(upstreamReusable);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
