package dev.tokentap.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code tokentap.shadow.targets}: each entry over {@code tokentap.shadow.defaults}, every
 * problem reported with the entry's full key ({@code tokentap.shadow.targets[0].factor}). A
 * target's headers removed are {@code tokentap.shadow.drop-headers} (the client's credentials)
 * plus its own {@code remove-headers}: docs/shadow.md, "What staging receives".
 */
final class ShadowTargetsReader {
  private static final String KEY = "tokentap.shadow.targets";
  private static final String DROP_KEY = "tokentap.shadow.drop-headers";
  /** An HTTP field name: one or more tchar (RFC 9110 §5.1). */
  private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final Set<String> ROUTES = Set.of("*", "chat", "completions", "responses", "messages", "generate", "embeddings", "other");

  private ShadowTargetsReader() {}

  static List<ShadowTarget> read(Config config, Function<String, String> env) {
    List<? extends Config> list;
    try {
      list = config.getConfigList(KEY);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(KEY + ": " + config.getValue(KEY).unwrapped() + " (expected: a list of { name, upstream, ... } objects)");
    }
    List<String> dropped = headerNames(new SettingsLoader.Reader(config), DROP_KEY);
    Config defaults = config.getConfig("tokentap.shadow.defaults");
    Set<String> known = defaults.root().keySet();
    List<ShadowTarget> targets = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      Config c = list.get(i);
      String at = KEY + "[" + i + "].";
      for (String field : c.root().keySet()) {
        if (!known.contains(field)) {
          throw new SettingsException(at + field + ": " + c.getValue(field).unwrapped() + " (expected: one of " + String.join(", ", known.stream().sorted().toList()) + ")");
        }
      }
      ShadowTarget t = target(new SettingsLoader.Reader(c.withFallback(defaults), at), env, dropped);
      if (!names.add(t.name())) {
        throw new SettingsException(at + "name: \"" + t.name() + "\" (expected: a name no other target has)");
      }
      targets.add(t);
    }
    return List.copyOf(targets);
  }

  /**
   * Header names at {@code key}, lower-cased, without repeats: a list, or one comma-separated
   * string (the form an environment variable gives). A blank string is refused, not read as "none":
   * an empty variable must not quietly send the client's credentials to staging.
   */
  static List<String> headerNames(SettingsLoader.Reader r, String key) {
    ConfigValue v = r.config().getValue(key);
    List<String> names;
    if (v.valueType() == ConfigValueType.STRING) {
      String text = (String) v.unwrapped();
      if (text.isBlank()) {
        throw r.bad(key, "\"\"", "header names, as a list or comma-separated; [] in a config file to name none");
      }
      names = List.of(text.split(",", -1));
    } else {
      names = r.stringList(key);
    }
    Set<String> out = new LinkedHashSet<>();
    for (String n : names) {
      String name = n.trim();
      if (!FIELD_NAME.matcher(name).matches()) {
        throw r.bad(key, "\"" + n + "\"", "header names (letters, digits and !#$%&'*+.^_`|~-), as a list or comma-separated");
      }
      out.add(name.toLowerCase(Locale.ROOT));
    }
    return List.copyOf(out);
  }

  private static ShadowTarget target(SettingsLoader.Reader r, Function<String, String> env, List<String> dropped) {
    String name = r.label("name");
    UpstreamUri upstream = r.upstream("upstream");
    double factor = r.doubleAtLeast("factor", 0);
    String sampleBy = r.string("sample-by");
    ShadowTarget.SampleKey key = null;
    if (!sampleBy.isEmpty()) {
      int colon = sampleBy.indexOf(':');
      String kind = colon < 0 ? "" : sampleBy.substring(0, colon);
      String field = colon < 0 ? "" : sampleBy.substring(colon + 1);
      if (!(kind.equals("header") || kind.equals("json")) || field.isBlank()) {
        throw r.bad("sample-by", "\"" + sampleBy + "\"", "\"\", header:NAME or json:FIELD");
      }
      key = new ShadowTarget.SampleKey(kind.equals("header"), field);
    }
    List<String> routes = r.stringList("routes");
    for (String route : routes) {
      if (!ROUTES.contains(route)) {
        throw r.bad("routes", "\"" + route + "\"", "route labels among " + String.join(", ", ROUTES.stream().sorted().toList()));
      }
    }
    List<String> models = r.stringList("models");
    String model = r.string("model");
    Map<String, String> setHeaders = new LinkedHashMap<>();
    Config headers = r.config().getConfig("set-headers");
    for (Map.Entry<String, ConfigValue> e : headers.root().entrySet()) {
      Object v = e.getValue().unwrapped();
      if (!(v instanceof String) && !(v instanceof Number)) {
        throw r.bad("set-headers." + e.getKey(), v, "a string");
      }
      setHeaders.put(e.getKey(), String.valueOf(v));
    }
    Set<String> removeHeaders = new LinkedHashSet<>(dropped);
    removeHeaders.addAll(headerNames(r, "remove-headers"));
    String authEnv = r.string("authorization-env");
    String token = null;
    if (!authEnv.isEmpty()) {
      token = env.apply(authEnv);
      if (token == null || token.isBlank()) {
        throw r.bad("authorization-env", "\"" + authEnv + "\"", "the name of a set, non-empty environment variable");
      }
    }
    String busting = r.string("cache-busting");
    ShadowTarget.CacheBusting cacheBusting = null;
    for (ShadowTarget.CacheBusting b : ShadowTarget.CacheBusting.values()) {
      if (b.configName().equals(busting)) {
        cacheBusting = b;
      }
    }
    if (cacheBusting == null) {
      throw r.bad("cache-busting", "\"" + busting + "\"", "none, nonce or cache-salt");
    }
    double threshold = r.doubleAtLeast("circuit-breaker.failure-rate-threshold", 0);
    if (threshold <= 0 || threshold > 100) {
      throw r.bad("circuit-breaker.failure-rate-threshold", threshold, "a percentage in (0, 100]");
    }
    ShadowTarget.Breaker breaker =
        new ShadowTarget.Breaker(
            (float) threshold,
            r.intAtLeast("circuit-breaker.sliding-window", 1),
            r.intAtLeast("circuit-breaker.minimum-calls", 1),
            r.positiveDuration("circuit-breaker.open-duration"));
    java.time.Duration window = r.duration("spread-window");
    return new ShadowTarget(
        name,
        upstream,
        factor,
        window,
        key,
        routes,
        models,
        model.isEmpty() ? null : model,
        setHeaders,
        List.copyOf(removeHeaders),
        token,
        cacheBusting,
        r.size("max-body", 0),
        r.intAtLeast("queue-size", 1),
        r.intAtLeast("max-concurrent-streams", 1),
        r.doubleAtLeast("max-rate", 0),
        breaker,
        r.positiveDuration("connect-timeout"),
        r.positiveDuration("first-byte-timeout"),
        r.positiveDuration("idle-timeout"),
        r.intAtLeast("io-threads", 1),
        r.clientTls("tls"),
        r.bool("baseline"));
  }
}
