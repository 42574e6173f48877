package dev.tokentap.app.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Each sidecar's factor for a share of the fleet's traffic. */
class FleetShareTest {

  @Test
  void replicasAreSharedOverTheSidecarsAndFollowTheirNumber() {
    FleetShare twice = new FleetShare(FleetShare.Kind.REPLICAS, 2, 16);
    assertThat(twice.factor(3, Double.NaN)).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(twice.factor(4, Double.NaN)).as("a fourth sidecar joins").isEqualTo(0.5);
    assertThat(twice.factor(1, Double.NaN)).isEqualTo(2.0);
    assertThat(twice.factor(0, Double.NaN)).isNaN();
    assertThat(twice.needsTraffic()).isFalse();
  }

  @Test
  void aFleetMultipleIsTheSameOnEverySidecar() {
    assertThat(new FleetShare(FleetShare.Kind.FLEET, 0.25, 16).factor(10, Double.NaN)).isEqualTo(0.25);
  }

  @Test
  void aRateIsDividedByTheFleetsTrafficAndCapped() {
    FleetShare rate = new FleetShare(FleetShare.Kind.RATE, 30, 4);
    assertThat(rate.needsTraffic()).isTrue();
    assertThat(rate.factor(3, Double.NaN)).as("traffic not read yet").isNaN();
    assertThat(rate.factor(3, 60)).isEqualTo(0.5);
    assertThat(rate.factor(3, 5)).as("a quiet fleet").isEqualTo(4.0);
    assertThat(rate.factor(3, 0)).isEqualTo(4.0);
    assertThat(new FleetShare(FleetShare.Kind.RATE, 0, 4).factor(3, 0)).isZero();
  }

  @Test
  void badAmountsAreRefusedWithAReason() {
    assertThatThrownBy(() -> new FleetShare(FleetShare.Kind.REPLICAS, -1, 16)).hasMessageContaining("replicas: -1.0 (expected: a number >= 0)");
    assertThatThrownBy(() -> new FleetShare(FleetShare.Kind.RATE, Double.NaN, 16)).hasMessageContaining("rate");
    assertThatThrownBy(() -> new FleetShare(FleetShare.Kind.FLEET, 1, 0)).hasMessageContaining("max-factor");
  }
}
