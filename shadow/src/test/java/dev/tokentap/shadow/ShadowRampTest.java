package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-means 5 of the load-test issue: a shadow ramp against a staging emulator that can run four
 * sequences at once. Production's own traffic, amplified step by step, finds staging's knee; the
 * steps are recorded, the ramp stops by itself at the first failing step, and the factor goes back.
 */
class ShadowRampTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String BODY =
      "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":24,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"ramp\"}]}";

  @Test
  @Timeout(120)
  void theRampStepsUntilStagingMissesItsSloThenStops() throws Exception {
    // Staging: 2 ms steps, four sequences at a time: ~24 steps a request, so at most ~80 requests/s.
    EngineProfile small = EngineProfile.fast().withBaseStep(Duration.ofMillis(2)).withMaxNumSeqs(4);
    try (Emulator production = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        Emulator staging = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(small));
        ShadowHarness h = new ShadowHarness(production.baseUri().toString(),
            "[{ name = staging, upstream = \"" + staging.baseUri() + "\", factor = 0.5, spread-window = 2s }]",
            "tokentap.slos = [{ model = \"*\", route = \"*\", ttft = 250ms }]\ntokentap.shadow.compare.sample = 1")) {
      AtomicBoolean stop = new AtomicBoolean();
      Thread traffic = new Thread(() -> poisson(h, 10, stop), "ramp-traffic");
      traffic.setDaemon(true);
      traffic.start();
      try {
        HttpResponse<String> started = admin(h, "POST", "?target=staging&factors=1,2,4,8,16&warmup=1s&hold=3s&min-requests=10");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        assertThat(admin(h, "POST", "?target=staging&factors=1,2").statusCode()).as("one ramp at a time").isEqualTo(409);
        assertThat(h.engine.factor("staging")).isEqualTo(1.0);

        await("the ramp to stop by itself", Duration.ofSeconds(90), () -> !state(h).path("state").asText().equals("running"));
      } finally {
        stop.set(true);
        traffic.join();
      }
      JsonNode ramp = state(h);
      assertThat(ramp.path("state").asText()).isEqualTo("knee_found");
      JsonNode steps = ramp.path("steps");
      assertThat(steps.size()).as(ramp.toString()).isBetween(2, 5);
      assertThat(steps.get(0).path("factor").asDouble()).isEqualTo(1.0);
      assertThat(steps.get(0).path("passed").asBoolean()).as(steps.get(0).toString()).isTrue();
      // Every step but the last passed; the last failed, and nothing ran after it.
      for (int i = 0; i < steps.size(); i++) {
        assertThat(steps.get(i).path("passed").asBoolean()).as(steps.get(i).toString()).isEqualTo(i < steps.size() - 1);
        assertThat(steps.get(i).path("requests").asInt()).isGreaterThanOrEqualTo(i < steps.size() - 1 ? 10 : 0);
      }
      JsonNode last = steps.get(steps.size() - 1);
      JsonNode knee = ramp.path("knee");
      assertThat(knee.path("highest_passing_factor").asDouble()).isEqualTo(steps.get(steps.size() - 2).path("factor").asDouble());
      assertThat(knee.path("first_failing_factor").asDouble()).isEqualTo(last.path("factor").asDouble());
      assertThat(knee.path("in_flight").asDouble()).isPositive();
      // Staging's rate followed the factor (production ~10/s) while it passed.
      assertThat(steps.get(1).path("request_rate").asDouble()).isGreaterThan(steps.get(0).path("request_rate").asDouble());
      assertThat(h.engine.factor("staging")).as("the factor is back where it was").isEqualTo(0.5);
      // Each step carries the answers compared during its hold: staging is the same model.
      JsonNode compared = steps.get(0).path("compare");
      assertThat(compared.path("pairs").path("compared").asInt()).as(compared.toString()).isPositive();
      assertThat(compared.path("similarity_mean").asDouble()).isEqualTo(1.0);
    }
  }

  @Test
  void badRampsAreRefusedWithAReason() throws Exception {
    try (Emulator production = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        ShadowHarness h = new ShadowHarness(production.baseUri().toString(), "[{ name = staging, upstream = \"" + production.baseUri() + "\" }]")) {
      assertThat(admin(h, "GET", "").statusCode()).isEqualTo(404);
      assertThat(admin(h, "POST", "?target=nope&factors=1,2").statusCode()).isEqualTo(404);
      HttpResponse<String> descending = admin(h, "POST", "?target=staging&factors=2,1");
      assertThat(descending.statusCode()).isEqualTo(400);
      assertThat(descending.body()).contains("ascending");
      assertThat(admin(h, "POST", "?target=staging&hold=forever").statusCode()).isEqualTo(400);
      assertThat(admin(h, "POST", "?target=staging&attainment=1.5").statusCode()).isEqualTo(400);
      assertThat(admin(h, "POST", "?target=staging&factors=1,2&warmup=10s").statusCode()).isEqualTo(202);
      HttpResponse<String> cancelled = admin(h, "DELETE", "");
      assertThat(cancelled.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(cancelled.body()).path("state").asText()).isEqualTo("cancelled");
      assertThat(h.engine.factor("staging")).isEqualTo(1.0);
    }
  }

  private static JsonNode state(ShadowHarness h) {
    try {
      return JSON.readTree(admin(h, "GET", "").body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static HttpResponse<String> admin(ShadowHarness h, String method, String query) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + h.tokentap.adminAddress().getPort() + "/admin/shadow/ramp" + query);
    return h.http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Production: Poisson arrivals at {@code rate} per second until {@code stop}. */
  private static void poisson(ShadowHarness h, double rate, AtomicBoolean stop) {
    Random random = new Random(7);
    URI uri = URI.create("http://127.0.0.1:" + h.tokentap.proxyAddress().getPort() + "/v1/chat/completions");
    long next = System.nanoTime();
    while (!stop.get()) {
      next += (long) (-Math.log(1 - random.nextDouble()) / rate * 1e9);
      long wait;
      while ((wait = next - System.nanoTime()) > 0 && !stop.get()) {
        LockSupport.parkNanos(wait);
      }
      h.http.sendAsync(HttpRequest.newBuilder(uri).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
          HttpResponse.BodyHandlers.discarding());
    }
  }
}
