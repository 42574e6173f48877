package dev.tokentap.shadow;

import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Factors on a lease: a factor set with a time to live ({@code PUT /admin/shadow?...&ttl=30s}) holds
 * until the lease runs out unless whoever set it renews it (sets it again with a ttl). When it runs
 * out, the target returns to its configured factor by itself, says so in a log line and counts it in
 * {@code tokentap_shadow_factor_lease_expired_total{target}}: a controller that dies or loses the
 * network never leaves staging amplified. A factor set without a ttl ends any lease and holds.
 */
final class FactorLeases implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FactorLeases.class);
  /** The longest lease: a controller renews far more often than this. */
  static final Duration MAX_TTL = Duration.ofHours(24);

  private record Lease(double factor, long expiresAtNanos, ScheduledFuture<?> expiry) {}

  private final Map<String, Counter> expired = new HashMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  private ScheduledExecutorService scheduler; // started with the first lease

  FactorLeases(Iterable<StagingTarget> targets) {
    for (StagingTarget t : targets) {
      expired.put(t.name(), t.recorder().metrics().shadowFactorLeaseExpired(t.name()));
    }
  }

  /** Sets {@code target}'s factor; with a {@code ttl} on a lease that replaces any earlier one, without it for good. */
  synchronized void set(StagingTarget target, double factor, Duration ttl) {
    Lease old = leases.remove(target.name());
    if (old != null) {
      old.expiry().cancel(false);
    }
    target.factor(factor);
    if (ttl != null) {
      Lease[] lease = new Lease[1];
      lease[0] = new Lease(factor, System.nanoTime() + ttl.toNanos(),
          scheduler().schedule(() -> expire(target, lease[0]), ttl.toNanos(), TimeUnit.NANOSECONDS));
      leases.put(target.name(), lease[0]);
    }
  }

  /** Ends {@code target}'s lease, if any, and puts back its configured factor. */
  synchronized void release(StagingTarget target) {
    set(target, target.settings().factor(), null);
  }

  /** Whether a lease holds {@code target}'s factor now. */
  synchronized boolean held(String target) {
    return leases.containsKey(target);
  }

  /** Seconds left on {@code target}'s lease, or NaN without one. */
  synchronized double secondsLeft(String target) {
    Lease l = leases.get(target);
    return l == null ? Double.NaN : Math.max(0, l.expiresAtNanos() - System.nanoTime()) / 1e9;
  }

  private synchronized void expire(StagingTarget target, Lease lease) {
    if (leases.get(target.name()) != lease) {
      return; // renewed or released meanwhile
    }
    leases.remove(target.name());
    double configured = target.settings().factor();
    target.factor(configured);
    expired.get(target.name()).increment();
    LOG.warn("shadow target {}: the lease on factor {} ran out without renewal; back to the configured factor {}", target.name(),
        lease.factor(), configured);
  }

  private ScheduledExecutorService scheduler() {
    if (scheduler == null) {
      scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tokentap-shadow-leases");
        t.setDaemon(true);
        return t;
      });
    }
    return scheduler;
  }

  /** A lease's time to live as given to the admin API: more than 0, at most {@link #MAX_TTL}. */
  static Duration parseTtl(String text) {
    Duration d;
    try {
      d = ShadowComparison.parseDuration(text);
    } catch (IllegalArgumentException e) {
      d = null;
    }
    if (d == null || d.isZero() || d.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl: " + text + " (expected: a duration such as 30s or 2m, more than 0 and at most 24h)");
    }
    return d;
  }

  @Override
  public synchronized void close() {
    leases.values().forEach(l -> l.expiry().cancel(false));
    leases.clear();
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }
}
