package dev.tokentap.app.fleet;

/**
 * A staging target's results summed over every sidecar shadowing it (the {@code role="shadow"}
 * series of that target): finished copies per second, good ones per second ({@code slo="met"}),
 * SLO attainment (met among met and missed, DistServe's definition, as the shadow ramp judges a
 * step; NaN when none was judged), failed ones per second (outcome error, upstream_abort, timeout or
 * rejected) and the mean copies in flight (Little's law: Σ E2E seconds per second).
 */
public record StagingResults(double requestRate, double goodput, double attainment, double errorRate, double inFlight) {
  @Override
  public String toString() {
    return String.format("%.2f requests/s, %.1f%% within SLO, %.2f errors/s, %.1f in flight", requestRate,
        attainment * 100, errorRate, inFlight);
  }
}
