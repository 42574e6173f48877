package dev.tokentap.shadow;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One shadow copy: its request to staging and the response, read to the end through the stream
 * meter ({@code role="shadow"}) and discarded. Runs on one of the target's own event loops.
 *
 * <p>Ends exactly once, in {@link #end}: the response completed with a status below 500 (result {@code
 * sent}), or it was a 5xx, the connect, the first byte or an idle gap timed out, or staging broke
 * the connection ({@code failed}; the breaker counts these). There is no whole-response timeout: staging does the full work of every copy.
 */
final class StagingExchange {
  private final StagingTarget target;
  private final EventLoop loop;
  private final TappedRequest request;
  private final int copy;
  private final int copies;
  private final RequestRecord record;

  private Channel channel;
  private ScheduledFuture<?> firstByteTimeout;
  private ScheduledFuture<?> idleTimeout;
  private long lastReadNanos;
  private StreamMeter meter;
  private int status;
  private boolean keepAlive;
  private boolean ended;

  StagingExchange(StagingTarget target, EventLoop loop, TappedRequest request, int copy, int copies) {
    this.target = target;
    this.loop = loop;
    this.request = request;
    this.copy = copy;
    this.copies = copies;
    // t_start of a shadow request is when it is handed to staging (DESIGN §2).
    this.record = target.recorder().start(dev.tokentap.proxy.record.Role.SHADOW, target.name(), System.nanoTime());
    record.describe(request.method(), request.route(), request.api(), target.rewriter().stagingModel(request.model()));
  }

  void start() {
    target.pool(loop).acquire().addListener(this::onAcquired);
  }

  private void onAcquired(Future<? super Channel> f) {
    if (!f.isSuccess()) {
      end(Outcome.ERROR, f.cause());
      return;
    }
    channel = (Channel) f.getNow();
    StagingResponseHandler handler = StagingResponseHandler.of(channel);
    if (handler == null || !channel.isActive()) {
      end(Outcome.UPSTREAM_ABORT, null);
      return;
    }
    handler.bind(this);
    FullHttpRequest req = target.rewriter().build(request, copy, copies);
    record.requestBodyRead(System.nanoTime(), req.content().readableBytes());
    channel.writeAndFlush(req).addListener(this::onSent);
  }

  private void onSent(Future<? super Void> f) {
    if (ended) {
      return;
    }
    if (!f.isSuccess()) {
      end(Outcome.ERROR, f.cause());
      return;
    }
    record.requestSent(System.nanoTime());
    if (meter == null) {
      firstByteTimeout = loop.schedule(() -> {
        if (!ended && meter == null) {
          end(Outcome.TIMEOUT, null);
        }
      }, target.settings().firstByteTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  void onResponseHead(HttpResponse response, long nanos) {
    if (ended || response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
      return;
    }
    cancel(firstByteTimeout);
    status = response.status().code();
    keepAlive = HttpUtil.isKeepAlive(response);
    lastReadNanos = nanos;
    meter = record.meter(request.usageInjected());
    meter.onResponseHead(status, response.headers().get(HttpHeaderNames.CONTENT_TYPE), nanos);
    scheduleIdleCheck(target.settings().idleTimeout().toNanos());
  }

  void onResponseContent(HttpContent content, long nanos) {
    try {
      if (ended || meter == null) {
        return;
      }
      lastReadNanos = nanos;
      meter.onBody(content.content(), nanos);
      meter.drainDropRanges(); // nobody filters a discarded stream
      record.responseBytes(content.content().readableBytes());
    } finally {
      content.release();
    }
    if (content instanceof LastHttpContent) {
      end(null, null);
    }
  }

  void onBroken(Throwable cause) {
    keepAlive = false;
    end(Outcome.UPSTREAM_ABORT, cause);
  }

  private void scheduleIdleCheck(long delayNanos) {
    idleTimeout = loop.schedule(this::onIdleCheck, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onIdleCheck() {
    if (ended) {
      return;
    }
    long limit = target.settings().idleTimeout().toNanos();
    long silent = System.nanoTime() - lastReadNanos;
    if (silent < limit) {
      scheduleIdleCheck(limit - silent);
    } else {
      end(Outcome.TIMEOUT, null);
    }
  }

  /** The one place a copy ends: {@code broken == null} when staging's response completed. */
  private void end(Outcome broken, Throwable cause) {
    if (ended) {
      return;
    }
    ended = true;
    long now = System.nanoTime();
    cancel(firstByteTimeout);
    cancel(idleTimeout);
    if (meter != null) {
      record.finish(broken, now);
    } else {
      record.finishWithoutResponse(broken, 0, now);
    }
    Channel ch = channel;
    channel = null;
    if (ch != null) {
      StagingResponseHandler handler = StagingResponseHandler.of(ch);
      if (handler != null) {
        handler.unbind();
      }
      if (broken == null && keepAlive && ch.isActive()) {
        target.pool(loop).release(ch);
      } else {
        ch.close();
      }
    }
    boolean stagingFailed = broken != null || status >= 500;
    target.copyEnded(stagingFailed ? CopyResult.FAILED : CopyResult.SENT, stagingFailed, now - record.startNanos(), cause);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
