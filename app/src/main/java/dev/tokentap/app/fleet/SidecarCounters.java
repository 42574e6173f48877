package dev.tokentap.app.fleet;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's figures read from every sidecar's own {@code /metrics}: Σ over the sidecars that
 * answer of their counters' increase since the previous read, per second (production requests, and
 * staging's copies, good, missed and failed ones, and E2E seconds: the copies in flight by Little's
 * law). Not known (NaN, and no staging results) on the first read, and while any sidecar is new (it
 * has no previous counts).
 */
public final class SidecarCounters implements FleetReadings {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarCounters.class);

  private record Read(SidecarAdmin.Counts counts, long nanos) {}

  private final Map<SidecarAdmin, Read> last = new HashMap<>();

  @Override
  public synchronized Reading read(String target, List<SidecarAdmin> sidecars) throws InterruptedException {
    double[] sum = new double[6]; // per second: primary, copies, met, missed, errors, copy seconds
    boolean known = true;
    Map<SidecarAdmin, Read> now = new HashMap<>();
    for (SidecarAdmin s : sidecars) {
      try {
        Read reading = new Read(s.counts(target), System.nanoTime());
        now.put(s, reading);
        Read before = last.get(s);
        if (before == null) {
          known = false;
          continue;
        }
        double seconds = (reading.nanos() - before.nanos()) / 1e9;
        double[] a = values(reading.counts());
        double[] b = values(before.counts());
        for (int i = 0; i < sum.length; i++) {
          sum[i] += Math.max(0, a[i] - b[i]) / seconds;
        }
      } catch (IOException e) {
        LOG.warn("fleet shadow of {}: sidecar {} did not answer: {}", target, s, e.getMessage());
      }
    }
    last.clear();
    last.putAll(now);
    if (!known || now.isEmpty()) {
      return new Reading(Double.NaN, null);
    }
    double judged = sum[2] + sum[3];
    return new Reading(sum[0], new StagingResults(sum[1], sum[2], judged == 0 ? Double.NaN : sum[2] / judged, sum[4], sum[5]));
  }

  private static double[] values(SidecarAdmin.Counts c) {
    return new double[] {c.primary(), c.copies(), c.met(), c.missed(), c.errors(), c.copySeconds()};
  }

  @Override
  public String toString() {
    return "the sidecars' /metrics";
  }
}
