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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Factors on a lease (issue 17, item 3), through real sockets: a factor set with a ttl holds while it
 * is renewed and, once left alone, runs out and puts the target back to its configured factor by
 * itself: the copies follow, a counter and the admin state say so.
 */
@Timeout(60)
class FactorLeaseTest {
  static final ObjectMapper JSON = new ObjectMapper();
  Emulator production;
  Emulator staging;
  ShadowHarness h;

  @BeforeEach
  void start() throws Exception {
    production = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    staging = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    h = new ShadowHarness(production.baseUri().toString(),
        "[{ name = staging, upstream = \"" + staging.baseUri() + "\", factor = 0, spread-window = 0s }]");
  }

  @AfterEach
  void stop() {
    h.close();
    staging.close();
    production.close();
  }

  @Test
  void anUnrenewedLeaseRunsOutAndTheConfiguredFactorReturns() throws Exception {
    // Long enough for three requests and their copies on a loaded machine; nothing renews it.
    HttpResponse<String> put = admin("PUT", "?target=staging&factor=2&ttl=5s");
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    JsonNode t = target(put.body());
    assertThat(t.path("factor").asDouble()).isEqualTo(2.0);
    assertThat(t.path("configured_factor").asDouble()).isEqualTo(0.0);
    assertThat(t.path("lease_seconds_left").asDouble()).isBetween(0.0, 5.0);
    for (int i = 0; i < 3; i++) {
      assertThat(h.post("/v1/chat/completions", ShadowHarness.CHAT).statusCode()).isEqualTo(200);
    }
    await("two copies each while leased", Duration.ofSeconds(10), () -> h.copies("staging", "sent") == 6);
    assertThat(expired()).isZero();

    await("the lease to run out", Duration.ofSeconds(15), () -> expired() == 1);
    assertThat(h.engine.factor("staging")).isEqualTo(0.0);
    JsonNode after = target(admin("GET", "").body());
    assertThat(after.path("factor").asDouble()).isEqualTo(0.0);
    assertThat(after.path("lease_seconds_left").isNull()).isTrue();
    assertThat(h.scrape()).contains("tokentap_shadow_factor{target=\"staging\"} 0.0");
    for (int i = 0; i < 3; i++) {
      h.post("/v1/chat/completions", ShadowHarness.CHAT);
    }
    h.awaitSettled(Duration.ofSeconds(10), Duration.ofMillis(200), "staging");
    assertThat(h.allCopies("staging")).as("no copies at the configured factor 0").isEqualTo(6);
  }

  @Test
  void renewalsKeepTheFactorAndAFactorWithoutTtlEndsTheLease() throws Exception {
    long until = System.nanoTime() + Duration.ofMillis(4500).toNanos();
    while (System.nanoTime() < until) { // one and a half times a lease's length, renewed every 300 ms
      assertThat(admin("PUT", "?target=staging&factor=1&ttl=3s").statusCode()).isEqualTo(200);
      Thread.sleep(300);
    }
    assertThat(expired()).isZero();
    assertThat(h.engine.factor("staging")).isEqualTo(1.0);

    assertThat(admin("PUT", "?target=staging&factor=3").statusCode()).isEqualTo(200);
    assertThat(target(admin("GET", "").body()).path("lease_seconds_left").isNull()).isTrue();
    Thread.sleep(3300); // past the last renewal's lease
    assertThat(expired()).as("no lease left to run out").isZero();
    assertThat(h.engine.factor("staging")).isEqualTo(3.0);

    assertThat(admin("PUT", "?target=staging&factor=2&ttl=30s").statusCode()).isEqualTo(200);
    HttpResponse<String> released = admin("DELETE", "?target=staging");
    assertThat(released.statusCode()).isEqualTo(200);
    assertThat(target(released.body()).path("factor").asDouble()).isEqualTo(0.0);
    assertThat(target(released.body()).path("lease_seconds_left").isNull()).isTrue();
  }

  @Test
  void badLeasesAreRefusedWithAReasonAndARampWaitsForTheLease() throws Exception {
    for (String ttl : new String[] {"forever", "0s", "25h", "-1s"}) {
      HttpResponse<String> r = admin("PUT", "?target=staging&factor=2&ttl=" + ttl);
      assertThat(r.statusCode()).as(ttl).isEqualTo(400);
      assertThat(r.body()).contains("ttl:");
    }
    assertThat(h.engine.factor("staging")).isEqualTo(0.0);
    assertThat(admin("DELETE", "?target=nope").statusCode()).isEqualTo(404);

    assertThat(admin("PUT", "?target=staging&factor=2&ttl=30s").statusCode()).isEqualTo(200);
    HttpResponse<String> ramp = send("POST", "/admin/shadow/ramp?target=staging&factors=1,2");
    assertThat(ramp.statusCode()).isEqualTo(409);
    assertThat(ramp.body()).contains("lease");
    assertThat(admin("DELETE", "?target=staging").statusCode()).isEqualTo(200);
    assertThat(send("POST", "/admin/shadow/ramp?target=staging&factors=1,2&warmup=10s").statusCode()).isEqualTo(202);
    HttpResponse<String> during = admin("PUT", "?target=staging&factor=2&ttl=30s");
    assertThat(during.statusCode()).as("the ramp owns the factor").isEqualTo(409);
    send("DELETE", "/admin/shadow/ramp");
  }

  private double expired() {
    Matcher m = Pattern.compile("(?m)^tokentap_shadow_factor_lease_expired_total\\{target=\"staging\"} (\\S+)$").matcher(h.scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static JsonNode target(String state) throws Exception {
    return JSON.readTree(state).path("targets").get(0);
  }

  private HttpResponse<String> admin(String method, String query) throws Exception {
    return send(method, "/admin/shadow" + query);
  }

  private HttpResponse<String> send(String method, String pathAndQuery) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + h.tokentap.adminAddress().getPort() + pathAndQuery);
    return h.http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
