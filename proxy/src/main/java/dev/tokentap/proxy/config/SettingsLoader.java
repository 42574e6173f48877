package dev.tokentap.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds {@link Settings} from HOCON once, at start-up: the file given with {@code --config}, over
 * {@code reference.conf}, under the command-line overrides. Every problem becomes a {@link
 * SettingsException} whose message names the key, so a bad value stops the process before a port
 * opens.
 */
public final class SettingsLoader {

  private static final Set<String> ROUTES =
      Set.of("*", "chat", "completions", "responses", "messages", "generate", "embeddings", "other");

  private SettingsLoader() {}

  /**
   * The effective configuration: {@code overrides} (full keys such as {@code tokentap.proxy.listen})
   * over {@code file} (may be null) over the defaults, resolved.
   */
  public static Config resolve(File file, Map<String, ?> overrides) {
    try {
      Config fromFile = ConfigFactory.empty();
      if (file != null) {
        if (!file.isFile()) {
          throw new SettingsException("--config " + file + ": no such file");
        }
        fromFile = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
      }
      return ConfigFactory.parseMap(overrides, "command line")
          .withFallback(fromFile)
          .withFallback(ConfigFactory.defaultReference())
          .resolve();
    } catch (ConfigException e) {
      throw new SettingsException(e.getMessage());
    }
  }

  public static Settings load(Config config) {
    return load(config, System::getenv);
  }

  /** As {@link #load(Config)}, reading the environment variables config names through {@code env}. */
  public static Settings load(Config config, java.util.function.Function<String, String> env) {
    try {
      config.checkValid(ConfigFactory.defaultReference(), "tokentap");
    } catch (ConfigException.ValidationFailed e) {
      StringBuilder sb = new StringBuilder();
      for (ConfigException.ValidationProblem p : e.problems()) {
        sb.append(sb.length() == 0 ? "" : "; ").append(p.path()).append(": ").append(p.problem());
      }
      throw new SettingsException(sb.toString());
    }
    Reader r = new Reader(config);
    Settings.Proxy proxy =
        new Settings.Proxy(
            r.address("tokentap.proxy.listen"),
            r.serverTls("tokentap.proxy.tls"),
            r.upstream("tokentap.proxy.upstream"),
            r.label("tokentap.proxy.target-name"),
            r.intAtLeast("tokentap.proxy.io-threads", 0),
            r.transport("tokentap.proxy.transport"),
            r.oneOf("tokentap.proxy.leak-detection", "disabled, simple, advanced or paranoid",
                "disabled", "simple", "advanced", "paranoid"),
            r.oneOf("tokentap.proxy.allocator", "adaptive or pooled", "adaptive", "pooled"),
            r.size("tokentap.proxy.max-initial-line-length", 256),
            r.size("tokentap.proxy.max-header-size", 1024),
            r.size("tokentap.proxy.max-request-body", 0),
            r.size("tokentap.proxy.max-inspected-request-body", 0),
            r.size("tokentap.proxy.max-inspected-response-body", 0),
            r.bool("tokentap.proxy.usage-injection"),
            r.bool("tokentap.proxy.forwarded-headers"),
            r.bool("tokentap.proxy.preserve-host"),
            r.size("tokentap.proxy.write-buffer-low-water-mark", 1),
            r.size("tokentap.proxy.write-buffer-high-water-mark", 1),
            r.positiveDuration("tokentap.proxy.shutdown-grace-period"),
            new Settings.ClientLimits(
                r.positiveDuration("tokentap.proxy.request-head-timeout"),
                r.positiveDuration("tokentap.proxy.keep-alive-timeout"),
                r.positiveDuration("tokentap.proxy.request-body-timeout"),
                r.intAtLeast("tokentap.proxy.max-connections", 1),
                r.intAtLeast("tokentap.proxy.backlog", 1)),
            r.intAtLeast("tokentap.proxy.warmup-requests", 0));
    if (proxy.writeBufferHighWaterMark() < proxy.writeBufferLowWaterMark()) {
      throw new SettingsException(
          "tokentap.proxy.write-buffer-high-water-mark: " + proxy.writeBufferHighWaterMark()
              + " (expected: >= tokentap.proxy.write-buffer-low-water-mark, " + proxy.writeBufferLowWaterMark() + ")");
    }
    Settings.Upstream upstream =
        new Settings.Upstream(
            r.positiveDuration("tokentap.upstream.connect-timeout"),
            r.positiveDuration("tokentap.upstream.response-head-timeout"),
            r.positiveDuration("tokentap.upstream.idle-timeout"),
            r.intAtLeast("tokentap.upstream.max-connections-per-loop", 1),
            r.intAtLeast("tokentap.upstream.max-pending-acquires-per-loop", 0),
            r.positiveDuration("tokentap.upstream.pooled-connection-idle-timeout"),
            r.bool("tokentap.upstream.retry-unanswered"),
            r.clientTls("tokentap.upstream.tls"));
    String adminToken = r.string("tokentap.admin.token");
    Settings.Admin admin = new Settings.Admin(r.address("tokentap.admin.listen"), adminToken.isBlank() ? null : adminToken);
    Settings.Metrics metrics =
        new Settings.Metrics(
            r.intAtLeast("tokentap.metrics.max-models", 1),
            List.copyOf(config.getStringList("tokentap.metrics.exclude-paths")),
            r.routes("tokentap.metrics.routes"),
            TelemetrySettingsReader.tenant(r, env));
    List<SloRule> slos = r.slos("tokentap.slos");
    Settings.AccessLog accessLog =
        new Settings.AccessLog(
            r.bool("tokentap.access-log.enabled"),
            r.nonEmpty("tokentap.access-log.destination"),
            r.intAtLeast("tokentap.access-log.queue-size", 1));
    Settings.Shadow shadow =
        new Settings.Shadow(
            ShadowTargetsReader.read(config, env),
            r.positiveDuration("tokentap.shadow.summary.window"),
            r.intAtLeast("tokentap.shadow.summary.max-samples", 1),
            new Settings.Shadow.Compare(
                r.share("tokentap.shadow.compare.sample"),
                r.intAtLeast("tokentap.shadow.compare.max-tokens", 1),
                r.intAtLeast("tokentap.shadow.compare.max-pending", 1),
                r.string("tokentap.shadow.compare.samples.file").isBlank() ? null : java.nio.file.Path.of(r.string("tokentap.shadow.compare.samples.file")),
                r.intAtLeast("tokentap.shadow.compare.samples.max-pairs", 1)));
    return new Settings(proxy, upstream, admin, metrics, slos, accessLog, shadow, new Settings.Capacity(capacities(config),
        new Settings.Capacity.Estimate(
            r.fraction("tokentap.capacity.estimate.slo-attainment-goal"),
            r.intAtLeast("tokentap.capacity.estimate.min-requests", 1),
            r.positiveDuration("tokentap.capacity.estimate.window"),
            r.intAtLeast("tokentap.capacity.estimate.samples-per-level", 1))), capture(r), TelemetrySettingsReader.otlp(r, env));
  }

  private static Settings.Capture capture(Reader r) {
    boolean enabled = r.bool("tokentap.capture.enabled");
    String file = r.string("tokentap.capture.file");
    if (enabled && file.isBlank()) {
      throw r.bad("tokentap.capture.file", "\"\"", "a file path (capture is enabled)");
    }
    return new Settings.Capture(
        enabled,
        file.isBlank() ? null : Path.of(file),
        r.bool("tokentap.capture.include-text"),
        r.intAtLeast("tokentap.capture.prefix-chars", 1),
        r.size("tokentap.capture.max-file-size", 4096),
        r.intAtLeast("tokentap.capture.max-files", 1),
        r.intAtLeast("tokentap.capture.queue-size", 1));
  }

  /** {@code tokentap.capacity.in-flight}: target name to a positive number. */
  private static java.util.Map<String, Double> capacities(Config config) {
    java.util.Map<String, Double> out = new java.util.LinkedHashMap<>();
    Config c = config.getConfig("tokentap.capacity.in-flight");
    for (var e : c.root().entrySet()) {
      String key = "tokentap.capacity.in-flight." + e.getKey();
      Object v = e.getValue().unwrapped();
      if (!(v instanceof Number n) || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) {
        throw new SettingsException(key + ": " + e.getValue().render() + " (expected: a number of requests > 0)");
      }
      if (!e.getKey().matches("[A-Za-z0-9_.:-]{1,64}")) {
        throw new SettingsException(key + ": the target name must be 1-64 letters, digits, '_', '.', ':' or '-'");
      }
      out.put(e.getKey(), n.doubleValue());
    }
    return out;
  }

  /** Reads single values, turning every failure into a message that names the key. */
  static final class Reader {
    private final Config config;
    private final String prefix;

    Reader(Config config) {
      this(config, "");
    }

    /** Reads keys relative to {@code config}, naming them in messages with {@code prefix} in front. */
    Reader(Config config, String prefix) {
      this.config = config;
      this.prefix = prefix;
    }

    Config config() {
      return config;
    }

    SettingsException bad(String key, Object value, String expected) {
      return new SettingsException(prefix + key + ": " + value + " (expected: " + expected + ")");
    }

    double doubleAtLeast(String key, double min) {
      double value;
      try {
        value = config.getDouble(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a number >= " + min);
      }
      if (!(value >= min) || Double.isInfinite(value)) {
        throw bad(key, raw(key), "a number >= " + min);
      }
      return value;
    }

    /** A share from 0 to 1, both included. */
    double share(String key) {
      double value = doubleAtLeast(key, 0);
      if (value > 1) {
        throw bad(key, raw(key), "a number from 0 to 1");
      }
      return value;
    }

    /** A share: more than 0 and at most 1. */
    double fraction(String key) {
      double value;
      try {
        value = config.getDouble(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a number more than 0 and at most 1");
      }
      if (!(value > 0 && value <= 1)) {
        throw bad(key, raw(key), "a number more than 0 and at most 1");
      }
      return value;
    }

    List<String> stringList(String key) {
      try {
        return List.copyOf(config.getStringList(key));
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a list of strings");
      }
    }

    /** A duration >= 0. */
    Duration duration(String key) {
      Duration value;
      try {
        value = config.getDuration(key);
      } catch (ConfigException.BadValue | ConfigException.WrongType e) {
        throw bad(key, raw(key), "a duration such as 250ms or 30s");
      }
      if (value.isNegative()) {
        throw bad(key, raw(key), "a duration >= 0");
      }
      return value;
    }

    private String raw(String key) {
      ConfigValue v = config.getValue(key);
      return String.valueOf(v.unwrapped());
    }

    HostAndPort address(String key) {
      String value = nonEmpty(key);
      try {
        return HostAndPort.parse(value);
      } catch (IllegalArgumentException e) {
        throw bad(key, "\"" + value + "\"", "host:port, " + e.getMessage());
      }
    }

    UpstreamUri upstream(String key) {
      String value = nonEmpty(key);
      try {
        return UpstreamUri.parse(value);
      } catch (IllegalArgumentException e) {
        throw bad(key, "\"" + value + "\"", "a base URL such as http://127.0.0.1:8000, " + e.getMessage());
      }
    }

    /** {@code KEY.ca-file} and {@code KEY.insecure-skip-verify}. */
    ClientTls clientTls(String key) {
      Path ca = pemFile(key + ".ca-file", "CERTIFICATE");
      boolean insecure = bool(key + ".insecure-skip-verify");
      if (insecure && ca != null) {
        throw bad(key + ".insecure-skip-verify", true, "false when " + prefix + key + ".ca-file is set: verify, or skip verification, not both");
      }
      return new ClientTls(ca, insecure);
    }

    /** {@code KEY.cert-file} and {@code KEY.key-file}: both set, or neither (null: no TLS). */
    ServerTls serverTls(String key) {
      Path cert = pemFile(key + ".cert-file", "CERTIFICATE");
      Path privateKey = pemFile(key + ".key-file", "PRIVATE KEY");
      if ((cert == null) != (privateKey == null)) {
        String missing = cert == null ? ".cert-file" : ".key-file";
        throw bad(key + missing, "\"\"", "a PEM file path: TLS needs both " + prefix + key + ".cert-file and " + prefix + key + ".key-file");
      }
      return cert == null ? null : new ServerTls(cert, privateKey);
    }

    /**
     * A readable file holding a PEM block of {@code type} ("" = none, null). The contents are checked
     * in full when the TLS context is built, before any port opens.
     */
    Path pemFile(String key, String type) {
      String value = string(key);
      if (value.isBlank()) {
        return null;
      }
      Path path = Path.of(value);
      String text;
      try {
        text = Files.readString(path, StandardCharsets.US_ASCII);
      } catch (java.nio.charset.MalformedInputException e) {
        throw bad(key, "\"" + value + "\"", "a PEM (text) file");
      } catch (IOException | UncheckedIOException e) {
        throw bad(key, "\"" + value + "\"", "a readable PEM file (" + e.getClass().getSimpleName() + ")");
      }
      if (!text.contains("-----BEGIN " + type + "-----")) {
        String hint = type.equals("PRIVATE KEY") ? "; an unencrypted PKCS#8 key, as `openssl pkcs8 -topk8 -nocrypt` writes it" : "";
        throw bad(key, "\"" + value + "\"", "a PEM file with a -----BEGIN " + type + "----- block" + hint);
      }
      return path;
    }

    String nonEmpty(String key) {
      String value = string(key);
      if (value.isBlank()) {
        throw bad(key, "\"\"", "a non-empty string");
      }
      return value;
    }

    /** One of the transport names; whether this machine can run it is checked at start-up. */
    String transport(String key) {
      return oneOf(key, "auto, epoll, io_uring or nio", "auto", "epoll", "io_uring", "nio");
    }

    /** One of {@code allowed}, in any case; returned in lower case. */
    String oneOf(String key, String expected, String... allowed) {
      String v = nonEmpty(key).toLowerCase(java.util.Locale.ROOT);
      if (!List.of(allowed).contains(v)) {
        throw bad(key, v, expected);
      }
      return v;
    }

    String label(String key) {
      String value = nonEmpty(key);
      if (!value.matches("[A-Za-z0-9_.:-]{1,64}")) {
        throw bad(key, "\"" + value + "\"", "1-64 characters of A-Z a-z 0-9 _ . : -");
      }
      return value;
    }

    String string(String key) {
      try {
        return config.getString(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a string");
      }
    }

    boolean bool(String key) {
      try {
        return config.getBoolean(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "true or false");
      }
    }

    int intAtLeast(String key, int min) {
      int value;
      try {
        value = config.getInt(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "an integer >= " + min);
      }
      if (value < min) {
        throw bad(key, value, "an integer >= " + min);
      }
      return value;
    }

    int size(String key, long min) {
      long value;
      try {
        value = config.getBytes(key);
      } catch (ConfigException.BadValue | ConfigException.WrongType e) {
        throw bad(key, raw(key), "a size such as 64KiB");
      }
      if (value < min || value > Integer.MAX_VALUE - 8) {
        throw bad(key, raw(key), "a size between " + min + " bytes and 2GiB");
      }
      return (int) value;
    }

    Duration positiveDuration(String key) {
      Duration value;
      try {
        value = config.getDuration(key);
      } catch (ConfigException.BadValue | ConfigException.WrongType e) {
        throw bad(key, raw(key), "a duration such as 250ms or 30s");
      }
      if (value.isNegative() || value.isZero()) {
        throw bad(key, raw(key), "a duration > 0");
      }
      return value;
    }

    List<SloRule> slos(String key) {
      List<? extends Config> list;
      try {
        list = config.getConfigList(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a list of { model, route, ttft, tpot, e2e } objects");
      }
      List<SloRule> rules = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        Config c = list.get(i);
        String at = key + "[" + i + "]";
        for (String field : c.root().keySet()) {
          if (!Set.of("model", "route", "ttft", "tpot", "e2e").contains(field)) {
            throw bad(at + "." + field, c.getValue(field).unwrapped(), "one of model, route, ttft, tpot, e2e");
          }
        }
        String model = c.hasPath("model") ? c.getString("model") : "*";
        String route = c.hasPath("route") ? c.getString("route") : "*";
        if (!ROUTES.contains(route)) {
          throw bad(at + ".route", "\"" + route + "\"", "one of " + String.join(", ", ROUTES.stream().sorted().toList()));
        }
        Duration ttft = sloThreshold(c, at, "ttft");
        Duration tpot = sloThreshold(c, at, "tpot");
        Duration e2e = sloThreshold(c, at, "e2e");
        if (ttft == null && tpot == null && e2e == null) {
          throw bad(at, c.root().render(), "at least one of ttft, tpot, e2e");
        }
        rules.add(new SloRule(model, route, ttft, tpot, e2e));
      }
      return List.copyOf(rules);
    }

    List<RouteRule> routes(String key) {
      List<? extends Config> list;
      try {
        list = config.getConfigList(key);
      } catch (ConfigException.WrongType e) {
        throw bad(key, raw(key), "a list of { path or path-prefix, route, api } objects");
      }
      List<String> routeNames = Arrays.stream(Route.values()).map(Route::label).toList();
      List<String> apiNames = Arrays.stream(Api.values()).map(Api::configName).toList();
      List<RouteRule> rules = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        Config c = list.get(i);
        String at = key + "[" + i + "]";
        for (String field : c.root().keySet()) {
          if (!Set.of("path", "path-prefix", "route", "api").contains(field)) {
            throw bad(at + "." + field, c.getValue(field).unwrapped(), "one of path, path-prefix, route, api");
          }
        }
        if (c.hasPath("path") == c.hasPath("path-prefix")) {
          throw bad(at, c.root().render(), "exactly one of path, path-prefix");
        }
        boolean prefix = c.hasPath("path-prefix");
        String field = prefix ? "path-prefix" : "path";
        String path = routeString(c, at, field);
        if (!path.startsWith("/") || path.indexOf('?') >= 0) {
          throw bad(at + "." + field, "\"" + path + "\"", "a path starting with / and without a query");
        }
        if (!prefix && path.indexOf("{model}") != path.lastIndexOf("{model}")) {
          throw bad(at + ".path", "\"" + path + "\"", "at most one {model} segment");
        }
        String route = routeString(c, at, "route");
        if (!routeNames.contains(route)) {
          throw bad(at + ".route", "\"" + route + "\"", "one of " + String.join(", ", routeNames));
        }
        String api = routeString(c, at, "api");
        if (Api.ofConfigName(api) == null) {
          throw bad(at + ".api", "\"" + api + "\"", "one of " + String.join(", ", apiNames));
        }
        Route r = Arrays.stream(Route.values()).filter(v -> v.label().equals(route)).findFirst().orElseThrow();
        rules.add(new RouteRule(path, prefix, r, Api.ofConfigName(api)));
      }
      return List.copyOf(rules);
    }

    private SettingsException routeFieldMissing(String at, String field) {
      return bad(at + "." + field, "missing", "a string");
    }

    private String routeString(Config c, String at, String field) {
      if (!c.hasPath(field)) {
        throw routeFieldMissing(at, field);
      }
      try {
        return c.getString(field);
      } catch (ConfigException.WrongType e) {
        throw bad(at + "." + field, c.getValue(field).unwrapped(), "a string");
      }
    }

    private Duration sloThreshold(Config c, String at, String field) {
      if (!c.hasPath(field)) {
        return null;
      }
      Duration d;
      try {
        d = c.getDuration(field);
      } catch (ConfigException.BadValue | ConfigException.WrongType e) {
        throw bad(at + "." + field, c.getValue(field).unwrapped(), "a duration such as 500ms");
      }
      if (d.isNegative() || d.isZero()) {
        throw bad(at + "." + field, c.getValue(field).unwrapped(), "a duration > 0");
      }
      return d;
    }
  }
}
