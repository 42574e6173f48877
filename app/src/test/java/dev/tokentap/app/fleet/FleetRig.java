package dev.tokentap.app.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.shadow.ShadowEngine;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fleet through real sockets, for the fleet controller's tests: production emulators each behind
 * its own tokentap, every tokentap shadowing one staging emulator (target {@code staging}, at a
 * configured factor of 0), and the figures read back from the sidecars' registries.
 */
final class FleetRig implements AutoCloseable {
  static final String CHAT = "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final List<Tokentap> sidecars = new ArrayList<>();
  final AtomicInteger stagingSeen = new AtomicInteger();
  final Emulator staging;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final String sidecarConfig;

  /** {@code replicas} production emulators and sidecars, and a staging emulator of {@code stagingSettings} (port 0). */
  FleetRig(int replicas, EmulatorSettings stagingSettings) throws Exception {
    this(replicas, stagingSettings, "");
  }

  /** The same, with {@code sidecarConfig} (HOCON, such as tokentap.slos) in every sidecar's config. */
  FleetRig(int replicas, EmulatorSettings stagingSettings, String sidecarConfig) throws Exception {
    this.sidecarConfig = sidecarConfig;
    staging = later(Emulator.start(stagingSettings.withPort(0)));
    staging.addListener(r -> stagingSeen.incrementAndGet());
    for (int i = 0; i < replicas; i++) {
      addSidecar(staging.baseUri().toString());
    }
  }

  /** One more production emulator behind its own tokentap, shadowing {@code stagingUri}. */
  Tokentap addSidecar(String stagingUri) throws Exception {
    Emulator production = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
    Tokentap sidecar = later(sidecar(production.baseUri().toString(), stagingUri, sidecarConfig));
    sidecars.add(sidecar);
    return sidecar;
  }

  @Override
  public void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  List<SidecarAdmin> admins() {
    List<SidecarAdmin> admins = new ArrayList<>();
    for (Tokentap s : sidecars) {
      admins.add(admin(s));
    }
    return admins;
  }

  SidecarAdmin admin(Tokentap s) {
    return new SidecarAdmin(URI.create("http://127.0.0.1:" + s.adminAddress().getPort()), null, http, Duration.ofSeconds(5));
  }

  List<Integer> adminPorts() {
    return sidecars.stream().map(s -> s.adminAddress().getPort()).toList();
  }

  /** A chat request to replica {@code i}, answered 200. */
  void send(int i) throws Exception {
    send(i, CHAT);
  }

  void send(int i, String body) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + sidecars.get(i).proxyAddress().getPort() + "/v1/chat/completions");
    int status = http.send(HttpRequest.newBuilder(uri).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    assertThat(status).isEqualTo(200);
  }

  /**
   * Steady production traffic until {@code stop}: one sender per replica, replica i sending {@code
   * body} every {@code paceMillis[i]} ms (or as fast as it is answered, without bursts to catch up).
   */
  List<Thread> steadyTraffic(int[] paceMillis, String body, AtomicBoolean stop, AtomicInteger sent) {
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < paceMillis.length; i++) {
      int replica = i;
      Thread t = new Thread(() -> {
        long next = System.nanoTime();
        while (!stop.get()) {
          try {
            send(replica, body);
            sent.incrementAndGet();
            next += paceMillis[replica] * 1_000_000L;
            long wait = next - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } else {
              next = System.nanoTime();
            }
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      }, "fleet-traffic-" + i);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    return threads;
  }

  /** Sends {@code perReplica[i]} requests to replica i, waits until every copy is decided; returns staging's count for them. */
  int stagingLoadFor(int[] perReplica) throws Exception {
    int before = stagingSeen.get();
    List<Thread> senders = new ArrayList<>();
    for (int i = 0; i < perReplica.length; i++) {
      int replica = i;
      int n = perReplica[i];
      Thread t = new Thread(() -> {
        for (int r = 0; r < n; r++) {
          try {
            send(replica);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      });
      t.start();
      senders.add(t);
    }
    for (Thread t : senders) {
      t.join();
    }
    awaitCopiesDecided();
    return stagingSeen.get() - before;
  }

  /** Waits until staging has seen every copy the sidecars sent and none is in flight; none failed or was dropped. */
  void awaitCopiesDecided() throws InterruptedException {
    await("every copy decided and seen by staging", () -> {
      double sent = 0;
      for (Tokentap s : sidecars) {
        sent += copies(s, "sent");
      }
      return sent == stagingSeen.get() && !inFlight();
    });
    for (Tokentap s : sidecars) {
      assertThat(copies(s, "failed") + copies(s, "dropped_queue_full") + copies(s, "dropped_bulkhead")).isZero();
    }
  }

  static void assertWithinBinomial(int received, int requests, double p) {
    double sd = Math.sqrt(requests * p * (1 - p));
    assertThat((double) received).as("staging's copies for %d requests at factor %.4f", requests, p).isBetween(requests * p - 4 * sd, requests * p + 4 * sd);
  }

  static Tokentap sidecar(String production, String staging, String extraConfig) throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("tokentap.proxy.listen", "127.0.0.1:0");
    overrides.put("tokentap.admin.listen", "127.0.0.1:0");
    overrides.put("tokentap.proxy.upstream", production);
    overrides.put("tokentap.proxy.io-threads", 1);
    overrides.put("tokentap.access-log.enabled", false);
    overrides.put("tokentap.proxy.shutdown-grace-period", "1s");
    Config config = ConfigFactory.parseString(extraConfig + "\ntokentap.shadow.targets = [{ name = staging, upstream = \"" + staging + "\", factor = 0, spread-window = 0s, io-threads = 1 }]")
        .withFallback(ConfigFactory.parseMap(overrides))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    Settings settings = SettingsLoader.load(config);
    return Tokentap.start(settings, List.of(ShadowEngine.factory(settings.shadow())));
  }

  static double factor(Tokentap s) {
    return metric(s, "tokentap_shadow_factor\\{target=\"staging\"}");
  }

  static double expired(Tokentap s) {
    return metric(s, "tokentap_shadow_factor_lease_expired_total\\{target=\"staging\"}");
  }

  static double copies(Tokentap s, String result) {
    return metric(s, "tokentap_shadow_copies_total\\{result=\"" + result + "\",target=\"staging\"}");
  }

  private boolean inFlight() {
    return sidecars.stream().anyMatch(s -> s.registry().scrape().matches("(?s).*tokentap_requests_in_flight\\{role=\"shadow\",target=\"staging\"} [1-9].*"));
  }

  static double metric(Tokentap s, String series) {
    Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(s.registry().scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private <T extends AutoCloseable> T later(T c) {
    closing.add(c);
    return c;
  }
}
