package dev.tokentap.app.fleet;

import java.util.Locale;

/**
 * What staging should receive from a fleet of sidecars, and each sidecar's factor for it: a pure
 * function of the number of sidecars and their traffic, so it is tested without sockets.
 *
 * <ul>
 *   <li>{@code replicas=k}: k times the load of one average production replica. Every sidecar gets
 *       {@code k / N}: staging receives {@code Σ (k/N)·λᵢ = k · mean λ}, whatever the spread.
 *   <li>{@code fleet=k}: k times the whole fleet's load; every sidecar gets {@code k}.
 *   <li>{@code rate=r}: r requests per second; every sidecar gets {@code r / Σ λᵢ}, from the traffic
 *       the sidecars report, at most {@code maxFactor} (a quiet fleet is not amplified without bound).
 * </ul>
 */
public record FleetShare(Kind kind, double amount, double maxFactor) {
  public enum Kind { REPLICAS, FLEET, RATE }

  public FleetShare {
    if (!(amount >= 0) || Double.isInfinite(amount)) {
      throw new IllegalArgumentException(kind.name().toLowerCase(Locale.ROOT) + ": " + amount + " (expected: a number >= 0)");
    }
    if (!(maxFactor > 0) || Double.isInfinite(maxFactor)) {
      throw new IllegalArgumentException("max-factor: " + maxFactor + " (expected: a number > 0)");
    }
  }

  /**
   * The factor every one of {@code sidecars} sidecars should run, with {@code fleetRate} production
   * requests per second among them (NaN when unknown); NaN when it cannot be said yet (a rate
   * share before the traffic is known, or no sidecar).
   */
  public double factor(int sidecars, double fleetRate) {
    if (sidecars <= 0) {
      return Double.NaN;
    }
    return switch (kind) {
      case REPLICAS -> Math.min(maxFactor, amount / sidecars);
      case FLEET -> Math.min(maxFactor, amount);
      case RATE -> !(fleetRate >= 0) ? Double.NaN : fleetRate == 0 ? (amount == 0 ? 0 : maxFactor) : Math.min(maxFactor, amount / fleetRate);
    };
  }

  /** Whether the factor depends on the fleet's traffic (so the sidecars' counters are read). */
  public boolean needsTraffic() {
    return kind == Kind.RATE;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case REPLICAS -> amount + " replicas' worth of production load";
      case FLEET -> amount + " times the fleet's load";
      case RATE -> amount + " requests/s";
    };
  }
}
