package dev.tokentap.app.fleet;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a staging target's share of a fleet's traffic: every {@code interval} it finds the
 * sidecars ({@link SidecarSource}: a static list, or pods from the Kubernetes API), reads the
 * fleet's figures ({@link FleetReadings}: each sidecar's production count when the share depends on
 * traffic, or Prometheus every round, with staging's results), works out the factor ({@link
 * FleetShare}) and sets it on each sidecar with a lease of {@code lease}. When the figures a share
 * needs cannot be read it keeps the last good factor, never a higher one. A sidecar that stops
 * hearing from it (the controller died, or the network went) returns to its configured factor when
 * the lease runs out; {@link #close} releases them at once.
 */
public final class FleetShadowController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FleetShadowController.class);

  /**
   * One reconciliation: the sidecars that took the factor, the fleet's production rate (NaN: not
   * read), the factor, and staging's results (null: not read).
   */
  public record Round(int sidecars, double fleetRate, double factor, StagingResults staging) {}

  private static final FleetReadings.Reading UNREAD = new FleetReadings.Reading(Double.NaN, null);

  private final SidecarSource source;
  private final java.util.Set<SidecarAdmin> held = new java.util.LinkedHashSet<>(); // took a lease: released on close
  private final String target;
  private FleetShare share; // guarded by this: a fleet ramp changes it between reconciliations
  private final Duration lease;
  private final FleetReadings readings;
  private final boolean readEveryRound; // readings given (Prometheus): read for staging's results too
  private ScheduledExecutorService scheduler;
  private volatile Round last;

  public FleetShadowController(List<SidecarAdmin> sidecars, String target, FleetShare share, Duration lease) {
    this(nonEmpty(sidecars), target, share, lease);
  }

  private static SidecarSource nonEmpty(List<SidecarAdmin> sidecars) {
    if (sidecars.isEmpty()) {
      throw new IllegalArgumentException("sidecars: none given (expected: at least one admin URL)");
    }
    return SidecarSource.of(sidecars);
  }

  public FleetShadowController(SidecarSource source, String target, FleetShare share, Duration lease) {
    this(source, null, target, share, lease);
  }

  /** With {@code readings} read every round; null: each sidecar's counters, read only when the share needs traffic. */
  public FleetShadowController(SidecarSource source, FleetReadings readings, String target, FleetShare share, Duration lease) {
    if (target == null || !target.matches("[A-Za-z0-9_.:-]{1,64}")) {
      throw new IllegalArgumentException("target: " + target + " (expected: the name of a shadow target on every sidecar)");
    }
    if (lease.isZero() || lease.isNegative() || lease.compareTo(Duration.ofHours(24)) > 0) {
      throw new IllegalArgumentException("lease: " + lease.toMillis() + "ms (expected: more than 0 and at most 24h, as the sidecars accept)");
    }
    this.source = source;
    this.target = target;
    this.share = share;
    this.lease = lease;
    this.readings = readings != null ? readings : new SidecarCounters();
    this.readEveryRound = readings != null;
  }

  /** Reconciles now and then every {@code interval}, which must leave room for two renewals per lease. */
  public synchronized void start(Duration interval) {
    if (interval.isZero() || interval.isNegative() || interval.multipliedBy(2).compareTo(lease) > 0) {
      throw new IllegalArgumentException("interval: " + interval.toMillis() + "ms (expected: more than 0 and at most half the lease, "
          + lease.toMillis() + "ms, so a lease is renewed at least twice before it runs out)");
    }
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tokentap-fleet-shadow");
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(this::reconcileQuietly, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Holds {@code next} from now on: set on every sidecar at once (a fleet ramp's step). */
  public synchronized Round share(FleetShare next) throws InterruptedException {
    this.share = next;
    return reconcile();
  }

  /** The last reconciliation, or null before the first. */
  public Round last() {
    return last;
  }

  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.warn("fleet shadow of {}: reconciliation failed", target, e);
    }
  }

  /** One round: read, work out, set. */
  public synchronized Round reconcile() throws InterruptedException {
    List<SidecarAdmin> sidecars = source.sidecars();
    FleetReadings.Reading reading = share.needsTraffic() || readEveryRound ? read(sidecars) : UNREAD;
    double fleetRate = reading.productionRate();
    double factor = share.factor(sidecars.size(), fleetRate);
    if (Double.isNaN(factor) && !sidecars.isEmpty() && last != null && last.factor() >= 0) {
      LOG.info("fleet shadow of {}: no traffic figures this round; keeping factor {}", target, last.factor());
      factor = last.factor(); // the last good one: missing data never raises a factor
    } else if (Double.isNaN(factor)) {
      LOG.info(sidecars.isEmpty() ? "fleet shadow of {}: no sidecars found ({})" : "fleet shadow of {}: waiting for traffic figures from the sidecars ({})",
          target, source);
      return last = new Round(0, fleetRate, Double.NaN, reading.staging());
    }
    int set = 0;
    for (SidecarAdmin s : sidecars) {
      try {
        s.lease(target, factor, lease);
        held.add(s);
        set++;
      } catch (java.io.IOException e) {
        LOG.warn("fleet shadow of {}: sidecar {} did not take factor {}: {}", target, s, factor, e.getMessage());
      }
    }
    if (!share.needsTraffic() && set > 0 && set < sidecars.size()) {
      // k/N over the sidecars that took it: those that did not run their configured factor instead
      double corrected = share.factor(set, fleetRate);
      if (corrected != factor) {
        factor = corrected;
        for (SidecarAdmin s : sidecars) {
          try {
            s.lease(target, factor, lease);
          } catch (java.io.IOException e) {
            // already said
          }
        }
      }
    }
    Round round = new Round(set, fleetRate, factor, reading.staging());
    if (last == null || last.sidecars() != set || Math.abs(last.factor() - factor) > 1e-9) {
      LOG.info("fleet shadow of {}: {} of {} sidecars at factor {} for {} (lease {}s){}", target, set, sidecars.size(),
          Math.round(factor * 1e4) / 1e4, share, lease.toMillis() / 1000.0,
          Double.isNaN(fleetRate) ? "" : String.format(", fleet at %.2f requests/s", fleetRate));
    }
    if (reading.staging() != null) {
      LOG.info("fleet shadow of {}: staging at {} ({} replicas' worth of production load)", target, reading.staging(),
          Math.round(reading.staging().requestRate() / (fleetRate / sidecars.size()) * 100) / 100.0);
    }
    return last = round;
  }

  private FleetReadings.Reading read(List<SidecarAdmin> sidecars) throws InterruptedException {
    try {
      return readings.read(target, sidecars);
    } catch (java.io.IOException e) {
      LOG.warn("fleet shadow of {}: cannot read the fleet's figures: {}", target, e.getMessage());
      return UNREAD;
    }
  }

  /** Stops reconciling and leaves the leases to run out: what a controller that dies does. */
  public synchronized void abandon() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /** Stops reconciling and releases every sidecar to its configured factor. */
  @Override
  public synchronized void close() {
    abandon();
    for (SidecarAdmin s : held) {
      try {
        s.release(target);
      } catch (java.io.IOException e) {
        LOG.warn("fleet shadow of {}: sidecar {} not released ({}); its lease runs out within {}s", target, s, e.getMessage(),
            lease.toMillis() / 1000.0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    held.clear(); // released once: a second close (a shutdown hook after a normal end) asks nothing
  }
}
