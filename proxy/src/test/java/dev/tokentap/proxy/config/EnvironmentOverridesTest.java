package dev.tokentap.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every scalar key of reference.conf can be set from the environment (Kubernetes manifests set
 * environment variables, not files), under the name the file's header promises: {@code TOKENTAP_}
 * and the key's path after {@code tokentap.}, upper-case, with dots and dashes as underscores.
 * Lists and objects are set in a file, and so are the shadow target defaults (they go with the
 * targets, which are a list).
 */
class EnvironmentOverridesTest {
  private static final Pattern BLOCK = Pattern.compile("([\\w.-]+)\\s*\\{");
  private static final Pattern KEY = Pattern.compile("([\\w.-]+)\\s*=\\s*(.*)");
  private static final Pattern OVERRIDE = Pattern.compile("([\\w.-]+)\\s*=\\s*\\$\\{\\?(\\w+)}");

  private record Key(String path, String envName, boolean hasOverride, String overrideName) {}

  @Test
  void everyScalarKeyHasItsEnvironmentOverride() throws IOException {
    List<Key> keys = scalarKeys();
    assertThat(keys).hasSizeGreaterThan(60);
    assertThat(keys)
        .filteredOn(k -> !k.path().startsWith("tokentap.shadow.defaults."))
        .allSatisfy(k -> {
          assertThat(k.hasOverride()).as("%s has no ${?%s} line after it", k.path(), k.envName()).isTrue();
          assertThat(k.overrideName()).as(k.path()).isEqualTo(k.envName());
        });
  }

  /** The override lines work: resolved from an environment, the values reach the settings. */
  @Test
  void overridesFromTheEnvironmentReachTheSettings() {
    Map<String, String> env = Map.of(
        "TOKENTAP_UPSTREAM_MAX_CONNECTIONS_PER_LOOP", "2048",
        "TOKENTAP_UPSTREAM_IDLE_TIMEOUT", "7s",
        "TOKENTAP_UPSTREAM_RETRY_UNANSWERED", "false",
        "TOKENTAP_PROXY_MAX_HEADER_SIZE", "32KiB",
        "TOKENTAP_CAPACITY_ESTIMATE_MIN_REQUESTS", "77");
    // ${?NAME} looks NAME up in the config's root before the process environment: the map stands
    // in for the environment at the root.
    Settings s = SettingsLoader.load(
        ConfigFactory.parseMap(env)
            .withFallback(ConfigFactory.parseResources("reference.conf", ConfigParseOptions.defaults().setAllowMissing(false)))
            .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false)));
    assertThat(s.upstream().maxConnectionsPerLoop()).isEqualTo(2048);
    assertThat(s.upstream().idleTimeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(s.upstream().retryUnanswered()).isFalse();
    assertThat(s.proxy().maxHeaderSize()).isEqualTo(32 * 1024);
    assertThat(s.capacity().estimate().minRequests()).isEqualTo(77);
  }

  /** Keys whose default is a scalar, with the override line that follows each (if any). */
  private static List<Key> scalarKeys() throws IOException {
    String text;
    try (InputStream in = EnvironmentOverridesTest.class.getClassLoader().getResourceAsStream("reference.conf")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] lines = text.split("\n");
    Deque<String> path = new ArrayDeque<>();
    List<Key> keys = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher block = BLOCK.matcher(line);
      if (block.matches()) {
        path.addLast(block.group(1));
        continue;
      }
      if (line.startsWith("}")) {
        path.removeLast();
        continue;
      }
      Matcher key = KEY.matcher(line);
      if (!key.matches() || path.isEmpty()) {
        continue; // a list's continuation line
      }
      String value = key.group(2);
      if (value.startsWith("[") || value.startsWith("{") || value.startsWith("$")) {
        continue; // a list, an object, or an override line itself
      }
      List<String> segments = new ArrayList<>(path);
      segments.add(key.group(1));
      String full = String.join(".", segments);
      String env = "TOKENTAP_" + String.join("_", segments.subList(1, segments.size())).toUpperCase(Locale.ROOT).replace('-', '_');
      Matcher next = i + 1 < lines.length ? OVERRIDE.matcher(lines[i + 1].strip()) : null;
      boolean has = next != null && next.matches() && next.group(1).equals(key.group(1));
      keys.add(new Key(full, env, has, has ? next.group(2) : null));
    }
    return keys;
  }
}
