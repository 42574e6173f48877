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
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 17, done-means 1 in static-list mode, through real sockets: three production emulators each
 * behind its own tokentap, all shadowing one staging emulator at a configured factor of 0, and the
 * fleet controller holding staging at k times the mean replica's load. Production's traffic is
 * uneven across the replicas (1 : 2 : 3), so only k/N on every sidecar gives k times the mean.
 */
@Timeout(120)
class FleetShadowTest {
  static final String CHAT = "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final int[] REQUESTS = {60, 120, 180}; // per replica; mean 120
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final List<AutoCloseable> closing = new ArrayList<>();
  final List<Tokentap> sidecars = new ArrayList<>();
  final AtomicInteger stagingSeen = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    Emulator staging = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
    staging.addListener(r -> stagingSeen.incrementAndGet());
    for (int i = 0; i < 3; i++) {
      Emulator production = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
      sidecars.add(later(sidecar(production.baseUri().toString(), staging.baseUri().toString())));
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void stagingGetsKTimesTheMeanReplicaAndTheSidecarsReturnWhenTheControllerStops() throws Exception {
    // k = 2: every sidecar at 2/3; staging gets 2 × 120 copies, each request Bernoulli(2/3).
    FleetShadowController twice = controller(new FleetShare(FleetShare.Kind.REPLICAS, 2, 16), Duration.ofSeconds(3));
    twice.start(Duration.ofMillis(500)); // six renewals a lease: a loaded machine's pauses do not let it run out
    await("every sidecar at 2/3", () -> twice.last() != null && sidecars.stream().allMatch(s -> Math.abs(factor(s) - 2.0 / 3) < 1e-9));
    assertThat(twice.last().sidecars()).isEqualTo(3);
    int received = stagingLoadFor(REQUESTS);
    assertWithinBinomial(received, 360, 2.0 / 3);

    twice.close(); // a controller stopped on purpose releases at once
    for (Tokentap s : sidecars) {
      assertThat(factor(s)).isZero();
      assertThat(expired(s)).isZero();
    }

    // k = 0.5: every sidecar at 1/6; staging gets half a replica's load, 60 copies.
    FleetShadowController half = controller(new FleetShare(FleetShare.Kind.REPLICAS, 0.5, 16), Duration.ofSeconds(3));
    half.start(Duration.ofMillis(500));
    await("every sidecar at 1/6", () -> sidecars.stream().allMatch(s -> Math.abs(factor(s) - 1.0 / 6) < 1e-9));
    received = stagingLoadFor(REQUESTS);
    assertWithinBinomial(received, 360, 1.0 / 6);

    // A controller that dies renews nothing: within the lease every sidecar is back at 0 by itself.
    half.abandon();
    await("every lease to run out", () -> sidecars.stream().allMatch(s -> factor(s) == 0 && expired(s) == 1));
    int before = stagingSeen.get();
    stagingLoadFor(new int[] {10, 10, 10});
    Thread.sleep(300);
    assertThat(stagingSeen.get()).as("no copies at the configured factor 0").isEqualTo(before);
  }

  @Test
  void aFourthSidecarJoiningMakesTheFactorsKOverFourWithinOneRound() throws Exception {
    java.util.concurrent.CopyOnWriteArrayList<SidecarAdmin> fleet = new java.util.concurrent.CopyOnWriteArrayList<>(admins());
    try (FleetShadowController controller = new FleetShadowController((SidecarSource) () -> List.copyOf(fleet), "staging",
        new FleetShare(FleetShare.Kind.REPLICAS, 2, 16), Duration.ofSeconds(30))) {
      assertThat(controller.reconcile().factor()).isCloseTo(2.0 / 3, org.assertj.core.api.Assertions.within(1e-12));
      Emulator production = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
      Tokentap fourth = later(sidecar(production.baseUri().toString(), "http://127.0.0.1:1"));
      sidecars.add(fourth);
      fleet.add(new SidecarAdmin(URI.create("http://127.0.0.1:" + fourth.adminAddress().getPort()), null, http, Duration.ofSeconds(5)));
      FleetShadowController.Round round = controller.reconcile();
      assertThat(round.sidecars()).isEqualTo(4);
      assertThat(round.factor()).isEqualTo(0.5);
      assertThat(sidecars).allSatisfy(s -> assertThat(factor(s)).isEqualTo(0.5));
      fleet.remove(0); // one leaves (its lease runs out by itself): the other three go back to 2/3
      assertThat(controller.reconcile().factor()).isCloseTo(2.0 / 3, org.assertj.core.api.Assertions.within(1e-12));
    }
  }

  @Test
  void aRateShareFollowsTheFleetsTrafficAndBadSettingsAreRefused() throws Exception {
    FleetShadowController rate = controller(new FleetShare(FleetShare.Kind.RATE, 5, 16), Duration.ofSeconds(2));
    assertThat(rate.reconcile().factor()).as("no traffic figures yet").isNaN();
    Thread t = new Thread(() -> {
      try {
        stagingLoadFor(new int[] {40, 40, 40});
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    t.start();
    t.join();
    FleetShadowController.Round round = rate.reconcile();
    assertThat(round.sidecars()).isEqualTo(3);
    assertThat(round.fleetRate()).isPositive();
    assertThat(round.factor()).isCloseTo(Math.min(16, 5 / round.fleetRate()), org.assertj.core.api.Assertions.within(1e-9));
    rate.close();

    List<SidecarAdmin> none = List.of();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FleetShadowController(none, "staging", new FleetShare(FleetShare.Kind.FLEET, 1, 16), Duration.ofSeconds(30)))
        .hasMessageContaining("sidecars");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> controller(new FleetShare(FleetShare.Kind.FLEET, 1, 16), Duration.ofSeconds(1)).start(Duration.ofSeconds(1)))
        .hasMessageContaining("half the lease");
    FleetShadowController wrongTarget = new FleetShadowController(admins(), "nope", new FleetShare(FleetShare.Kind.FLEET, 1, 16), Duration.ofSeconds(30));
    assertThat(wrongTarget.reconcile().sidecars()).as("404 from every sidecar").isZero();
  }

  // ---------------------------------------------------------------- helpers

  /** Sends {@code perReplica[i]} requests to replica i, waits until every copy is decided; returns staging's count for them. */
  private int stagingLoadFor(int[] perReplica) throws Exception {
    int before = stagingSeen.get();
    List<Thread> senders = new ArrayList<>();
    for (int i = 0; i < perReplica.length; i++) {
      URI uri = URI.create("http://127.0.0.1:" + sidecars.get(i).proxyAddress().getPort() + "/v1/chat/completions");
      int n = perReplica[i];
      Thread t = new Thread(() -> {
        for (int r = 0; r < n; r++) {
          try {
            HttpResponse<Void> res = http.send(HttpRequest.newBuilder(uri).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(res.statusCode()).isEqualTo(200);
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
    return stagingSeen.get() - before;
  }

  private static void assertWithinBinomial(int received, int requests, double p) {
    double sd = Math.sqrt(requests * p * (1 - p));
    assertThat((double) received).as("staging's copies for %d requests at factor %.4f", requests, p).isBetween(requests * p - 4 * sd, requests * p + 4 * sd);
  }

  private FleetShadowController controller(FleetShare share, Duration lease) {
    return new FleetShadowController(admins(), "staging", share, lease);
  }

  private List<SidecarAdmin> admins() {
    List<SidecarAdmin> admins = new ArrayList<>();
    for (Tokentap s : sidecars) {
      admins.add(new SidecarAdmin(URI.create("http://127.0.0.1:" + s.adminAddress().getPort()), null, http, Duration.ofSeconds(5)));
    }
    return admins;
  }

  private static Tokentap sidecar(String production, String staging) throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("tokentap.proxy.listen", "127.0.0.1:0");
    overrides.put("tokentap.admin.listen", "127.0.0.1:0");
    overrides.put("tokentap.proxy.upstream", production);
    overrides.put("tokentap.proxy.io-threads", 1);
    overrides.put("tokentap.access-log.enabled", false);
    overrides.put("tokentap.proxy.shutdown-grace-period", "1s");
    Config config = ConfigFactory.parseString("tokentap.shadow.targets = [{ name = staging, upstream = \"" + staging + "\", factor = 0, spread-window = 0s, io-threads = 1 }]")
        .withFallback(ConfigFactory.parseMap(overrides))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    Settings settings = SettingsLoader.load(config);
    return Tokentap.start(settings, List.of(ShadowEngine.factory(settings.shadow())));
  }

  private static double factor(Tokentap s) {
    return metric(s, "tokentap_shadow_factor\\{target=\"staging\"}");
  }

  private static double expired(Tokentap s) {
    return metric(s, "tokentap_shadow_factor_lease_expired_total\\{target=\"staging\"}");
  }

  private static double copies(Tokentap s, String result) {
    return metric(s, "tokentap_shadow_copies_total\\{result=\"" + result + "\",target=\"staging\"}");
  }

  private boolean inFlight() {
    return sidecars.stream().anyMatch(s -> s.registry().scrape().matches("(?s).*tokentap_requests_in_flight\\{role=\"shadow\",target=\"staging\"} [1-9].*"));
  }

  private static double metric(Tokentap s, String series) {
    Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(s.registry().scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
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
