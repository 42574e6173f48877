package dev.tokentap.app.fleet;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.shadow.RampSteps;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shadow ramp over a whole fleet: {@link RampSteps} steps staging's load through fleet-relative
 * factors (K replicas' worth of production load: each sidecar at K/N, held on leases by a {@link
 * FleetShadowController}) and judges each step on staging's fleet-wide results over its hold
 * ({@link FleetReadings}: Prometheus, or the sidecars' own counters). The knee is reported in
 * replicas' worth (the highest passing K) and in staging's copies in flight there (Little's law).
 * Figures that cannot be read fail the step: the ramp stops rather than raise the load blind. At
 * the end every sidecar is released to its configured factor.
 */
public final class FleetRamp implements RampSteps.Stage, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FleetRamp.class);

  private final SidecarSource source;
  private final FleetReadings readings;
  private final FleetShadowController controller;
  private final RampSteps steps;
  private final ScheduledExecutorService scheduler;
  private final double maxFactor;
  private final Duration interval;
  private final CountDownLatch ended = new CountDownLatch(1);

  public FleetRamp(SidecarSource source, FleetReadings readings, RampSteps.Plan plan, double maxFactor, Duration lease, Duration interval) {
    this.source = source;
    this.readings = readings;
    this.maxFactor = maxFactor;
    this.interval = interval;
    this.controller = new FleetShadowController(source, plan.target(), share(plan.factors().get(0)), lease);
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tokentap-fleet-ramp");
      t.setDaemon(true);
      return t;
    });
    this.steps = new RampSteps(plan, this, scheduler);
  }

  private FleetShare share(double replicas) {
    return new FleetShare(FleetShare.Kind.REPLICAS, replicas, maxFactor);
  }

  /** Starts the ramp: the leases renewed every interval (at most half the lease, or IllegalArgumentException), the first step at once. */
  public void start() {
    controller.start(interval);
    steps.start();
  }

  /** Waits until the ramp ends (knee, no knee or cancelled); returns its steps and knee. */
  public ObjectNode await() throws InterruptedException {
    ended.await();
    return json();
  }

  public RampSteps.State state() {
    return steps.state();
  }

  /** The plan, the steps, and once it ended the knee; factors are in replicas' worth of production load. */
  public ObjectNode json() {
    ObjectNode root = steps.json((i, step) -> {});
    root.put("factors_in", "replicas' worth of production load (each sidecar at K/N)");
    root.put("readings", readings.toString());
    return root;
  }

  @Override
  public void factor(double replicas) {
    try {
      controller.share(share(replicas));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void holdStarted() {
    read(); // where the sidecars' counters start from; Prometheus keeps its own
  }

  @Override
  public RampSteps.Step measure(double replicas, double seconds) {
    StagingResults staging = read();
    if (staging == null) {
      LOG.warn("fleet ramp of {}: no staging results for the step at {} replicas' worth; the step fails and the ramp stops", steps.plan().target(), replicas);
      return steps.plan().judge(replicas, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    double rate = staging.requestRate();
    return steps.plan().judge(replicas, (int) Math.round(rate * seconds), rate, staging.inFlight(), staging.attainment(),
        rate > 0 ? staging.errorRate() / rate : Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }

  private StagingResults read() {
    try {
      return readings.read(steps.plan().target(), source.sidecars()).staging();
    } catch (IOException e) {
      LOG.warn("fleet ramp of {}: cannot read staging's results: {}", steps.plan().target(), e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  @Override
  public void restore() {
    controller.close(); // every sidecar back to its configured factor
    ended.countDown();
  }

  /** Cancels a running ramp (its sidecars released) and stops its threads. */
  @Override
  public void close() {
    steps.cancel();
    controller.close();
    scheduler.shutdownNow();
  }
}
