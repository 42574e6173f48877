package dev.tokentap.app.fleet;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's production rate read from every sidecar's own {@code /metrics}: Σ over the sidecars
 * that answer of their production requests since the previous read, per second. NaN on the first
 * read, and while any sidecar is new (it has no previous count). Has no staging results.
 */
public final class SidecarCounters implements FleetReadings {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarCounters.class);

  private final Map<SidecarAdmin, double[]> lastCount = new HashMap<>(); // {requests, nanos}

  @Override
  public synchronized Reading read(String target, List<SidecarAdmin> sidecars) throws InterruptedException {
    double sum = 0;
    boolean known = true;
    Map<SidecarAdmin, double[]> now = new HashMap<>();
    for (SidecarAdmin s : sidecars) {
      try {
        double count = s.primaryRequests();
        double[] before = lastCount.get(s);
        double[] reading = {count, System.nanoTime()};
        now.put(s, reading);
        if (before == null) {
          known = false;
        } else {
          sum += Math.max(0, count - before[0]) / ((reading[1] - before[1]) / 1e9);
        }
      } catch (IOException e) {
        LOG.warn("fleet shadow of {}: sidecar {} did not answer: {}", target, s, e.getMessage());
      }
    }
    lastCount.clear();
    lastCount.putAll(now);
    return new Reading(known && !now.isEmpty() ? sum : Double.NaN, null);
  }

  @Override
  public String toString() {
    return "the sidecars' /metrics";
  }
}
