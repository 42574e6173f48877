package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.proxy.config.ShadowTarget;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.ConnectionPools;
import dev.tokentap.proxy.client.TlsContexts;
import dev.tokentap.proxy.relay.Transports;
import dev.tokentap.proxy.tap.TappedRequest;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;

/**
 * Everything one staging target owns, never shared with production or another target: its event
 * loops and connection pools, a bounded queue of copies waiting to leave, and a Resilience4j
 * rate limiter, circuit breaker and bulkhead named after it. None of them ever waits: a copy that
 * cannot go at once is dropped and counted.
 *
 * <pre>
 *  client loop: offer ─ filter ─ sample (k copies) ─ body ≤ max-body? ─ queue slot? ─┐
 *  target loop: after the copy's delay ─ rate limiter ─ breaker ─ bulkhead ─ StagingExchange
 *               every copy ends in exactly one result of tokentap_shadow_copies_total
 * </pre>
 */
final class StagingTarget implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ShadowTarget settings;
  private final RequestRecorder recorder;
  private final ShadowRequestRewriter rewriter;
  private final CopyPlanner planner;
  private final RandomGenerator random; // java.util.Random: safe to share between client loops
  private final EventLoopGroup group;
  // One pool per target loop, used only from that loop; unbounded, as the bulkhead bounds the copies open at once.
  private final ConnectionPools pools;
  private final AtomicInteger queued = new AtomicInteger();
  private final RateLimiter rateLimiter; // null: no limit
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final Map<CopyResult, Counter> counters = new EnumMap<>(CopyResult.class);

  StagingTarget(ShadowTarget settings, RequestRecorder recorder, RandomGenerator random) {
    this.settings = settings;
    this.recorder = recorder;
    this.rewriter = new ShadowRequestRewriter(settings);
    this.planner = new CopyPlanner(settings.factor(), settings.spreadWindow().toNanos());
    this.random = random;
    String name = settings.name();
    this.pools = new ConnectionPools(settings.upstream(),
        TlsContexts.forUpstream(settings.upstream(), settings.tls(), "tokentap.shadow.targets[name=" + name + "].tls"),
        ConnectionPool.Limits.unbounded(settings.connectTimeout()));
    this.bulkhead =
        Bulkhead.of("shadow-" + name, BulkheadConfig.custom().maxConcurrentCalls(settings.maxConcurrentStreams()).maxWaitDuration(Duration.ZERO).build());
    ShadowTarget.Breaker b = settings.circuitBreaker();
    this.breaker =
        CircuitBreaker.of("shadow-" + name,
            CircuitBreakerConfig.custom()
                .failureRateThreshold(b.failureRateThreshold())
                .slidingWindowSize(b.slidingWindow())
                .minimumNumberOfCalls(b.minimumCalls())
                .waitDurationInOpenState(b.openDuration())
                .permittedNumberOfCallsInHalfOpenState(Math.max(1, Math.min(b.minimumCalls(), 5)))
                .build());
    this.rateLimiter = settings.maxRate() > 0 ? rateLimiter("shadow-" + name, settings.maxRate()) : null;
    for (CopyResult r : CopyResult.values()) {
      counters.put(r, recorder.metrics().shadowCopies(name, r.label));
    }
    recorder.metrics().registerInFlight(name, Role.SHADOW);
    var registry = recorder.metrics().registry();
    Gauge.builder("tokentap.shadow.factor", this, StagingTarget::factor)
        .description("Shadow copies planned per production request for this target, as configured now (GET/PUT /admin/shadow)")
        .tag("target", name)
        .register(registry);
    for (CircuitBreaker.State state : List.of(CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN)) {
      Gauge.builder("tokentap.shadow.circuit.breaker.state", breaker, cb -> cb.getState() == state ? 1 : 0)
          .description("1 for the state this target's circuit breaker is in (closed, open, half_open), 0 for the others")
          .tags("target", name, "state", state.name().toLowerCase(java.util.Locale.ROOT))
          .register(registry);
    }
    this.group = Transports.newGroup(settings.ioThreads(), "tokentap-shadow-" + name);
  }

  private static RateLimiter rateLimiter(String name, double perSecond) {
    // Whole permits per refresh period: ceil(rate) permits every ceil(rate)/rate seconds.
    int permits = (int) Math.ceil(perSecond);
    long periodNanos = Math.max(1, Math.round(permits / perSecond * 1e9));
    return RateLimiter.of(name,
        RateLimiterConfig.custom().limitForPeriod(permits).limitRefreshPeriod(Duration.ofNanos(periodNanos)).timeoutDuration(Duration.ZERO).build());
  }

  // ---------------------------------------------------------------- on a client event loop

  /**
   * Plans this request's copies and queues them; returns at once, never blocks. With a {@code pair},
   * the first copy's output is its side for this target.
   */
  void offer(TappedRequest r, OutputPair pair) {
    if (!matches(r)) {
      return;
    }
    int copies = planner.copies(samplingNumber(r));
    if (copies == 0) {
      return;
    }
    if (r.body() == null || r.body().length > settings.maxBody()) {
      counters.get(CopyResult.SKIPPED_BODY_TOO_LARGE).increment(copies);
      return;
    }
    for (int copy = 1; copy <= copies; copy++) {
      SideOutput side = copy == 1 && pair != null ? pair.expect(name()) : null;
      if (queued.incrementAndGet() > settings.queueSize()) {
        queued.decrementAndGet();
        counters.get(CopyResult.DROPPED_QUEUE_FULL).increment();
        notSent(side);
        continue;
      }
      long delay = planner.delayNanos(copy, random);
      EventLoop loop = group.next();
      int c = copy;
      int n = copies;
      try {
        if (delay == 0) {
          loop.execute(() -> dispatch(loop, r, c, n, side));
        } else {
          loop.schedule(() -> dispatch(loop, r, c, n, side), delay, TimeUnit.NANOSECONDS);
        }
      } catch (RejectedExecutionException e) {
        queued.decrementAndGet(); // shutting down
        counters.get(CopyResult.FAILED).increment();
        notSent(side);
      }
    }
  }

  /** A request too large for the proxy to read whole: its copies are counted, never sent. */
  void offerTooLarge(TappedRequest r) {
    if (matches(r)) {
      int copies = planner.copies(random.nextDouble());
      if (copies > 0) {
        counters.get(CopyResult.SKIPPED_BODY_TOO_LARGE).increment(copies);
      }
    }
  }

  private static void notSent(SideOutput side) {
    if (side != null) {
      side.notSent();
    }
  }

  boolean matches(TappedRequest r) {
    boolean route = settings.routes().contains("*") || settings.routes().contains(r.route().label());
    boolean model = settings.models().contains("*") || (r.model() != null && settings.models().contains(r.model()));
    return route && model;
  }

  private double samplingNumber(TappedRequest r) {
    ShadowTarget.SampleKey key = settings.sampleBy();
    if (key != null) {
      String value = key.header() ? header(r, key.name()) : jsonField(r.body(), key.name());
      if (value != null) {
        return CopyPlanner.unitOf(value);
      }
    }
    return random.nextDouble();
  }

  private static String header(TappedRequest r, String name) {
    for (Map.Entry<String, String> e : r.headers()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  private static String jsonField(byte[] body, String field) {
    if (body == null) {
      return null;
    }
    try {
      JsonNode v = JSON.readTree(body).get(field);
      return v == null || v.isNull() ? null : v.isTextual() ? v.asText() : v.toString();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- on a target event loop

  /** {@code side}: the output of a compared pair's first copy, or null. */
  private void dispatch(EventLoop loop, TappedRequest r, int copy, int copies, SideOutput side) {
    queued.decrementAndGet();
    if (rateLimiter != null && !rateLimiter.acquirePermission()) {
      counters.get(CopyResult.DROPPED_RATE_LIMIT).increment();
      notSent(side);
      return;
    }
    if (!breaker.tryAcquirePermission()) {
      counters.get(CopyResult.DROPPED_CIRCUIT_OPEN).increment();
      notSent(side);
      return;
    }
    if (!bulkhead.tryAcquirePermission()) {
      breaker.releasePermission();
      counters.get(CopyResult.DROPPED_BULKHEAD).increment();
      notSent(side);
      return;
    }
    try {
      StagingExchange.send(this, loop, r, copy, copies, side);
    } catch (RuntimeException e) {
      copyEnded(CopyResult.FAILED, true, 0, e);
      notSent(side); // unless its record ended first: a side ends once
    }
  }

  /** Exactly once per copy that passed the guards. */
  void copyEnded(CopyResult result, boolean stagingFailed, long durationNanos, Throwable cause) {
    bulkhead.onComplete();
    if (stagingFailed) {
      breaker.onError(durationNanos, TimeUnit.NANOSECONDS, cause != null ? cause : new IOException("staging failed"));
    } else {
      breaker.onSuccess(durationNanos, TimeUnit.NANOSECONDS);
    }
    counters.get(result).increment();
  }

  ConnectionPool pool(EventLoop loop) {
    return pools.of(loop);
  }

  RequestRecorder recorder() {
    return recorder;
  }

  ShadowRequestRewriter rewriter() {
    return rewriter;
  }

  ShadowTarget settings() {
    return settings;
  }

  String name() {
    return settings.name();
  }

  double factor() {
    return planner.factor();
  }

  /** Takes effect for the next production request. */
  void factor(double factor) {
    planner.factor(factor);
  }

  CircuitBreaker.State breakerState() {
    return breaker.getState();
  }

  @Override
  public void close() {
    pools.closeIdle();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    // Copies still waiting out their spread delay never leave; like those offered while shutting
    // down, they are counted failed, so every planned copy has a result.
    int pending = queued.getAndSet(0);
    if (pending > 0) {
      counters.get(CopyResult.FAILED).increment(pending);
    }
  }
}
