package dev.tokentap.app.fleet;

import static dev.tokentap.app.fleet.FleetRig.assertWithinBinomial;
import static dev.tokentap.app.fleet.FleetRig.await;
import static dev.tokentap.app.fleet.FleetRig.expired;
import static dev.tokentap.app.fleet.FleetRig.factor;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import java.time.Duration;
import java.util.List;
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
  static final int[] REQUESTS = {60, 120, 180}; // per replica; mean 120
  FleetRig rig;
  List<Tokentap> sidecars;

  @BeforeEach
  void start() throws Exception {
    rig = new FleetRig(3, EmulatorSettings.defaults().withProfile(EngineProfile.fast()));
    sidecars = rig.sidecars;
  }

  @AfterEach
  void stop() throws Exception {
    rig.close();
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
    int before = rig.stagingSeen.get();
    stagingLoadFor(new int[] {10, 10, 10});
    Thread.sleep(300);
    assertThat(rig.stagingSeen.get()).as("no copies at the configured factor 0").isEqualTo(before);
  }

  @Test
  void aFourthSidecarJoiningMakesTheFactorsKOverFourWithinOneRound() throws Exception {
    java.util.concurrent.CopyOnWriteArrayList<SidecarAdmin> fleet = new java.util.concurrent.CopyOnWriteArrayList<>(admins());
    try (FleetShadowController controller = new FleetShadowController((SidecarSource) () -> List.copyOf(fleet), "staging",
        new FleetShare(FleetShare.Kind.REPLICAS, 2, 16), Duration.ofSeconds(30))) {
      assertThat(controller.reconcile().factor()).isCloseTo(2.0 / 3, org.assertj.core.api.Assertions.within(1e-12));
      Tokentap fourth = rig.addSidecar("http://127.0.0.1:1");
      fleet.add(rig.admin(fourth));
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

  private int stagingLoadFor(int[] perReplica) throws Exception {
    return rig.stagingLoadFor(perReplica);
  }

  private FleetShadowController controller(FleetShare share, Duration lease) {
    return new FleetShadowController(admins(), "staging", share, lease);
  }

  private List<SidecarAdmin> admins() {
    return rig.admins();
  }
}
