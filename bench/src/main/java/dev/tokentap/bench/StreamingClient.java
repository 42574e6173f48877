package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.ConnectionPools;
import dev.tokentap.proxy.client.MeteredCall;
import dev.tokentap.proxy.client.TlsContexts;
import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecord;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.relay.Transports;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.TrustManager;

/**
 * Sends one streaming request and meters its response as the bytes arrive: each socket read is
 * stamped with {@link System#nanoTime()} once, before the HTTP decoder sees it, and the body bytes
 * it carries are fed to the {@link StreamMeter} of a {@link RequestRecord} ({@link Role#BENCH}),
 * the same record the proxy keeps, so every number has the proxy's definition. The record's clock
 * starts at the caller's {@code startNanos}: the intended send time on open-loop schedules.
 *
 * <p>The record's meter also hands each inter-token gap to the request's own collector, for the
 * report's per-gap ITL: one meter per response.
 *
 * <p>Netty, HTTP/1.1, on the proxy's own upstream client ({@code dev.tokentap.proxy.client}, the
 * relay's and the shadow engine's too): requests are spread over the event loops in turn, and each
 * loop keeps its own keep-alive connections ({@link ConnectionPool}, unbounded: the load decides what
 * is in flight), one per request in flight on it. A request ({@link MeteredCall}) lives on its
 * connection's loop from start to end (timeout included), so the record is confined to one thread.
 * A request still running {@code requestTimeout} after it was sent (head and body together) is
 * recorded as {@code timeout} and its connection closed. The future completes on the event loop:
 * callers hand any real work to their own threads.
 *
 * <p>Several targets ({@code --target} given more than once) share the event loops; each has its own
 * pools, and a {@link TargetPolicy} picks one per request. A request may be {@linkplain
 * MeteredCall#cancelAfter cancelled} after a delay ({@code --cancel}).
 *
 * <pre>
 *   socket → [tls] → ReadClock → UpstreamHttpCodec → ResponseDispatcher → MeteredCall (meter, future)
 * </pre>
 */
public final class StreamingClient implements AutoCloseable {
  private static final long CONNECT_TIMEOUT_MILLIS = 10_000;

  private final RequestRecorder recorder;
  private final String target;
  private final MeteredCall.Timeouts timeouts;
  private final EventLoopGroup group;
  private final Endpoint[] endpoints;
  private final TargetPolicy policy;
  /** Requests in flight per endpoint; read by {@link TargetPolicy#LEAST_IN_FLIGHT}. */
  private final AtomicInteger[] inFlight;
  private final AtomicLong turns = new AtomicLong();

  /** One {@code --target}: its base path, Host header and connections. */
  private record Endpoint(String pathPrefix, String hostHeader, ConnectionPools pools) {}

  /** One event loop per available processor, the JVM's default trust for https. */
  public StreamingClient(URI base, RequestRecorder recorder, String target, Duration requestTimeout) {
    this(List.of(base), TargetPolicy.ROUND_ROBIN, recorder, target, requestTimeout);
  }

  /** Requests spread over {@code bases} as {@code policy} says. */
  public StreamingClient(List<URI> bases, TargetPolicy policy, RequestRecorder recorder, String target, Duration requestTimeout) {
    this(bases, policy, recorder, target, requestTimeout, Runtime.getRuntime().availableProcessors(), null);
  }

  StreamingClient(URI base, RequestRecorder recorder, String target, Duration requestTimeout, int ioThreads, TrustManager trust) {
    this(List.of(base), TargetPolicy.ROUND_ROBIN, recorder, target, requestTimeout, ioThreads, trust);
  }

  /**
   * @param ioThreads event loops (at least 1)
   * @param trust for https: the certificates to trust; null for the JVM's default trust store
   */
  StreamingClient(List<URI> bases, TargetPolicy policy, RequestRecorder recorder, String target, Duration requestTimeout,
      int ioThreads, TrustManager trust) {
    if (bases.isEmpty()) {
      throw new IllegalArgumentException("bases: none (expected: at least one --target)");
    }
    this.policy = requireNonNull(policy, "policy");
    this.recorder = requireNonNull(recorder, "recorder");
    this.target = requireNonNull(target, "target");
    this.timeouts = new MeteredCall.Timeouts(null, null, requireNonNull(requestTimeout, "requestTimeout"));
    if (ioThreads < 1) {
      throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: >= 1)");
    }
    this.group = Transports.newGroup(ioThreads, "bench-client");
    this.endpoints = new Endpoint[bases.size()];
    this.inFlight = new AtomicInteger[bases.size()];
    for (int i = 0; i < endpoints.length; i++) {
      URI base = requireNonNull(bases.get(i), "base");
      UpstreamUri upstream = UpstreamUri.parse(base.toString());
      endpoints[i] = new Endpoint(base.getRawPath() == null ? "" : base.getRawPath(), base.getRawAuthority(),
          new ConnectionPools(upstream, TlsContexts.forUpstream(upstream, trust),
              ConnectionPool.Limits.unbounded(Duration.ofMillis(CONNECT_TIMEOUT_MILLIS))));
      inFlight[i] = new AtomicInteger();
    }
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
   * request, never exceptionally, on one of the client's event loops.
   */
  public CompletableFuture<Result> send(BenchRequest request, long startNanos) {
    return send(request, startNanos, null);
  }

  /** As {@link #send(BenchRequest, long)}, abandoned {@code cancelAfter} after the hand-off unless done by then (null: never). */
  public CompletableFuture<Result> send(BenchRequest request, long startNanos, Duration cancelAfter) {
    int t = policy.pick(inFlight, turns.getAndIncrement());
    Endpoint endpoint = endpoints[t];
    inFlight[t].incrementAndGet();
    RequestRecord record = recorder.start(Role.BENCH, target, startNanos);
    record.describe("POST", request.route(), request.model());
    record.requestBodyRead(startNanos, request.body().length);
    CompletableFuture<Result> done = new CompletableFuture<>();
    GapCollector gaps = new GapCollector();
    MeteredCall call = new MeteredCall(endpoint.pools().of(group.next()), record, false, gaps, timeouts,
        (finished, completed, cause) -> {
          inFlight[t].decrementAndGet();
          done.complete(new Result(finished, gaps.toArray(), t));
        });
    if (cancelAfter != null) {
      call.cancelAfter(cancelAfter);
    }
    call.send(() -> httpRequest(endpoint, request));
    return done;
  }

  /** How many targets the requests are spread over. */
  public int targets() {
    return endpoints.length;
  }

  /**
   * A finished request, its ITL gaps and the target it went to.
   *
   * @param target the index of its {@code --target}, in the order given
   */
  public record Result(FinishedRequest record, long[] itlGapsNanos, int target) {}

  private static FullHttpRequest httpRequest(Endpoint endpoint, BenchRequest request) {
    byte[] body = request.body();
    FullHttpRequest r = new DefaultFullHttpRequest(
        HttpVersion.HTTP_1_1, HttpMethod.POST, endpoint.pathPrefix() + request.path(), Unpooled.wrappedBuffer(body));
    r.headers()
        .set(HttpHeaderNames.HOST, endpoint.hostHeader())
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .set(HttpHeaderNames.ACCEPT, "text/event-stream")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    request.headers().forEach(r.headers()::set);
    return r;
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
    // Open connections close with the loops; an exchange still running ends as upstream_abort.
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
