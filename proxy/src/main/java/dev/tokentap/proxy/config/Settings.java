package dev.tokentap.proxy.config;

import java.time.Duration;
import java.util.List;

/**
 * Everything the proxy reads from configuration, built once and validated at start-up by {@link
 * SettingsLoader}. Nothing reads {@code Config} after that, and nothing here has a default of its
 * own: defaults live in {@code reference.conf}.
 */
public record Settings(
    Proxy proxy, Upstream upstream, Admin admin, Metrics metrics, List<SloRule> slos, AccessLog accessLog, Shadow shadow,
    Capacity capacity, Capture capture, Otlp otlp) {

  /** @param tls TLS on the listener; null: plain HTTP */
  public record Proxy(
      HostAndPort listen,
      ServerTls tls,
      UpstreamUri upstream,
      String targetName,
      int ioThreads,
      String transport,
      String leakDetection,
      String allocator,
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
      Duration shutdownGracePeriod,
      ClientLimits clientLimits,
      int warmupRequests) {}

  /**
   * What a client may hold on the listener (docs/reliability.md, "Limits").
   *
   * @param requestHeadTimeout from a request head's first byte to its end
   * @param keepAliveTimeout a connection with no request in progress
   * @param requestBodyTimeout the longest silence between two reads of a request body
   * @param maxConnections client connections open at once; beyond, closed as accepted
   * @param backlog the listener's SO_BACKLOG
   */
  public record ClientLimits(
      Duration requestHeadTimeout, Duration keepAliveTimeout, Duration requestBodyTimeout, int maxConnections, int backlog) {}

  public record Upstream(
      Duration connectTimeout,
      Duration responseHeadTimeout,
      Duration idleTimeout,
      int maxConnectionsPerLoop,
      int maxPendingAcquiresPerLoop,
      Duration pooledConnectionIdleTimeout,
      boolean retryUnanswered,
      ClientTls tls) {}

  /** @param token bearer token for the control endpoints from non-loopback peers; null: loopback only */
  public record Admin(HostAndPort listen, String token) {}

  /**
   * @param routes path to route label and response format, first match wins; paths no rule matches
   *     are route {@code other}, read by no dialect
   */
  public record Metrics(int maxModels, List<String> excludePaths, List<RouteRule> routes, Tenant tenant) {
    public Metrics(int maxModels, List<String> excludePaths, List<RouteRule> routes) {
      this(maxModels, excludePaths, routes, Tenant.OFF);
    }
  }

  /**
   * Where the {@code tenant} label comes from (docs/metrics.md, "Tenants").
   *
   * @param header the header read by {@link TenantSource#HEADER}
   * @param salt the API-key hash's salt; "" for a random one per process
   * @param maxTenants distinct tenant values kept; later ones are {@code other}
   * @param allow when not empty, only these values keep their label
   */
  public record Tenant(TenantSource source, String header, String salt, int maxTenants, List<String> allow) {
    public static final Tenant OFF = new Tenant(TenantSource.OFF, "x-tenant-id", "", 100, List.of());

    public Tenant {
      allow = List.copyOf(allow);
    }

    public boolean enabled() {
      return source != TenantSource.OFF;
    }
  }

  /** The request part a tenant is read from: nowhere, a header, the API key (hashed), the first path segment. */
  public enum TenantSource { OFF, HEADER, API_KEY, PATH_PREFIX }

  /**
   * OpenTelemetry metrics export (docs/opentelemetry.md); off when {@code endpoint} is null.
   *
   * @param endpoint the collector's OTLP/HTTP metrics URL, e.g. http://collector:4318/v1/metrics
   * @param interval how often the measurements are pushed
   * @param headers sent with every export (an auth token, a tenant header of the collector)
   * @param exponential base-2 exponential histograms; false: explicit buckets, the conventions' advice
   */
  public record Otlp(String endpoint, Duration interval, java.util.Map<String, String> headers, boolean exponential) {
    public static final Otlp OFF = new Otlp(null, Duration.ofMinutes(1), java.util.Map.of(), true);

    public Otlp {
      headers = java.util.Map.copyOf(headers);
    }

    public boolean enabled() {
      return endpoint != null;
    }
  }

  public record AccessLog(boolean enabled, String destination, int queueSize) {}

  /**
   * Trace capture: one JSON line per finished production request, for {@code tokentap bench} to
   * replay.
   *
   * @param file where lines are appended; rotated to {@code file.1 … file.(maxFiles-1)}
   * @param includeText store each request body; off, no prompt text is ever written
   * @param prefixChars leading prompt characters hashed into the prefix group
   * @param maxFileSize bytes after which the file is rotated
   * @param maxFiles files kept, the current one included
   */
  public record Capture(
      boolean enabled, java.nio.file.Path file, boolean includeText, int prefixChars, long maxFileSize, int maxFiles, int queueSize) {}

  /**
   * Staging targets mirrored to (empty when shadow traffic is off), and the summary they share.
   *
   * @param summaryWindow the longest window {@code /admin/shadow/summary} covers
   * @param summaryMaxSamples finished requests kept per side (production, each target) for it
   * @param compare how production's and staging's outputs are compared
   */
  public record Shadow(List<ShadowTarget> targets, java.time.Duration summaryWindow, int summaryMaxSamples, Compare compare) {
    public Shadow {
      targets = List.copyOf(targets);
    }

    /** As configured, without output comparison. */
    public Shadow(List<ShadowTarget> targets, java.time.Duration summaryWindow, int summaryMaxSamples) {
      this(targets, summaryWindow, summaryMaxSamples, Compare.OFF);
    }

    /**
     * Output comparison of production and its copies (docs/shadow.md, "Comparing models").
     *
     * @param sample share of mirrored production requests whose outputs are kept and compared (0: off)
     * @param maxTokens output kept per side: the first words of the text, and tool calls' arguments
     *     up to 8 bytes a word
     * @param maxPending pairs waiting for a side to finish; beyond, a new pair is dropped and counted
     * @param samplesFile opt-in: where differing pairs are written, both answers in full as kept;
     *     null for nowhere (the default)
     * @param samplesMaxPairs differing pairs written to {@code samplesFile} at most, then no more
     */
    public record Compare(double sample, int maxTokens, int maxPending, java.nio.file.Path samplesFile, int samplesMaxPairs) {
      public static final Compare OFF = new Compare(0, 256, 1000, null, 100);

      public Compare(double sample, int maxTokens, int maxPending) {
        this(sample, maxTokens, maxPending, null, 100);
      }

      public boolean enabled() {
        return sample > 0;
      }
    }
  }

  /**
   * @param inFlight per target, the in-flight requests at the knee (from a bench sweep or a shadow
   *     ramp), exported as {@code tokentap_capacity_in_flight{target}}
   * @param estimate how the knee is estimated passively from production traffic
   */
  public record Capacity(java.util.Map<String, Double> inFlight, Estimate estimate) {
    public Capacity {
      inFlight = java.util.Map.copyOf(inFlight);
    }

    /**
     * @param goal share of requests that must meet their SLOs for an in-flight level to pass
     * @param minRequests requests a level needs inside the window to be judged
     * @param window how far back requests count
     * @param samplesPerLevel requests kept per level and target
     */
    public record Estimate(double goal, int minRequests, Duration window, int samplesPerLevel) {}
  }
}
