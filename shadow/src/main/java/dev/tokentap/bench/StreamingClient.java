package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Sends one streaming request and meters its response as the bytes arrive: each delivery of body
 * buffers is stamped with {@link System#nanoTime()} once and fed to the {@link StreamMeter} of a
 * {@link RequestRecord} ({@link Role#BENCH}), the same record the proxy keeps, so every number has
 * the proxy's definition. The record's clock starts at the caller's {@code startNanos}: the
 * intended send time on open-loop schedules.
 *
 * <p>The record's meter reports gaps to the live metrics only, so a second meter on the same bytes
 * collects the per-gap ITL values for the report.
 *
 * <p>JDK {@link HttpClient} over HTTP/1.1: one connection per in-flight request, kept alive and
 * reused. Callbacks for one response are sequential (Flow's rules), so the record stays confined
 * to one thread at a time; the one race, a transport error against the body's own end, is settled
 * by {@link Exchange#finish}. A request still running {@code requestTimeout} after it was sent
 * (head and body together) is recorded as {@code timeout} and its connection closed.
 */
public final class StreamingClient implements AutoCloseable {
  private final HttpClient http;
  private final URI base;
  private final RequestRecorder recorder;
  private final String target;
  private final Duration requestTimeout;
  private final int maxBufferedBodyBytes;
  /** Ends requests that outlive the timeout, head and body together. */
  private final ScheduledThreadPoolExecutor timer;

  public StreamingClient(URI base, RequestRecorder recorder, String target, Duration requestTimeout) {
    this.base = requireNonNull(base, "base");
    this.recorder = requireNonNull(recorder, "recorder");
    this.target = requireNonNull(target, "target");
    this.requestTimeout = requireNonNull(requestTimeout, "requestTimeout");
    this.maxBufferedBodyBytes = 1 << 20;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
    this.timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "bench-request-timeout");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
  }

  /** Normalises a {@code --target}: scheme, host and port, any trailing {@code /v1} dropped. */
  public static URI baseOf(String target) {
    URI uri;
    try {
      uri = URI.create(target.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--target " + target + " (expected: http://host:port)");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("--target " + target + " (expected: http://host:port)");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    path = path.replaceAll("/+$", "");
    if (path.endsWith("/v1")) {
      path = path.substring(0, path.length() - 3);
    }
    return URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + path);
  }

  /**
   * Sends {@code request}, timed from {@code startNanos}; the future completes with the finished
   * request, never exceptionally.
   */
  public CompletableFuture<Result> send(BenchRequest request, long startNanos) {
    RequestRecord record = recorder.start(Role.BENCH, target, startNanos);
    record.describe("POST", request.route(), request.model());
    record.requestBodyRead(startNanos, request.body().length);
    Exchange exchange = new Exchange(record, Api.defaultFor(request.route()));
    exchange.deadline = timer.schedule(exchange::timedOut, requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
    HttpRequest httpRequest = HttpRequest.newBuilder(base.resolve(base.getPath() + request.path()))
        .timeout(requestTimeout)
        .header("Content-Type", "application/json")
        .header("Accept", "text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(request.body()))
        .build();
    try {
      http.sendAsync(httpRequest, exchange::onHead).whenComplete((r, error) -> {
        if (error != null) {
          exchange.failed(error);
        }
      });
    } catch (RuntimeException e) {
      exchange.failed(e);
    }
    return exchange.done;
  }

  /** A finished request and its ITL gaps. */
  public record Result(FinishedRequest record, long[] itlGapsNanos) {}

  private final class Exchange implements HttpResponse.BodySubscriber<Void> {
    final CompletableFuture<Result> done = new CompletableFuture<>();
    final RequestRecord record;
    final StreamMeter gapMeter;
    final GapCollector gaps = new GapCollector();
    private final CompletableFuture<Void> body = new CompletableFuture<>();
    private volatile ScheduledFuture<?> deadline;
    private Flow.Subscription subscription;
    private boolean finished;

    Exchange(RequestRecord record, Api api) {
      this.record = record;
      this.gapMeter = new StreamMeter(api, false, gaps, maxBufferedBodyBytes);
    }

    synchronized HttpResponse.BodySubscriber<Void> onHead(HttpResponse.ResponseInfo info) {
      long now = System.nanoTime();
      if (finished) {
        return this; // timed out before the head: onSubscribe cancels
      }
      String contentType = info.headers().firstValue("content-type").orElse("");
      record.meter(false).onResponseHead(info.statusCode(), contentType, now);
      gapMeter.onResponseHead(info.statusCode(), contentType, now);
      return this;
    }

    @Override
    public synchronized void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      if (finished) {
        subscription.cancel();
      } else {
        subscription.request(Long.MAX_VALUE);
      }
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> buffers) {
      long now = System.nanoTime();
      if (finished) {
        return; // timed out: the meter is closed
      }
      StreamMeter meter = record.meter(false);
      for (ByteBuffer b : buffers) {
        int n = b.remaining();
        meter.onBody(Unpooled.wrappedBuffer(b.duplicate()), now);
        gapMeter.onBody(Unpooled.wrappedBuffer(b), now);
        record.responseBytes(n);
      }
    }

    @Override
    public void onError(Throwable error) {
      body.completeExceptionally(error);
      failed(error);
    }

    @Override
    public void onComplete() {
      body.complete(null);
      finish(null, System.nanoTime());
    }

    @Override
    public CompletionStage<Void> getBody() {
      return body;
    }

    void failed(Throwable error) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      Outcome outcome = cause instanceof HttpTimeoutException && !(cause instanceof HttpConnectTimeoutException)
          ? Outcome.TIMEOUT
          : Outcome.UPSTREAM_ABORT;
      finish(outcome, System.nanoTime());
    }

    /** The whole request outlived the timeout: record it as {@code timeout} and close the stream. */
    synchronized void timedOut() {
      if (!finished) {
        finish(Outcome.TIMEOUT, System.nanoTime());
        if (subscription != null) {
          subscription.cancel();
        }
      }
    }

    // Synchronized with onNext: a timeout may fire while a delivery is being metered.
    synchronized void finish(Outcome broken, long now) {
      if (finished) {
        return;
      }
      finished = true;
      if (deadline != null) {
        deadline.cancel(false);
      }
      FinishedRequest f;
      if (record.meterOrNull() == null) {
        f = record.finishWithoutResponse(broken == null ? Outcome.UPSTREAM_ABORT : broken, 0, now);
      } else {
        f = record.finish(broken, now);
      }
      done.complete(new Result(f, gaps.toArray()));
    }
  }

  /** Collects gaps into a growable array (one per token-bearing event after the first). */
  private static final class GapCollector implements TokenGapListener {
    private long[] values = new long[64];
    private int size;

    @Override
    public void interTokenGap(long gapNanos) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = gapNanos;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  @Override
  public void close() {
    // HttpClient has no close() before Java 21; its threads are daemons and its connections idle out.
    timer.shutdownNow();
  }
}
