package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real proxy on ephemeral ports in front of {@code production}, mirroring to the given targets. */
final class ShadowHarness implements AutoCloseable {
  static final String CHAT = "{\"model\":\"m1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"user\":\"u1\"}";

  final Tokentap tokentap;
  ShadowEngine engine;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** {@code targets}: HOCON for {@code tokentap.shadow.targets}, "[]" for none. */
  ShadowHarness(String production, String targets) throws Exception {
    this(production, targets, "");
  }

  /** {@code extra}: more HOCON, such as {@code tokentap.slos = [...]}. */
  ShadowHarness(String production, String targets, String extra) throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("tokentap.proxy.listen", "127.0.0.1:0");
    overrides.put("tokentap.admin.listen", "127.0.0.1:0");
    overrides.put("tokentap.proxy.upstream", production);
    overrides.put("tokentap.proxy.io-threads", 2);
    overrides.put("tokentap.access-log.enabled", false);
    overrides.put("tokentap.proxy.shutdown-grace-period", "1s");
    Config config =
        ConfigFactory.parseString("tokentap.shadow.targets = " + targets + "\n" + extra)
            .withFallback(ConfigFactory.parseMap(overrides))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    Settings settings = SettingsLoader.load(config, name -> name.equals("STAGING_KEY") ? "sk-staging" : null);
    tokentap =
        Tokentap.start(settings, settings.shadow().targets().isEmpty() ? List.of() : List.of(recorder -> engine = ShadowEngine.start(settings.shadow(), recorder, 42L)));
  }

  HttpResponse<byte[]> post(String path, String json, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tokentap.proxyAddress().getPort() + path))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  String scrape() {
    return tokentap.registry().scrape();
  }

  /** tokentap_shadow_copies_total{target,result}. */
  double copies(String target, String result) {
    Matcher m = Pattern.compile("(?m)^tokentap_shadow_copies_total\\{result=\"" + result + "\",target=\"" + target + "\"} (\\S+)$").matcher(scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  double allCopies(String target) {
    double sum = 0;
    for (CopyResult r : CopyResult.values()) {
      sum += copies(target, r.label);
    }
    return sum;
  }

  /**
   * Every copy of {@code targets} decided: none streaming, and the totals unchanged over {@code
   * quiet} (longer than the spread window, so no copy is still waiting to leave).
   */
  void awaitSettled(Duration timeout, Duration quiet, String... targets) throws InterruptedException {
    await("every shadow copy decided", timeout, () -> {
      if (scrape().matches("(?s).*tokentap_requests_in_flight\\{role=\"shadow\",target=\"[^\"]+\"} [1-9].*")) {
        return false;
      }
      double before = 0;
      for (String t : targets) {
        before += allCopies(t);
      }
      try {
        Thread.sleep(quiet.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return true;
      }
      double after = 0;
      for (String t : targets) {
        after += allCopies(t);
      }
      return before == after;
    });
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private boolean closed;

  /** Stops the proxy (and flushes its files); a second call does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    tokentap.close();
  }
}
