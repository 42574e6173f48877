package dev.tokentap.proxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Everything the proxy reads from configuration, built once and validated at start-up by {@link
 * SettingsLoader}. Nothing reads {@code Config} after that, and nothing here has a default of its
 * own: defaults live in {@code reference.conf}.
 */
public record Settings(
    Proxy proxy, Upstream upstream, Admin admin, Metrics metrics, List<SloRule> slos, AccessLog accessLog, Shadow shadow) {

  public record Proxy(
      HostAndPort listen,
      UpstreamUri upstream,
      String targetName,
      int ioThreads,
      int maxInitialLineLength,
      int maxHeaderSize,
      int maxRequestBody,
      int maxInspectedRequestBody,
      int maxInspectedResponseBody,
      boolean usageInjection,
      boolean forwardedHeaders,
      boolean preserveHost,
      int writeBufferLowWaterMark,
      int writeBufferHighWaterMark,
      Duration shutdownGracePeriod) {}

  public record Upstream(
      Duration connectTimeout,
      Duration responseHeadTimeout,
      Duration idleTimeout,
      int maxConnectionsPerLoop,
      int maxPendingAcquiresPerLoop,
      Duration pooledConnectionIdleTimeout) {}

  /** @param token bearer token for the control endpoints from non-loopback peers; null: loopback only */
  public record Admin(HostAndPort listen, String token) {}

  /**
   * @param routes path to route label and response format, first match wins; paths no rule matches
   *     are route {@code other}, read by no dialect
   */
  public record Metrics(int maxModels, List<String> excludePaths, List<RouteRule> routes) {}

  public record AccessLog(boolean enabled, String destination, int queueSize) {}

  /** Staging targets mirrored to; empty when shadow traffic is off. */
  public record Shadow(List<ShadowTarget> targets) {}
}
