package dev.tokentap.app;

import dev.tokentap.app.fleet.FleetShadowController;
import dev.tokentap.app.fleet.FleetShare;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tokentap fleet shadow (--sidecar URL... | --selector LABELS) --target NAME --replicas K}: holds a staging
 * target's share of a fleet's traffic, as fleet-relative factors on leases, until stopped
 * (docs/shadow.md, "From a fleet").
 */
@Command(name = "shadow", mixinStandardHelpOptions = true,
    description = "Hold a staging target's share of the fleet's traffic: each sidecar's factor set on a lease, renewed every interval, released on exit.")
final class FleetShadowCommand implements Callable<Integer> {
  @Mixin
  FleetOptions fleet;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Share share;

  static final class Share {
    @Option(names = "--replicas", paramLabel = "K", description = "staging gets K times the load of one average production replica (each sidecar's factor K/N)")
    Double replicas;

    @Option(names = "--fleet", paramLabel = "K", description = "staging gets K times the whole fleet's load (each sidecar's factor K)")
    Double fleet;

    @Option(names = "--rate", paramLabel = "R",
        description = "staging gets R requests/s (each sidecar's factor R / the fleet's rate, read from their /metrics, or from --prometheus)")
    Double rate;
  }

  @Override
  public Integer call() throws Exception {
    FleetShadowController controller = controller(System.getenv(FleetOptions.TOKEN_ENV));
    controller.start(fleet.interval()); // checks the interval against the lease first
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      controller.close(); // releases every sidecar at once; a killed controller leaves the leases to run out
      stopped.countDown();
    }, "fleet-shadow-shutdown"));
    System.err.printf("tokentap fleet shadow: %s to %s from %s, renewed every %s on leases of %s%n",
        shareOf(), fleet.target, fleet.fleetName(), fleet.interval, fleet.lease);
    if (fleet.prometheus != null) {
      System.err.printf("tokentap fleet shadow: the fleet's figures from Prometheus at %s {%s} over %s%n", fleet.prometheus, fleet.prometheusSelector, fleet.prometheusWindow);
    }
    stopped.await();
    return 0;
  }

  FleetShadowController controller(String envToken) throws IOException {
    var readings = fleet.prometheus(); // null: each sidecar's counters, when the share needs traffic
    return new FleetShadowController(fleet.sidecars(envToken), readings, fleet.target, shareOf(), fleet.lease());
  }

  private FleetShare shareOf() {
    if (share.replicas != null) {
      return new FleetShare(FleetShare.Kind.REPLICAS, share.replicas, fleet.maxFactor);
    }
    if (share.fleet != null) {
      return new FleetShare(FleetShare.Kind.FLEET, share.fleet, fleet.maxFactor);
    }
    return new FleetShare(FleetShare.Kind.RATE, share.rate, fleet.maxFactor);
  }
}
