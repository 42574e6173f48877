package dev.tokentap.app.fleet;

import static dev.tokentap.app.fleet.FleetRig.factor;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.shadow.RampSteps;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 17's fleet ramp, through real sockets in static-list mode: three production replicas at
 * about 10 requests/s each behind their own tokentaps, and a staging emulator of known capacity:
 * four sequence slots, about 49 steps of 2 ms a request, so about 4 / 0.1 s = 40 requests/s, four
 * replicas' worth. Staging's TTFT SLO (100 ms) breaks once copies wait for a slot, that is once more
 * than four are in flight. The ramp steps in replicas' worth, judged on staging's results over the
 * fleet (the sidecars' counters), and must stop at a knee whose copies in flight are near the four
 * slots, then release every sidecar.
 */
@Timeout(120)
class FleetRampTest {
  static final int SLOTS = 4;
  static final double SERVICE_SECONDS = 49 * 0.002; // the model's time a request holds a slot
  static final String BODY =
      "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":48,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"ramp\"}]}";

  @Test
  void aFleetRampFindsTheKneeOfAStagingServerWithKnownCapacity() throws Exception {
    EngineProfile small = EngineProfile.fast().withBaseStep(Duration.ofMillis(2)).withMaxNumSeqs(SLOTS);
    try (FleetRig rig = new FleetRig(3, EmulatorSettings.defaults().withProfile(small), "tokentap.slos = [{ model = \"*\", route = \"*\", ttft = 100ms }]")) {
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> traffic = rig.steadyTraffic(new int[] {100, 100, 100}, BODY, stop, new AtomicInteger());
      ObjectNode result;
      try (FleetRamp ramp = new FleetRamp(SidecarSource.of(rig.admins()), new SidecarCounters(),
          new RampSteps.Plan("staging", List.of(1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0), Duration.ofMillis(500), Duration.ofSeconds(2), 0.9, 10),
          16, Duration.ofSeconds(5), Duration.ofMillis(500))) {
        ramp.start();
        result = ramp.await();
      } finally {
        stop.set(true);
        for (Thread t : traffic) {
          t.join(10_000);
        }
      }
      JsonNode steps = result.path("steps");
      assertThat(result.path("state").asText()).as(result.toPrettyString()).isEqualTo("knee_found");
      assertThat(steps.get(0).path("passed").asBoolean()).as("1.5 replicas' worth, a third of capacity: %s", steps.get(0)).isTrue();
      for (int i = 0; i < steps.size(); i++) {
        assertThat(steps.get(i).path("passed").asBoolean()).as(steps.get(i).toString()).isEqualTo(i < steps.size() - 1);
      }
      JsonNode knee = result.path("knee");
      JsonNode passing = steps.get(steps.size() - 2);
      JsonNode failing = steps.get(steps.size() - 1);
      assertThat(knee.path("highest_passing_factor").asDouble()).isEqualTo(passing.path("factor").asDouble());
      // The knee in staging's copies in flight: near the slots (a step below it may sit lower, by the step's ratio and the load).
      assertThat(knee.path("in_flight").asDouble()).as(result.toPrettyString()).isBetween(0.3 * SLOTS, 2.5 * SLOTS);
      // A step fails when copies queue for a slot: more in flight than about the slots.
      assertThat(failing.path("in_flight").asDouble()).as(result.toPrettyString()).isGreaterThan(0.75 * SLOTS);
      // No step passes above the staging server's capacity (the model's; a loaded machine only lowers it).
      assertThat(passing.path("request_rate").asDouble()).isLessThan(1.25 * SLOTS / SERVICE_SECONDS);
      assertThat(result.path("factors_in").asText()).contains("replicas' worth");
      assertThat(rig.sidecars).as("every sidecar released").allSatisfy(s -> assertThat(factor(s)).isZero());
    }
  }
}
