package dev.tokentap.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One staging replica that gets copies of live traffic ({@code tokentap.shadow.targets[i]}, every
 * key documented in {@code reference.conf}).
 *
 * @param sampleBy null for random sampling, else the key that makes sampling consistent
 * @param model the model name sent to staging, or null to keep the client's
 * @param removeHeaders client headers never sent to this target, lower-case: {@code
 *     tokentap.shadow.drop-headers} (the client's credentials, by default) and its own {@code
 *     remove-headers}
 * @param authorizationToken staging's API key read from the environment at start-up, or null
 * @param maxRate copies started per second at most; 0 for no limit
 * @param tls certificate checks for an https upstream
 */
public record ShadowTarget(
    String name,
    UpstreamUri upstream,
    double factor,
    Duration spreadWindow,
    SampleKey sampleBy,
    List<String> routes,
    List<String> models,
    String model,
    Map<String, String> setHeaders,
    List<String> removeHeaders,
    String authorizationToken,
    CacheBusting cacheBusting,
    int maxBody,
    int queueSize,
    int maxConcurrentStreams,
    double maxRate,
    Breaker circuitBreaker,
    Duration connectTimeout,
    Duration firstByteTimeout,
    Duration idleTimeout,
    int ioThreads,
    ClientTls tls,
    boolean baseline) {

  public ShadowTarget {
    routes = List.copyOf(routes);
    models = List.copyOf(models);
    setHeaders = Map.copyOf(setHeaders);
    removeHeaders = List.copyOf(removeHeaders);
  }

  /** Where the consistent-sampling key is read: a request header or a top-level JSON body field. */
  public record SampleKey(boolean header, String name) {}

  public record Breaker(float failureRateThreshold, int slidingWindow, int minimumCalls, Duration openDuration) {}

  public enum CacheBusting {
    NONE("none"),
    NONCE("nonce"),
    CACHE_SALT("cache-salt");

    private final String configName;

    CacheBusting(String configName) {
      this.configName = configName;
    }

    public String configName() {
      return configName;
    }
  }
}
