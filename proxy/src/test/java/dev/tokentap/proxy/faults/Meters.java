package dev.tokentap.proxy.faults;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Reads the proxy's own meters (DESIGN §4) straight from its registry, for assertions. */
final class Meters {
  private Meters() {}

  /** {@code tokentap_requests_total} summed over every series with this outcome. */
  static double requests(MeterRegistry registry, String outcome) {
    return registry.find("tokentap.requests").tag("outcome", outcome).counters().stream().mapToDouble(Counter::count).sum();
  }

  /** {@code tokentap_requests_total} summed over every series. */
  static double requests(MeterRegistry registry) {
    return registry.find("tokentap.requests").counters().stream().mapToDouble(Counter::count).sum();
  }

  /** {@code tokentap_requests_in_flight{role="primary"}}. */
  static double inFlight(MeterRegistry registry) {
    return registry.find("tokentap.requests.in.flight").tag("role", "primary").gauges().stream().mapToDouble(Gauge::value).sum();
  }
}
