package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The passive capacity estimate against an emulator with a known knee: four sequences at a time,
 * about 144 ms of decoding a request, and a TTFT SLO of 300 ms. A request arriving with c in flight
 * waits about (c - 4) × 36 ms for a slot, so TTFT stays within 300 ms up to about c = 11 and the knee
 * lies between 8 and 12 in flight, where these clients leave no evidence: the estimate lies between
 * the counts they do fill (docs/capacity.md; {@link CapacityKneeTest} fills them and checks the
 * estimate within 10 %). The times are three times what the knee needs, so a loaded
 * machine's pauses (up to ~200 ms seen at one request in flight) do not fail the levels below it. Closed-loop clients at 1, 2, 4, 8, 16 and 32 give the estimator
 * its evidence; nobody tells it the knee.
 */
class CapacityEstimatorTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String BODY =
      "{\"model\":\"m\",\"stream\":true,\"max_tokens\":24,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"load\"}]}";

  @Test
  @Timeout(240)
  void theEstimateFindsTheKneeFromProductionTrafficAlone() throws Exception {
    EngineProfile fourSlots = EngineProfile.fast().withBaseStep(Duration.ofMillis(6)).withMaxNumSeqs(4);
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(fourSlots));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(),
            Map.of("tokentap.slos", List.of(Map.of("model", "*", "route", "*", "ttft", "300ms")), "tokentap.proxy.io-threads", 2))) {
      assertThat(estimateGauge(proxy)).isNull(); // no evidence, no series
      for (int clients : new int[] {1, 2, 4, 8, 16, 32}) {
        closedLoop(proxy, clients, Math.max(40 / clients, 3));
      }
      JsonNode evidence = JSON.readTree(admin(proxy).body()).path("targets").path("production");
      System.out.println("capacity estimate evidence: " + evidence);
      assertThat(evidence.path("knee_seen").asBoolean()).as(evidence.toString()).isTrue();
      double estimate = evidence.path("estimate_in_flight").asDouble();
      assertThat(estimate).as(evidence.toString()).isBetween(4.0, 16.0);
      assertThat(estimateGauge(proxy)).isCloseTo(estimate, org.assertj.core.api.Assertions.within(1e-3));
      assertThat(evidence.path("estimate_in_flight_lower").asDouble()).isLessThanOrEqualTo(estimate);
      assertThat(evidence.path("estimate_in_flight_upper").asDouble()).isGreaterThanOrEqualTo(estimate);
      // The fitted attainment never rises with load; the bins wholly below the estimate passed, and
      // one above it failed, its requests slower than the SLO.
      double previous = 1;
      boolean failedAbove = false;
      for (JsonNode bin : evidence.path("fit")) {
        assertThat(bin.path("fitted").asDouble()).isLessThanOrEqualTo(previous);
        previous = bin.path("fitted").asDouble();
        if (bin.path("in_flight_to").asDouble() < estimate) {
          assertThat(bin.path("fitted").asDouble()).as(bin.toString()).isGreaterThanOrEqualTo(0.9);
        } else if (bin.path("in_flight_from").asDouble() > estimate && bin.path("fitted").asDouble() < 0.9) {
          failedAbove = true;
        }
      }
      assertThat(failedAbove).as(evidence.toString()).isTrue();
      JsonNode slowest = evidence.path("levels").get(evidence.path("levels").size() - 1);
      assertThat(slowest.path("ttft_p99_ms").asDouble()).isGreaterThan(300);
    }
  }

  /** {@code clients} threads, each sending {@code each} requests one after another. */
  private static void closedLoop(ProxyHarness proxy, int clients, int each) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread t = new Thread(() -> {
        for (int i = 0; i < each; i++) {
          try {
            assertThat(proxy.post("/v1/chat/completions", BODY).statusCode()).isEqualTo(200);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private static Double estimateGauge(ProxyHarness proxy) throws Exception {
    Matcher m = Pattern.compile("(?m)^tokentap_capacity_estimate_in_flight\\{target=\"production\"} (\\S+)$").matcher(proxy.metrics());
    return m.find() ? Double.valueOf(m.group(1)) : null;
  }

  private static HttpResponse<String> admin(ProxyHarness proxy) throws Exception {
    return proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl("/admin/capacity/estimate")).build(), HttpResponse.BodyHandlers.ofString());
  }
}
