package dev.tokentap.proxy;

import dev.tokentap.proxy.admin.AdminEndpoint;
import dev.tokentap.proxy.admin.AdminServer;
import dev.tokentap.proxy.admin.CapacityEndpoint;
import dev.tokentap.proxy.admin.CardinalityEndpoint;
import dev.tokentap.proxy.admin.CapacityEstimator;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.metrics.MetricsClock;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TenantLabels;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.otlp.GenAiOtlpExport;
import dev.tokentap.proxy.record.AccessLog;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.record.TraceCapture;
import dev.tokentap.proxy.relay.ProxyServer;
import dev.tokentap.proxy.relay.Transports;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import dev.tokentap.proxy.tap.RequestTap;
import dev.tokentap.proxy.tap.RequestTapFactory;

/**
 * A running proxy: the client listener, the admin listener, the metrics registry and the access
 * log, started from validated {@link Settings} and stopped together.
 */
public final class Tokentap implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final RequestRecorder recorder;
  private final AccessLog accessLog;
  private final TraceCapture capture;
  private final GenAiOtlpExport otlp;
  private final ProxyServer proxy;
  private final AdminServer admin;
  private final JvmGcMetrics gcMetrics;
  private final List<RequestTap> taps;
  private final java.time.Duration shutdownGracePeriod;
  private volatile boolean ready;

  private Tokentap(PrometheusMeterRegistry registry, RequestRecorder recorder, AccessLog accessLog, TraceCapture capture, ProxyServer proxy,
      AdminServer admin, JvmGcMetrics gc, java.time.Duration shutdownGracePeriod, List<RequestTap> taps, GenAiOtlpExport otlp) {
    this.capture = capture;
    this.otlp = otlp;
    this.taps = taps;
    this.shutdownGracePeriod = shutdownGracePeriod;
    this.registry = registry;
    this.recorder = recorder;
    this.accessLog = accessLog;
    this.proxy = proxy;
    this.admin = admin;
    this.gcMetrics = gc;
  }

  public static Tokentap start(Settings settings) throws InterruptedException, IOException {
    return start(settings, List.of());
  }

  /**
   * A proxy that also hands each inspected request to the taps the factories start (the shadow
   * engine); they measure with this proxy's recorder and are closed after it stops relaying.
   */
  public static Tokentap start(Settings settings, List<RequestTapFactory> tapFactories) throws InterruptedException, IOException {
    BufferAllocator.apply(settings.proxy().allocator()); // before anything in Netty touches a buffer
    try {
      Transports.use(Transports.resolve(settings.proxy().transport())); // before the first event loop
    } catch (IllegalArgumentException e) {
      throw new SettingsException("tokentap.proxy.transport: " + e.getMessage());
    }
    LeakDetection.apply(settings.proxy().leakDetection()); // before the first buffer, warm-up included
    PrometheusMeterRegistry registry = MetricsClock.prometheusRegistry();
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
      // Netty 4.2's default is the adaptive allocator, not the pooled one: bind the one in use.
      new NettyAllocatorMetrics(allocator).bindTo(registry);
    }

    CardinalityEndpoint cardinality = new CardinalityEndpoint(registry);
    TokentapMetrics metrics = new TokentapMetrics(registry, settings.slos());
    metrics.registerInFlight(settings.proxy().targetName(), Role.PRIMARY);
    metrics.registerUpstream(settings.proxy().targetName());
    metrics.registerClientLimits();
    RequestRecorder recorder =
        new RequestRecorder(metrics, new SloPolicy(settings.slos()), new ModelLabels(settings.metrics().maxModels(), metrics.modelLabelOverflow()::increment),
            tenantLabels(settings.metrics().tenant(), metrics), settings.proxy().maxInspectedResponseBody());
    AccessLog accessLog = null;
    if (settings.accessLog().enabled()) {
      accessLog = new AccessLog(settings.accessLog().destination(), settings.accessLog().queueSize(), registry);
      recorder.addListener(accessLog);
    }
    TraceCapture capture = null;
    GenAiOtlpExport otlp = null;
    ProxyServer proxy = null;
    AdminServer admin = null;
    Tokentap[] self = new Tokentap[1];
    List<RequestTap> taps = new ArrayList<>();
    try {
      if (settings.otlp().enabled()) {
        otlp = GenAiOtlpExport.start(settings.otlp());
        recorder.addListener(otlp);
      }
      if (settings.capture().enabled()) {
        capture = new TraceCapture(settings.capture(), registry);
        recorder.addListener(capture);
      }
      for (RequestTapFactory factory : tapFactories) {
        try {
          taps.add(factory.start(recorder));
        } catch (InterruptedException | IOException | RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException("cannot start a request tap: " + e.getMessage(), e);
        }
      }
      if (settings.proxy().warmupRequests() > 0) {
        Warmup.run(settings.proxy().warmupRequests());
      }
      proxy = ProxyServer.start(settings, recorder, taps);
      new NettyEventExecutorMetrics(proxy.workers()).bindTo(registry);
      List<AdminEndpoint> endpoints = new ArrayList<>();
      endpoints.add(new CapacityEndpoint(registry, settings.capacity().inFlight()));
      endpoints.add(cardinality);
      CapacityEstimator estimator = new CapacityEstimator(registry, settings.capacity().estimate());
      recorder.addListener(estimator);
      endpoints.add(estimator);
      for (RequestTap tap : taps) {
        endpoints.addAll(tap.adminEndpoints());
      }
      admin = AdminServer.start(settings.admin().listen(), registry, () -> self[0] != null && self[0].ready, endpoints, settings.admin().token());
    } catch (InterruptedException | IOException | RuntimeException e) {
      if (proxy != null) {
        proxy.close();
      }
      taps.forEach(RequestTap::close);
      if (accessLog != null) {
        accessLog.close();
      }
      if (capture != null) {
        capture.close();
      }
      if (otlp != null) {
        otlp.close();
      }
      gc.close();
      throw e;
    }
    Tokentap t = new Tokentap(registry, recorder, accessLog, capture, proxy, admin, gc, settings.proxy().shutdownGracePeriod(), List.copyOf(taps), otlp);
    self[0] = t;
    t.ready = true;
    return t;
  }

  private static TenantLabels tenantLabels(Settings.Tenant tenant, TokentapMetrics metrics) {
    if (!tenant.enabled()) {
      return TenantLabels.off();
    }
    return TenantLabels.on(tenant.maxTenants(), java.util.Set.copyOf(tenant.allow()), metrics.tenantLabelOverflow()::increment);
  }

  public InetSocketAddress proxyAddress() {
    return proxy.address();
  }

  public InetSocketAddress adminAddress() {
    return admin.address();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public RequestRecorder recorder() {
    return recorder;
  }

  public boolean isReady() {
    return ready;
  }

  /**
   * Shuts down gracefully: readiness turns false first (so load balancers stop sending), the
   * listener stops accepting, requests in flight finish within {@code shutdown-grace-period}, then
   * everything closes.
   */
  @Override
  public void close() {
    ready = false;
    try {
      proxy.drain(shutdownGracePeriod);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    proxy.close();
    for (RequestTap tap : taps) {
      try {
        tap.close();
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(Tokentap.class).warn("closing a request tap failed", e);
      }
    }
    if (otlp != null) {
      otlp.close(); // after the relay stopped: the last push holds every request
    }
    admin.close();
    gcMetrics.close();
    if (accessLog != null) {
      try {
        accessLog.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException ignored) {
        // closing a log file; nothing left to do
      }
    }
    if (capture != null) {
      try {
        capture.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException ignored) {
        // closing the capture file; nothing left to do
      }
    }
  }
}
