package dev.tokentap.proxy.config;

import java.time.Duration;

/**
 * One service-level objective rule: a request whose model and route match is good when every
 * threshold given here is met. Null thresholds are not checked; "*" matches anything.
 */
public record SloRule(String model, String route, Duration ttft, Duration tpot, Duration e2e) {

  public boolean matches(String requestModel, String requestRoute) {
    return ("*".equals(model) || model.equals(requestModel))
        && ("*".equals(route) || route.equals(requestRoute));
  }
}
