package dev.tokentap.shadow;

import dev.tokentap.proxy.client.MeteredCall;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;

/**
 * One shadow copy: its request to staging, sent and metered ({@code role="shadow"}) by the upstream
 * client's {@link MeteredCall} on one of the target's own event loops, the response discarded.
 *
 * <p>The copy's result: {@code sent} when staging's response completed with a status below 500;
 * {@code failed} when it was a 5xx, or the connect, the first byte or an idle gap timed out, or
 * staging broke the connection (the breaker counts these). There is no whole-response timeout:
 * staging does the full work of every copy.
 */
final class StagingExchange {
  private StagingExchange() {}

  /**
   * Sends copy {@code copy} of {@code copies} of {@code request}; on {@code loop}, a loop of the
   * target's. A compared pair's first copy shows its output to {@code side} (else null).
   */
  static void send(StagingTarget target, EventLoop loop, TappedRequest request, int copy, int copies, SideOutput side) {
    // t_start of a shadow request is when it is handed to staging (docs/shadow.md).
    RequestRecord record = target.recorder().start(Role.SHADOW, target.name(), System.nanoTime());
    record.describe(request.method(), request.route(), request.api(), target.rewriter().stagingModel(request.model()));
    if (side != null) {
      record.observeOutput(side);
    }
    MeteredCall.Timeouts timeouts = new MeteredCall.Timeouts(target.settings().firstByteTimeout(), target.settings().idleTimeout(), null);
    new MeteredCall(target.pool(loop), record, request.usageInjected(), null, timeouts, (finished, completed, cause) -> ended(target, finished, completed, cause))
        .send(() -> {
          FullHttpRequest req = target.rewriter().build(request, copy, copies);
          record.requestBodyRead(System.nanoTime(), req.content().readableBytes());
          return req;
        });
  }

  private static void ended(StagingTarget target, FinishedRequest finished, boolean completed, Throwable cause) {
    boolean stagingFailed = !completed || finished.status() >= 500;
    target.copyEnded(stagingFailed ? CopyResult.FAILED : CopyResult.SENT, stagingFailed, finished.endNanos() - finished.startNanos(), cause);
  }
}
