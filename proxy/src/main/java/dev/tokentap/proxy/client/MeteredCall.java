package dev.tokentap.proxy.client;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One request sent whole over a pooled connection ({@link ConnectionPool}), its response read to
 * the end through the request record's stream meter and discarded: a shadow copy and a bench
 * request. The relay's exchange uses the same pool, dispatcher, read clock, meter and record, and
 * relays the response instead of discarding it; so whatever sends a request, its numbers come from
 * the same code.
 *
 * <p>Runs on the pool's event loop from {@link #send} to its end. Ends exactly once, in {@link #end}:
 * the response completed (the meter then decides the outcome: an error status or event is {@code
 * error}), or the connection could not be had ({@code error}), broke ({@code upstream_abort}), or a
 * {@link Timeouts timeout} ran out ({@code timeout}), or the caller abandoned it ({@link #cancelAfter},
 * {@code client_abort}: a bench's cancelled request). A connection goes back to the pool only after a
 * response that completed and allows keep-alive; any other is closed, which is how the server learns
 * of a cancellation.
 *
 * <p>As in the relay, a request that meets a pooled connection its server closed while it sat idle
 * (the write fails, or the connection closes or resets before any response byte) is sent once more
 * on a new connection ({@code tokentap_upstream_retries_total{reason="stale_connection"}}): the
 * server cannot have acted on it. The request as written is kept for that until the response head
 * arrives.
 */
public final class MeteredCall implements ResponseListener {
  /**
   * Limits of one call; null for none.
   *
   * @param firstByte from the request's last byte written to the response head
   * @param idle the longest silence between reads once the head arrived
   * @param total from {@link #send} to the response's end, whatever it is waiting for
   */
  public record Timeouts(Duration firstByte, Duration idle, Duration total) {}

  /** Told once, on the pool's loop, when the call has ended. */
  @FunctionalInterface
  public interface Ending {
    /**
     * @param completed the response arrived whole (its outcome is still the meter's)
     * @param cause what broke the call, when something did and it is known
     */
    void ended(FinishedRequest finished, boolean completed, Throwable cause);
  }

  private final ConnectionPool pool;
  private final EventLoop loop;
  private final RequestRecord record;
  private final boolean usageInjected;
  private final TokenGapListener alsoGaps;
  private final Timeouts timeouts;
  private final Ending ending;

  private Supplier<FullHttpRequest> request;
  /** The request as written on a pooled connection, until a response head: sent once more if the connection was stale. */
  private FullHttpRequest replay;
  private boolean resent;
  /** A response head (interim included) arrived: the server acted on the request. */
  private boolean answered;
  private Channel channel;
  private StreamMeter meter;
  private ScheduledFuture<?> totalTimeout;
  private ScheduledFuture<?> firstByteTimeout;
  private ScheduledFuture<?> idleTimeout;
  private long cancelAfterNanos = -1;
  private ScheduledFuture<?> cancelTimer;
  private long lastReadNanos;
  private boolean keepAlive;
  /** An interim (1xx) head was read: its empty end is not the response's. */
  private boolean informational;
  private boolean ended;

  /**
   * @param record started by the caller: its start is the request's {@code t_start}
   * @param usageInjected the request asks for usage the client did not (the meter then knows)
   * @param alsoGaps given every inter-token gap besides the ITL histogram; null for none
   */
  public MeteredCall(ConnectionPool pool, RequestRecord record, boolean usageInjected, TokenGapListener alsoGaps,
      Timeouts timeouts, Ending ending) {
    this.pool = pool;
    this.loop = pool.loop();
    this.record = record;
    this.usageInjected = usageInjected;
    this.alsoGaps = alsoGaps;
    this.timeouts = timeouts;
    this.ending = ending;
  }

  /**
   * Abandons the call {@code delay} after {@link #send} unless it has ended by then: it ends as
   * {@code client_abort} and its connection is closed mid-response, as a client that gives up would
   * (AIPerf's and vLLM's bench cancellation). Call before {@link #send}.
   */
  public MeteredCall cancelAfter(Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
    this.cancelAfterNanos = delay.toNanos();
    return this;
  }

  /**
   * Sends the request, from any thread. {@code request} is called once, on the loop, when a
   * connection is there (so nothing is allocated for a call that never gets one).
   */
  public void send(Supplier<FullHttpRequest> request) {
    this.request = request;
    long now = System.nanoTime();
    long deadline = timeouts.total() == null ? 0 : now + timeouts.total().toNanos();
    long cancelAt = now + cancelAfterNanos;
    if (loop.inEventLoop()) {
      start(deadline, cancelAt);
      return;
    }
    try {
      loop.execute(() -> start(deadline, cancelAt));
    } catch (RejectedExecutionException e) { // the pool's loop is shutting down
      end(Outcome.UPSTREAM_ABORT, e, System.nanoTime());
    }
  }

  private void start(long deadline, long cancelAt) {
    if (timeouts.total() != null) {
      totalTimeout = loop.schedule(() -> end(Outcome.TIMEOUT, null, System.nanoTime()), deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    }
    if (cancelAfterNanos >= 0) {
      cancelTimer = loop.schedule(() -> end(Outcome.CLIENT_ABORT, null, System.nanoTime()), cancelAt - System.nanoTime(), TimeUnit.NANOSECONDS);
    }
    acquire(false);
  }

  /** @param fresh a new connection, never an idle one (the resend after a stale one) */
  private void acquire(boolean fresh) {
    Future<Channel> acquired = pool.acquire(fresh);
    if (acquired.isDone()) {
      onAcquired(acquired);
    } else {
      acquired.addListener(f -> onAcquired(acquired));
    }
  }

  private void onAcquired(Future<Channel> acquired) {
    if (!acquired.isSuccess()) {
      end(Outcome.ERROR, acquired.cause(), System.nanoTime()); // refused, timed out, TLS: as the relay's 502
      return;
    }
    Channel ch = acquired.getNow();
    if (ended) {
      pool.release(ch); // timed out while connecting: the connection itself is fine
      return;
    }
    ResponseDispatcher dispatcher = ResponseDispatcher.of(ch);
    if (dispatcher == null || !ch.isActive()) {
      ch.close();
      end(Outcome.UPSTREAM_ABORT, null, System.nanoTime());
      return;
    }
    channel = ch;
    dispatcher.bind(this);
    ch.writeAndFlush(requestFor(ch)).addListener(f -> onSent(ch, f));
  }

  /** The kept request when sending it again; else a new one, kept when {@code ch} is a pooled connection. */
  private FullHttpRequest requestFor(Channel ch) {
    FullHttpRequest r = replay;
    if (r != null) {
      replay = null;
      return r;
    }
    r = request.get();
    if (!resent && ConnectionPool.reused(ch)) {
      replay = r.retainedDuplicate();
    }
    return r;
  }

  private void onSent(Channel ch, Future<? super Void> written) {
    if (ended || ch != channel) {
      return; // ended, or already sent again on another connection
    }
    if (!written.isSuccess()) {
      breakOff(written.cause());
      return;
    }
    record.requestSent(System.nanoTime());
    if (meter == null && timeouts.firstByte() != null) {
      firstByteTimeout = loop.schedule(() -> {
        if (meter == null) {
          end(Outcome.TIMEOUT, null, System.nanoTime());
        }
      }, timeouts.firstByte().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void onResponseHead(HttpResponse head, long readNanos) {
    int status = head.status().code();
    if (ended) {
      return;
    }
    answered = true;
    releaseReplay();
    if (status < 200 && status != 101) {
      informational = true;
      return;
    }
    cancel(firstByteTimeout);
    keepAlive = HttpUtil.isKeepAlive(head);
    lastReadNanos = readNanos;
    meter = record.meter(usageInjected, alsoGaps);
    meter.onResponseHead(status, head.headers().get(HttpHeaderNames.CONTENT_TYPE, ""), readNanos);
    if (timeouts.idle() != null) {
      scheduleIdleCheck(timeouts.idle().toNanos());
    }
  }

  @Override
  public void onResponseContent(HttpContent content, long readNanos) {
    boolean last = content instanceof LastHttpContent;
    try {
      if (!ended && !informational && meter != null) {
        int n = WireContent.meter(content, meter, readNanos);
        if (n > 0) {
          lastReadNanos = readNanos;
          meter.drainDropRanges(); // nobody filters a discarded response
          record.responseBytes(n);
        }
      }
    } finally {
      content.release();
    }
    if (last) {
      if (informational) {
        informational = false;
      } else {
        end(null, null, readNanos);
      }
    }
  }

  @Override
  public void onConnectionBroken(Throwable cause) {
    keepAlive = false;
    breakOff(cause);
  }

  /** The connection failed: the request goes once more when the server cannot have acted on it, else the call ends. */
  private void breakOff(Throwable cause) {
    if (!ended && replay != null && !answered && (cause == null || PeerFaults.connectionLost(cause))) {
      resend();
    } else {
      end(Outcome.UPSTREAM_ABORT, cause, System.nanoTime());
    }
  }

  /** Sends the kept request again on a new connection; the stale one is closed. */
  private void resend() {
    Channel stale = channel;
    channel = null;
    ResponseDispatcher dispatcher = ResponseDispatcher.of(stale);
    if (dispatcher != null) {
      dispatcher.unbind();
    }
    stale.close();
    cancel(firstByteTimeout); // scheduled again once the request is written anew
    resent = true;
    record.sentAgain("stale_connection");
    acquire(true);
  }

  private void releaseReplay() {
    if (replay != null) {
      replay.release();
      replay = null;
    }
  }

  private void scheduleIdleCheck(long delayNanos) {
    idleTimeout = loop.schedule(this::onIdleCheck, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onIdleCheck() {
    if (ended) {
      return;
    }
    long limit = timeouts.idle().toNanos();
    long silent = System.nanoTime() - lastReadNanos;
    if (silent < limit) {
      scheduleIdleCheck(limit - silent);
    } else {
      end(Outcome.TIMEOUT, null, System.nanoTime());
    }
  }

  /** The one place a call ends: {@code broken == null} when the response completed. */
  private void end(Outcome broken, Throwable cause, long nanos) {
    if (ended) {
      return;
    }
    ended = true;
    releaseReplay();
    cancel(totalTimeout);
    cancel(firstByteTimeout);
    cancel(idleTimeout);
    cancel(cancelTimer);
    FinishedRequest finished = record.finish(broken, nanos);
    Channel ch = channel;
    channel = null;
    if (ch != null) {
      ResponseDispatcher dispatcher = ResponseDispatcher.of(ch);
      if (dispatcher != null) {
        dispatcher.unbind();
      }
      if (broken == null && keepAlive && ch.isActive()) {
        pool.release(ch);
      } else {
        ch.close();
      }
    }
    ending.ended(finished, broken == null, cause);
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
