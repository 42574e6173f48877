package dev.tokentap.proxy.config;

import com.typesafe.config.ConfigValueType;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads what decides how tokentap's measurements are labelled and where else they go: {@code
 * tokentap.metrics.tenant} and {@code tokentap.otlp}.
 */
final class TelemetrySettingsReader {
  private static final String HEADER_NAME = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";

  private TelemetrySettingsReader() {}

  /** {@code tokentap.metrics.tenant}; the allow-list from {@code TOKENTAP_METRICS_TENANT_ALLOW} (comma-separated) when set. */
  static Settings.Tenant tenant(SettingsLoader.Reader r, Function<String, String> env) {
    String key = "tokentap.metrics.tenant.";
    String source = r.nonEmpty(key + "source").toLowerCase(Locale.ROOT);
    Settings.TenantSource s = switch (source) {
      case "off" -> Settings.TenantSource.OFF;
      case "header" -> Settings.TenantSource.HEADER;
      case "api-key" -> Settings.TenantSource.API_KEY;
      case "path-prefix" -> Settings.TenantSource.PATH_PREFIX;
      default -> throw r.bad(key + "source", "\"" + source + "\"", "off, header, api-key or path-prefix");
    };
    String header = r.nonEmpty(key + "header").strip();
    if (!header.matches(HEADER_NAME)) {
      throw r.bad(key + "header", "\"" + header + "\"", "a header name (letters, digits and !#$%&'*+.^_`|~-)");
    }
    return new Settings.Tenant(s, header.toLowerCase(Locale.ROOT), r.string(key + "salt"), r.intAtLeast(key + "max-tenants", 1),
        allow(r, key + "allow", env.apply("TOKENTAP_METRICS_TENANT_ALLOW")));
  }

  /** {@code tokentap.otlp}; headers from the config object, then {@code TOKENTAP_OTLP_HEADERS} (k=v,k=v). */
  static Settings.Otlp otlp(SettingsLoader.Reader r, Function<String, String> env) {
    String endpoint = r.string("tokentap.otlp.endpoint").strip();
    if (endpoint.isEmpty()) {
      return Settings.Otlp.OFF;
    }
    try {
      URI uri = URI.create(endpoint);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new IllegalArgumentException("not http(s)");
      }
    } catch (IllegalArgumentException e) {
      throw r.bad("tokentap.otlp.endpoint", "\"" + endpoint + "\"", "an OTLP/HTTP URL such as http://collector:4318/v1/metrics");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (var e : r.config().getConfig("tokentap.otlp.headers").root().entrySet()) {
      if (e.getValue().valueType() != ConfigValueType.STRING) {
        throw r.bad("tokentap.otlp.headers." + e.getKey(), e.getValue().render(), "a string");
      }
      headers.put(e.getKey(), (String) e.getValue().unwrapped());
    }
    String fromEnv = env.apply("TOKENTAP_OTLP_HEADERS");
    if (fromEnv != null && !fromEnv.isBlank()) {
      for (String pair : fromEnv.split(",")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new SettingsException("TOKENTAP_OTLP_HEADERS: expected name=value pairs separated by commas");
        }
        headers.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
      }
    }
    for (String name : headers.keySet()) {
      if (!name.matches(HEADER_NAME)) {
        throw r.bad("tokentap.otlp.headers", "\"" + name + "\"", "header names (letters, digits and !#$%&'*+.^_`|~-)");
      }
    }
    String histograms = r.nonEmpty("tokentap.otlp.histograms").toLowerCase(Locale.ROOT);
    if (!histograms.equals("exponential") && !histograms.equals("explicit")) {
      throw r.bad("tokentap.otlp.histograms", "\"" + histograms + "\"", "exponential or explicit");
    }
    return new Settings.Otlp(endpoint, r.positiveDuration("tokentap.otlp.interval"), headers, histograms.equals("exponential"));
  }

  private static List<String> allow(SettingsLoader.Reader r, String key, String fromEnv) {
    if (fromEnv != null && !fromEnv.isBlank()) {
      return List.of(fromEnv.strip().split("\\s*,\\s*"));
    }
    return r.stringList(key);
  }
}
