package dev.tokentap.app;

import dev.tokentap.app.fleet.FleetRamp;
import dev.tokentap.shadow.RampSteps;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tokentap fleet ramp (--sidecar URL... | --selector LABELS) --target NAME [--factors 0.5,1,2,4]}: a shadow
 * ramp over the whole fleet, in replicas' worth of production load, judged on staging's fleet-wide
 * SLO attainment; prints the steps and the knee as JSON (docs/shadow.md, "From a fleet").
 */
@Command(name = "ramp", mixinStandardHelpOptions = true,
    description = "Ramp a staging target through fleet-relative factors (K replicas' worth of production load) until a step misses the SLO goal; print the steps and the knee as JSON.")
final class FleetRampCommand implements Callable<Integer> {
  @Mixin
  FleetOptions fleet;

  @Option(names = "--factors", paramLabel = "K,...", defaultValue = "0.5,1,1.5,2,3,4",
      description = "the steps, ascending, in replicas' worth of production load (default ${DEFAULT-VALUE})")
  String factors;

  @Option(names = "--warmup", defaultValue = "30s", description = "each step's warm-up before it is measured (default ${DEFAULT-VALUE})")
  String warmup;

  @Option(names = "--hold", defaultValue = "60s", description = "each step's measured time; with --prometheus at least --prometheus-window (default ${DEFAULT-VALUE})")
  String hold;

  @Option(names = "--attainment", defaultValue = "0.9", description = "a step passes when at least this share of staging's judged copies met every SLO (default ${DEFAULT-VALUE})")
  double attainment;

  @Option(names = "--min-requests", defaultValue = "20", description = "... and at least this many copies finished in its hold (default ${DEFAULT-VALUE})")
  int minRequests;

  @Override
  public Integer call() throws Exception {
    try (FleetRamp ramp = ramp(System.getenv(FleetOptions.TOKEN_ENV))) {
      ramp.start(); // checks the interval against the lease first
      Runtime.getRuntime().addShutdownHook(new Thread(ramp::close, "fleet-ramp-shutdown")); // cancelled: every sidecar released
      System.err.printf("tokentap fleet ramp: %s from %s at %s replicas' worth, warm-up %s, hold %s, judged on %s%n",
          fleet.target, fleet.fleetName(), factors, warmup, hold, fleet.prometheus != null ? "Prometheus at " + fleet.prometheus : "the sidecars' /metrics");
      System.out.println(ramp.await().toPrettyString());
    }
    return 0;
  }

  FleetRamp ramp(String envToken) throws java.io.IOException {
    if (!(attainment > 0 && attainment <= 1)) {
      throw new IllegalArgumentException("--attainment: " + attainment + " (expected: more than 0 and at most 1)");
    }
    if (minRequests < 1) {
      throw new IllegalArgumentException("--min-requests: " + minRequests + " (expected: at least 1)");
    }
    Duration holdTime = FleetOptions.duration("--hold", hold);
    if (fleet.prometheus != null && holdTime.compareTo(fleet.prometheusWindow()) < 0) {
      throw new IllegalArgumentException("--hold: " + hold + " (expected: at least --prometheus-window, " + fleet.prometheusWindow
          + ", so a step is judged on its own hold only)");
    }
    RampSteps.Plan plan = new RampSteps.Plan(fleet.target, RampSteps.parseFactors(factors), FleetOptions.duration("--warmup", warmup), holdTime,
        attainment, minRequests);
    return new FleetRamp(fleet.sidecars(envToken), fleet.readings(), plan, fleet.maxFactor, fleet.lease(), fleet.interval());
  }
}
