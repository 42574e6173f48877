package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.ResponseDispatcher;
import dev.tokentap.proxy.client.ResponseListener;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.RequestContent;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.tap.RequestTap;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response, relayed between a client connection and an upstream connection,
 * with the {@link RequestRecord} that times it. Everything runs on the client's event loop (the
 * upstream connection comes from that loop's pool), so there is no locking.
 *
 * <pre>
 *  client ─ request head/body ─▶ [inspect body, inject usage] ─▶ upstream (pooled connection)
 *  client ◀─ head, each read flushed at once ◀─ [meter, usage filter] ◀─ upstream
 *
 *  backpressure: client not writable ─▶ upstream autoRead off; writable again ─▶ on
 *                upstream not writable ─▶ client autoRead off (request uploads)
 * </pre>
 *
 * <p>A request the upstream cannot have acted on is sent once more on a new connection
 * ({@code upstream.retry-unanswered}): when a new connection fails before the request is written,
 * or a pooled one closes before any response byte. The second case needs the request again, so an
 * inspected body is kept (as the bytes sent) until the response head arrives.
 *
 * <p>It ends exactly once, in {@link #end}: the response completed, either side broke, a timeout
 * fired, or tokentap answered itself. A client abort closes the upstream connection (so the server
 * stops generating) instead of returning it to the pool.
 */
final class Exchange implements ResponseListener {
  private enum BodyMode { INSPECT, STREAM }

  private final RelayContext relay;
  private final ClientConnectionHandler connection;
  private final ChannelHandlerContext client;
  private final HttpRequest request;
  private final RequestRecord record; // null for excluded paths: relayed, not recorded
  private final Route route;
  private final RouteResolver.Resolution resolution;
  private final boolean clientKeepAlive;

  private BodyMode mode;
  private CompositeByteBuf inspected;
  private HttpHeaders pendingTrailers;
  private final ArrayDeque<HttpObject> pendingToUpstream = new ArrayDeque<>();
  private long requestBytes;
  private boolean requestComplete;
  private boolean usageInjected;
  private byte[] replayBody; // the request body as sent, while it may be sent again; null: it cannot be
  private boolean replayFixedLength;
  private boolean retried;

  private Channel upstream;
  private boolean upstreamReused;
  private boolean connecting;
  private ScheduledFuture<?> headTimeout;
  private ScheduledFuture<?> idleTimeout;
  private long lastUpstreamReadNanos;
  private boolean responseHeadSent;
  private boolean responseKeepAlive;
  private boolean upstreamReusable;
  private UsageEventFilter usageFilter;
  private boolean ended;

  Exchange(RelayContext relay, ClientConnectionHandler connection, ChannelHandlerContext client, HttpRequest request, long startNanos) {
    this.relay = relay;
    this.connection = connection;
    this.client = client;
    this.request = request;
    String path = RouteResolver.pathOf(request.uri());
    this.resolution = relay.routes.resolve(path);
    this.route = resolution.route();
    this.record = relay.routes.excluded(path) ? null : relay.recorder.start(Role.PRIMARY, relay.settings.proxy().targetName(), startNanos);
    this.clientKeepAlive = HttpUtil.isKeepAlive(request);
    if (record != null) {
      record.describe(request.method().name(), route, resolution.api(), resolution.pathModel());
    }
  }

  boolean requestComplete() {
    return requestComplete;
  }

  // ---------------------------------------------------------------- request side

  void onRequestHead() {
    long declared = HttpUtil.getContentLength(request, -1L);
    boolean inspect =
        record != null
            && RouteResolver.inspectsBody(resolution)
            && request.method().equals(HttpMethod.POST)
            && declared <= relay.settings.proxy().maxInspectedRequestBody();
    if (!inspect && record != null && RouteResolver.inspectsBody(resolution) && request.method().equals(HttpMethod.POST)) {
      tapTooLarge(declared);
    }
    if (inspect) {
      mode = BodyMode.INSPECT;
      inspected = client.alloc().compositeBuffer(Integer.MAX_VALUE);
    } else {
      mode = BodyMode.STREAM;
      pendingToUpstream.add(upstreamHead(null));
      connect();
    }
  }

  void onRequestContent(HttpContent content, long readNanos) {
    requestBytes += content.content().readableBytes();
    boolean last = content instanceof LastHttpContent;
    if (!ended && requestBytes > relay.settings.proxy().maxRequestBody()) {
      content.release();
      rejectBodyTooLarge();
      return;
    }
    if (ended) {
      content.release();
    } else if (mode == BodyMode.INSPECT) {
      if (inspected.readableBytes() + content.content().readableBytes() > relay.settings.proxy().maxInspectedRequestBody()) {
        // Too big to read whole: relay it as it comes, uninspected.
        tapTooLarge(inspected.readableBytes() + (long) content.content().readableBytes());
        mode = BodyMode.STREAM;
        pendingToUpstream.add(upstreamHead(null));
        pendingToUpstream.add(new DefaultHttpContent(inspected));
        inspected = null;
        forwardRequestContent(content);
        connect();
      } else {
        inspected.addComponent(true, content.content().retain());
        if (last && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
          pendingTrailers = ((LastHttpContent) content).trailingHeaders().copy();
        }
        content.release();
      }
    } else {
      forwardRequestContent(content);
    }
    if (last) {
      requestComplete = true;
      if (mode == BodyMode.STREAM && requestBytes == 0 && relay.settings.upstream().retryUnanswered()) {
        replayBody = EMPTY;
        replayFixedLength = false;
      }
      if (record != null) {
        record.requestBodyRead(readNanos, requestBytes);
      }
      if (!ended && mode == BodyMode.INSPECT) {
        sendInspected();
      }
    }
  }

  /** The request body was malformed (a bad chunk): 400, and whatever was relayed of it is cut. */
  void onRequestMalformed(Throwable cause) {
    if (ended) {
      return;
    }
    upstreamReusable = false;
    if (responseHeadSent) {
      end(Outcome.REJECTED, System.nanoTime(), false);
    } else {
      respondItself(HttpResponseStatus.BAD_REQUEST, Outcome.REJECTED, "invalid_request_error",
          "tokentap: malformed request body: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
    }
  }

  /**
   * No request body byte came for {@code limit} while it was being read (tokentap.proxy.request-body-timeout):
   * the upstream request is cancelled (its connection closed), the client gets 408 if no response
   * has started (else its response is cut), and the request is a {@code client_abort}: the client
   * stalled, no server failed (docs/reliability.md, "Slow and vanishing clients").
   */
  void onRequestBodyTimeout(java.time.Duration limit) {
    if (ended) {
      return;
    }
    upstreamReusable = false;
    if (responseHeadSent) {
      end(Outcome.CLIENT_ABORT, System.nanoTime(), false);
    } else {
      respondItself(HttpResponseStatus.REQUEST_TIMEOUT, Outcome.CLIENT_ABORT, "request_timeout",
          "tokentap: no request body bytes for " + limit.toMillis() + " ms (tokentap.proxy.request-body-timeout)");
    }
  }

  /** A chunked body grew past max-request-body: whatever was relayed of it is cut with the upstream connection. */
  private void rejectBodyTooLarge() {
    upstreamReusable = false;
    String message = "tokentap: request body exceeds tokentap.proxy.max-request-body (" + relay.settings.proxy().maxRequestBody() + " bytes)";
    if (responseHeadSent) {
      end(Outcome.REJECTED, System.nanoTime(), false); // the upstream answered early; its response is cut
    } else {
      respondItself(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Outcome.REJECTED, "invalid_request_error", message);
    }
  }

  private void sendInspected() {
    byte[] body = ByteBufUtil.getBytes(inspected);
    Settings.Capture capture = relay.settings.capture();
    RequestBodyInspector.Inspection inspection =
        RequestBodyInspector.inspect(body, resolution.api(), relay.settings.proxy().usageInjection(), capture.enabled() ? capture.prefixChars() : 0);
    // Triton names the model in the path, not the body: the body's name wins where there is one.
    String model = inspection.model() != null ? inspection.model() : resolution.pathModel();
    record.describe(request.method().name(), route, resolution.api(), model);
    if (capture.enabled() && inspection.promptHead() != null) {
      record.content(new RequestContent(inspection.promptHead(), inspection.wholePrompt(), capture.includeText() ? body : null));
    }
    if (!relay.taps.isEmpty()) {
      byte[] sent = inspection.injectedBody() != null ? inspection.injectedBody() : body;
      tap(model, sent, inspection.injectedBody() != null, sent.length);
    }
    ByteBuf upstreamBody;
    if (inspection.injectedBody() != null) {
      usageInjected = true;
      inspected.release();
      upstreamBody = Unpooled.wrappedBuffer(inspection.injectedBody());
    } else {
      upstreamBody = inspected;
    }
    inspected = null;
    if (relay.settings.upstream().retryUnanswered()) {
      replayBody = inspection.injectedBody() != null ? inspection.injectedBody() : body;
      replayFixedLength = true;
    }
    queueInspected(upstreamBody);
    connect();
  }

  private void queueInspected(ByteBuf upstreamBody) {
    pendingToUpstream.add(upstreamHead(upstreamBody.readableBytes()));
    LastHttpContent last = new DefaultLastHttpContent(upstreamBody);
    if (pendingTrailers != null) {
      last.trailingHeaders().set(pendingTrailers);
    }
    pendingToUpstream.add(last);
  }

  private void tapTooLarge(long length) {
    if (!relay.taps.isEmpty()) {
      tap(resolution.pathModel(), null, false, length);
    }
  }

  /** Hands a copy of the request to every tap; a tap's failure never reaches the relay. */
  private void tap(String model, byte[] body, boolean injected, long length) {
    HttpHeaders copy = request.headers().copy();
    HopByHopHeaders.strip(copy);
    TappedRequest tapped =
        new TappedRequest(request.method().name(), request.uri(), route, resolution.api(), model, java.util.List.copyOf(copy.entries()),
            body, injected, length, record.startNanos());
    for (RequestTap t : relay.taps) {
      try {
        if (body == null) {
          t.onRequestTooLarge(tapped);
        } else {
          t.onRequest(tapped);
        }
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(Exchange.class).warn("request tap failed", e);
      }
    }
  }

  private void forwardRequestContent(HttpContent content) {
    if (upstream != null) {
      // Flushed piece by piece: an upload streams through, and unflushed bytes would hold the
      // upstream channel unwritable (and so the client's reads paused) for ever.
      writeToUpstream(content);
      upstream.flush();
    } else {
      pendingToUpstream.add(content);
    }
  }

  private HttpRequest upstreamHead(Integer fixedLength) {
    return RelayedHeads.toUpstream(request, relay.settings.proxy(), client.channel().remoteAddress(), fixedLength);
  }

  private void connect() {
    connect(false);
  }

  /** @param fresh a new connection, not an idle pooled one (a retry) */
  private void connect(boolean fresh) {
    if (connecting || upstream != null) {
      return;
    }
    connecting = true;
    // Hold further request bytes until there is somewhere to put them.
    client.channel().config().setAutoRead(false);
    relay.pool(client.channel().eventLoop()).acquire(fresh).addListener(this::onUpstreamAcquired);
  }

  private void onUpstreamAcquired(Future<? super Channel> f) {
    connecting = false;
    if (!f.isSuccess()) {
      Throwable cause = f.cause();
      if (cause instanceof ConnectionPool.PoolExhaustedException) {
        client.channel().config().setAutoRead(true);
        respondItself(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.REJECTED, "upstream_busy", "tokentap: " + cause.getMessage());
      } else {
        String reason = connectErrorReason(cause);
        relay.recorder.metrics().upstreamConnectError(relay.settings.proxy().targetName(), reason);
        if (reason.equals("other") && !ended && mayRetry()) {
          // Made, then lost before a request byte left (a reset or close during the connect):
          // nothing was sent, so a second connection is safe. Refused, timed out or untrusted
          // would fail the same way again.
          retry("connect_failed");
          return;
        }
        client.channel().config().setAutoRead(true);
        respondItself(HttpResponseStatus.BAD_GATEWAY, Outcome.ERROR, "upstream_unavailable",
            "tokentap: cannot connect to upstream " + relay.settings.proxy().upstream() + ": " + describe(cause));
      }
      return;
    }
    Channel ch = (Channel) f.getNow();
    if (ended) {
      // The client left while we waited: the fresh connection is clean, give it back.
      relay.pool(client.channel().eventLoop()).release(ch);
      return;
    }
    upstream = ch;
    upstreamReused = ConnectionPool.reused(ch);
    ResponseDispatcher.of(ch).bind(this);
    ch.config().setAutoRead(true);
    client.channel().config().setAutoRead(true);
    HttpObject msg;
    while ((msg = pendingToUpstream.poll()) != null) {
      writeToUpstream(msg);
    }
    upstream.flush();
    if (!upstream.isWritable()) {
      client.channel().config().setAutoRead(false);
    }
  }

  private void writeToUpstream(HttpObject msg) {
    if (msg instanceof LastHttpContent) {
      upstream.write(msg).addListener((ChannelFutureListener) this::onRequestSent);
    } else {
      upstream.write(msg, upstream.voidPromise());
    }
  }

  private void onRequestSent(io.netty.channel.ChannelFuture f) {
    if (!f.isSuccess() || ended) {
      return;
    }
    if (record != null) {
      record.requestSent(System.nanoTime());
    }
    if (!responseHeadSent && headTimeout == null) {
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
    replayBody = null; // the upstream answered: it has acted on the request
    if (response.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
      // 1xx interim responses (other than the 100 handled locally) are not part of this relay.
      return;
    }
    cancel(headTimeout);
    lastUpstreamReadNanos = readNanos;
    upstreamReusable = HttpUtil.isKeepAlive(response);
    StreamMeter meter = record == null ? null : record.meter(usageInjected);
    String contentType = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (meter != null) {
      meter.onResponseHead(response.status().code(), contentType, readNanos);
    }
    boolean eventStream = contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
    boolean filtered = usageInjected && eventStream && meter != null;
    if (filtered) {
      usageFilter = new UsageEventFilter(meter, client.alloc());
    }
    HttpResponse toClient = RelayedHeads.toClient(request, response, clientKeepAlive && !relay.draining(), filtered);
    responseKeepAlive = HttpUtil.isKeepAlive(toClient);
    responseHeadSent = true;
    client.writeAndFlush(toClient, client.voidPromise());
    scheduleIdleTimeout(relay.settings.upstream().idleTimeout().toNanos());
  }

  @Override
  public void onResponseContent(HttpContent content, long readNanos) {
    if (ended || !responseHeadSent) {
      content.release();
      return;
    }
    lastUpstreamReadNanos = readNanos;
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
    if (last) {
      upstreamReusable &= requestComplete;
      end(null, System.nanoTime(), false);
    } else if (!client.channel().isWritable()) {
      upstream.config().setAutoRead(false);
    }
  }

  void clientWritabilityChanged(boolean writable) {
    if (upstream != null && !ended) {
      upstream.config().setAutoRead(writable);
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
    if (mayResend(cause)) {
      resend();
    } else if (!responseHeadSent) {
      respondItself(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ABORT, "upstream_closed",
          "tokentap: upstream " + relay.settings.proxy().upstream() + " closed the connection before responding"
              + (cause == null ? "" : ": " + describe(cause)));
    } else {
      // Break the client's stream the way the server broke ours: no terminating chunk, no fake [DONE];
      // a reset is passed on as a reset, a plain close as a plain close.
      end(Outcome.UPSTREAM_ABORT, System.nanoTime(), cause instanceof java.io.IOException);
    }
  }

  private boolean mayRetry() {
    return !retried && relay.settings.upstream().retryUnanswered();
  }

  /**
   * A pooled connection closed or reset (an I/O error, not a malformed response) before any
   * response byte: the server closed it while idle and our request crossed its FIN or RST.
   */
  private boolean mayResend(Throwable cause) {
    return mayRetry() && upstreamReused && replayBody != null && requestComplete && !responseHeadSent
        && (cause == null || cause instanceof java.io.IOException);
  }

  /** Sends the request again, as it was sent, on a new connection. */
  private void resend() {
    Channel stale = upstream;
    upstream = null;
    ResponseDispatcher.of(stale).unbind();
    stale.close();
    cancel(headTimeout);
    headTimeout = null;
    if (replayFixedLength) {
      queueInspected(Unpooled.wrappedBuffer(replayBody));
    } else {
      pendingToUpstream.add(upstreamHead(null));
      pendingToUpstream.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    retry("stale_connection");
  }

  private void retry(String reason) {
    retried = true;
    relay.recorder.metrics().upstreamRetry(relay.settings.proxy().targetName(), reason);
    connect(true);
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
    if (!ended && !responseHeadSent) {
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
    if (upstream != null && !upstream.config().isAutoRead()) {
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
  private void respondItself(HttpResponseStatus status, Outcome outcome, String type, String message) {
    if (ended) {
      return;
    }
    ended = true;
    long now = System.nanoTime();
    boolean clientOpen = client.channel().isActive();
    if (record != null) {
      record.finishWithoutResponse(outcome, clientOpen ? status.code() : 0, now);
    }
    releaseRequestState();
    closeOrReleaseUpstream();
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
    releaseRequestState();
    closeOrReleaseUpstream();
    if (broken != null && client.channel().isActive()) {
      // A response already under way cannot be turned into an error: cut it.
      if (resetClient) {
        client.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      }
      client.close();
    }
    connection.exchangeEnded(this, broken == null && responseKeepAlive);
  }

  private void closeOrReleaseUpstream() {
    cancel(headTimeout);
    cancel(idleTimeout);
    if (usageFilter != null) {
      usageFilter.discard();
      usageFilter = null;
    }
    Channel ch = upstream;
    upstream = null;
    if (ch == null) {
      return;
    }
    ResponseDispatcher.of(ch).unbind();
    ch.config().setAutoRead(true);
    if (upstreamReusable && ch.isActive()) {
      relay.pool(client.channel().eventLoop()).release(ch);
    } else {
      ch.close();
    }
  }

  private void releaseRequestState() {
    if (inspected != null) {
      inspected.release();
      inspected = null;
    }
    HttpObject msg;
    while ((msg = pendingToUpstream.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  private static final byte[] EMPTY = new byte[0];

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  private static String connectErrorReason(Throwable cause) {
    return cause instanceof ConnectException ? "refused"
        : cause instanceof io.netty.channel.ConnectTimeoutException ? "timeout"
        : cause instanceof javax.net.ssl.SSLException ? "tls"
        : "other";
  }

  private static String describe(Throwable cause) {
    if (cause instanceof javax.net.ssl.SSLException) {
      // The JDK's words say which check failed: an untrusted chain ("PKIX path building failed") or
      // a certificate for another host ("No subject alternative names matching ...").
      return "TLS handshake failed (" + cause.getMessage() + ")";
    }
    if (cause instanceof ConnectException) {
      return "connection refused or unreachable (" + cause.getMessage() + ")";
    }
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "connect timed out (" + cause.getMessage() + ")";
    }
    return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }
}
