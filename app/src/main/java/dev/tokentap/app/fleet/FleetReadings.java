package dev.tokentap.app.fleet;

import java.io.IOException;
import java.util.List;

/**
 * Where the fleet controller reads the fleet's figures: each sidecar's {@code /metrics}
 * ({@link SidecarCounters}, the default) or Prometheus ({@link FleetPrometheus}, which scrapes
 * them already).
 */
public interface FleetReadings {
  /** The fleet's production requests/s (NaN: not known yet), and staging's results (null: not known yet). */
  record Reading(double productionRate, StagingResults staging) {}

  /**
   * Reads the figures for shadow target {@code target} of {@code sidecars}; an IOException says why
   * they cannot be read (a source unreachable, or nothing to read), so the caller can keep what it
   * had.
   */
  Reading read(String target, List<SidecarAdmin> sidecars) throws IOException, InterruptedException;
}
