package dev.tokentap.proxy.record;

import dev.tokentap.meter.Route;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TenantLabels;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Starts a {@link RequestRecord} per request and hands each finished one to the listeners (metrics
 * first, then the access log and whoever else subscribed). One recorder serves every kind of
 * traffic (primary, shadow, bench), so all of it is measured the same way.
 */
public final class RequestRecorder {
  private final TokentapMetrics metrics;
  private final SloPolicy slos;
  private final ModelLabels models;
  private final TenantLabels tenants;
  private final int maxInspectedResponseBody;
  private final List<RequestListener> listeners = new CopyOnWriteArrayList<>();

  public RequestRecorder(TokentapMetrics metrics, SloPolicy slos, ModelLabels models, int maxInspectedResponseBody) {
    this(metrics, slos, models, TenantLabels.off(), maxInspectedResponseBody);
  }

  public RequestRecorder(TokentapMetrics metrics, SloPolicy slos, ModelLabels models, TenantLabels tenants, int maxInspectedResponseBody) {
    this.metrics = metrics;
    this.slos = slos;
    this.models = models;
    this.tenants = tenants;
    this.maxInspectedResponseBody = maxInspectedResponseBody;
    listeners.add(metrics);
  }

  public void addListener(RequestListener listener) {
    listeners.add(listener);
  }

  public TokentapMetrics metrics() {
    return metrics;
  }

  /** A request whose first byte was read at {@code startNanos}; counted in flight until it finishes. */
  public RequestRecord start(Role role, String target, long startNanos) {
    long inFlight = metrics.inFlightIncrement(target, role);
    return new RequestRecord(this, role, target, startNanos, System.currentTimeMillis(), inFlight);
  }

  String modelLabel(String model) {
    return models.label(model);
  }

  void modelFinished(String rawModel) {
    models.finished(rawModel);
  }

  String tenantLabel(String raw) {
    return tenants.label(raw);
  }

  void tenantFinished(String raw) {
    tenants.finished(raw);
  }

  int maxInspectedResponseBody() {
    return maxInspectedResponseBody;
  }

  TokentapMetrics.Series series(String model, Route route, String target, Role role, String tenant) {
    return metrics.series(model, route.label(), target, role, tenant);
  }

  SloPolicy slos() {
    return slos;
  }

  void finished(FinishedRequest request) {
    metrics.inFlightDecrement(request.target(), request.role());
    for (RequestListener l : listeners) {
      try {
        l.onFinished(request);
      } catch (RuntimeException e) {
        // A listener's failure must never reach the relay; the request is already finished.
        org.slf4j.LoggerFactory.getLogger(RequestRecorder.class).warn("request listener failed", e);
      }
    }
  }
}
