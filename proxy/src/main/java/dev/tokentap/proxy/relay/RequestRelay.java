package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.record.OutputObserver;
import dev.tokentap.proxy.record.RequestContent;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.tap.RequestTap;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The request side of one {@link Exchange}: a body on a metered route, up to {@code
 * max-inspected-request-body}, is read whole, inspected ({@link RequestBodyInspector}: model, stream,
 * usage injection, capture) and handed to the taps (the shadow engine) before it goes upstream; any
 * other body streams through as it arrives. Either way the parts go to the {@link UpstreamLeg},
 * which connects once there is something to send.
 */
final class RequestRelay {
  private enum BodyMode { INSPECT, STREAM }

  private static final byte[] EMPTY = new byte[0];

  private final RelayContext relay;
  private final ChannelHandlerContext client;
  private final HttpRequest request;
  private final RouteResolver.Resolution resolution;
  private final RequestRecord record; // null for excluded paths: relayed, not recorded
  private final UpstreamLeg leg;

  private BodyMode mode;
  private CompositeByteBuf inspected;
  private HttpHeaders pendingTrailers;
  private long bytes;
  private boolean usageInjected;

  RequestRelay(RelayContext relay, ChannelHandlerContext client, HttpRequest request, RouteResolver.Resolution resolution,
      RequestRecord record, UpstreamLeg leg) {
    this.relay = relay;
    this.client = client;
    this.request = request;
    this.resolution = resolution;
    this.record = record;
    this.leg = leg;
  }

  /** The head arrived: read the body whole, or start relaying at once. */
  void onHead() {
    long declared = HttpUtil.getContentLength(request, -1L);
    boolean metered = record != null && RouteResolver.inspectsBody(resolution) && request.method().equals(HttpMethod.POST);
    if (metered && declared <= relay.settings.proxy().maxInspectedRequestBody()) {
      mode = BodyMode.INSPECT;
      inspected = client.alloc().compositeBuffer(Integer.MAX_VALUE);
      return;
    }
    if (metered) {
      tapTooLarge(declared);
    }
    if (record != null) {
      record.resolveSeries(); // as for an inspected body (sendInspected), before the request leaves
    }
    mode = BodyMode.STREAM;
    leg.send(upstreamHead(null));
    leg.connect();
  }

  /** Counts a body part's bytes; the total so far, for the request-size limit. */
  long count(HttpContent content) {
    bytes += content.content().readableBytes();
    return bytes;
  }

  /** One body part (taken over: released or passed on). */
  void onContent(HttpContent content) {
    if (mode == BodyMode.STREAM) {
      leg.forward(content);
      return;
    }
    if (inspected.readableBytes() + content.content().readableBytes() > relay.settings.proxy().maxInspectedRequestBody()) {
      // Too big to read whole: relay it as it comes, uninspected.
      tapTooLarge(inspected.readableBytes() + (long) content.content().readableBytes());
      mode = BodyMode.STREAM;
      leg.send(upstreamHead(null));
      leg.send(new DefaultHttpContent(inspected));
      inspected = null;
      leg.forward(content);
      leg.connect();
      return;
    }
    inspected.addComponent(true, content.content().retain());
    if (content instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
      pendingTrailers = last.trailingHeaders().copy();
    }
    content.release();
  }

  /** The body's last part was read at {@code readNanos}; {@code send} false when the exchange has already ended. */
  void onLast(long readNanos, boolean send) {
    if (mode == BodyMode.STREAM && bytes == 0 && relay.settings.upstream().retryUnanswered()) {
      leg.replayWith(() -> {
        leg.send(upstreamHead(null));
        leg.send(LastHttpContent.EMPTY_LAST_CONTENT);
      });
    }
    if (record != null) {
      record.requestBodyRead(readNanos, bytes);
    }
    if (send && mode == BodyMode.INSPECT) {
      sendInspected();
    }
  }

  /** Whether the body sent upstream asks for usage the client did not (the meter and filter must know). */
  boolean usageInjected() {
    return usageInjected;
  }

  /** Drops a body still being read (the exchange ended). */
  void release() {
    if (inspected != null) {
      inspected.release();
      inspected = null;
    }
  }

  private void sendInspected() {
    byte[] body = ByteBufUtil.getBytes(inspected);
    Settings.Capture capture = relay.settings.capture();
    RequestBodyInspector.Inspection inspection =
        RequestBodyInspector.inspect(body, resolution.api(), relay.settings.proxy().usageInjection(), capture.enabled() ? capture.prefixChars() : 0);
    // Triton names the model in the path, not the body: the body's name wins where there is one.
    String model = inspection.model() != null ? inspection.model() : resolution.pathModel();
    record.describe(request.method().name(), resolution.route(), resolution.api(), model);
    if (capture.enabled() && inspection.promptHead() != null) {
      record.content(new RequestContent(inspection.promptHead(), inspection.wholePrompt(), capture.includeText() ? body : null));
    }
    byte[] sent = inspection.injectedBody() != null ? inspection.injectedBody() : body;
    if (!relay.taps.isEmpty()) {
      tap(model, sent, inspection.injectedBody() != null, sent.length);
    }
    ByteBuf upstreamBody;
    if (inspection.injectedBody() != null) {
      usageInjected = true;
      inspected.release();
      upstreamBody = Unpooled.wrappedBuffer(sent);
    } else {
      upstreamBody = inspected;
    }
    inspected = null;
    // The series (registered on a label set's first request) before the request leaves: that
    // set-up then falls inside the TTFT the client and tokentap both measure, not between
    // tokentap's read of the first token and the client's (milliseconds on the first request
    // after start, when head and first token come in one read).
    record.resolveSeries();
    if (relay.settings.upstream().retryUnanswered()) {
      leg.replayWith(() -> sendWhole(Unpooled.wrappedBuffer(sent)));
    }
    sendWhole(upstreamBody);
    leg.connect();
  }

  /** A body read whole goes with its length (and any trailers it came with). */
  private void sendWhole(ByteBuf body) {
    leg.send(upstreamHead(body.readableBytes()));
    LastHttpContent last = new DefaultLastHttpContent(body);
    if (pendingTrailers != null) {
      last.trailingHeaders().set(pendingTrailers);
    }
    leg.send(last);
  }

  private io.netty.handler.codec.http.HttpRequest upstreamHead(Integer fixedLength) {
    return RelayedHeads.toUpstream(request, relay.settings.proxy(), client.channel().remoteAddress(), fixedLength);
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
    Route route = resolution.route();
    TappedRequest tapped = new TappedRequest(request.method().name(), request.uri(), route, resolution.api(), model,
        java.util.List.copyOf(copy.entries()), body, injected, length, record.startNanos());
    for (RequestTap t : relay.taps) {
      try {
        if (body == null) {
          t.onRequestTooLarge(tapped);
        } else {
          OutputObserver observer = t.onRequestWatchingOutput(tapped);
          if (observer != null) {
            record.observeOutput(observer);
          }
        }
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(RequestRelay.class).warn("request tap failed", e);
      }
    }
  }
}
