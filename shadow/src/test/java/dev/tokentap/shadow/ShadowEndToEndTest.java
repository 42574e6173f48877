package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.CHAT;
import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Shadow copies through real sockets: what staging receives, how many, and what is counted. */
class ShadowEndToEndTest {
  static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");

  ScriptedUpstream production;
  final List<AutoCloseable> closeLater = new ArrayList<>();

  @BeforeEach
  void startProduction() throws Exception {
    production = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 3, 2 * SSE.length / 3}, 200));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeLater.size() - 1; i >= 0; i--) {
      closeLater.get(i).close();
    }
    production.close();
  }

  private <T extends AutoCloseable> T later(T c) {
    closeLater.add(c);
    return c;
  }

  private ScriptedUpstream staging() throws Exception {
    return later(new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 2}, 100)));
  }

  @Test
  void stagingSeesTheRewritesAndProductionTheOriginal() throws Exception {
    ScriptedUpstream staging = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = staging, upstream = \"" + staging.baseUrl() + "\", factor = 2, spread-window = 50ms, model = m-staging,"
                + " cache-busting = nonce, authorization-env = STAGING_KEY, set-headers { x-env = staging } }]"));
    var response = h.post("/v1/chat/completions", CHAT, "authorization", "Bearer client-key");
    assertThat(response.statusCode()).isEqualTo(200);

    ScriptedUpstream.Received prod = production.takeRequest();
    assertThat(new String(prod.body(), StandardCharsets.UTF_8)).contains("\"model\":\"m1\"").doesNotContain("shadow");
    assertThat(prod.headers().get("authorization")).isEqualTo("Bearer client-key");
    assertThat(prod.headers().get(ShadowRequestRewriter.SHADOW_HEADER)).isNull();

    Map<String, ScriptedUpstream.Received> copies = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      ScriptedUpstream.Received r = staging.takeRequest();
      copies.put(r.headers().get(ShadowRequestRewriter.SHADOW_HEADER), r);
    }
    assertThat(copies).containsOnlyKeys("1/2", "2/2");
    for (ScriptedUpstream.Received r : copies.values()) {
      String body = new String(r.body(), StandardCharsets.UTF_8);
      assertThat(r.uri()).isEqualTo("/v1/chat/completions");
      assertThat(body).contains("\"model\":\"m-staging\"");
      assertThat(r.headers().get("authorization")).isEqualTo("Bearer sk-staging");
      assertThat(r.headers().get("x-env")).isEqualTo("staging");
      assertThat(r.headers().get("host")).isEqualTo("127.0.0.1:" + staging.port());
    }
    assertThat(new String(copies.get("1/2").body(), StandardCharsets.UTF_8)).contains("\"content\":\"hello there\"");
    assertThat(new String(copies.get("2/2").body(), StandardCharsets.UTF_8)).containsPattern("\"content\":\"\\[shadow [0-9a-f-]{36}\\] hello there\"");

    await("both copies counted", Duration.ofSeconds(5), () -> h.copies("staging", "sent") == 2);
    String metrics = h.scrape();
    assertThat(metrics).containsPattern("tokentap_requests_total\\{[^}]*role=\"shadow\"[^}]*target=\"staging\"[^}]*} 2.0");
    assertThat(metrics).containsPattern("tokentap_time_to_first_token_seconds_count\\{model=\"m-staging\",role=\"shadow\",route=\"chat\",target=\"staging\"} 2(\\.0)?\\n");
    assertThat(metrics).containsPattern("tokentap_tokens_total\\{model=\"m-staging\",role=\"shadow\",route=\"chat\",target=\"staging\",type=\"output\"} [1-9]");
  }

  @Test
  void copyCountsFollowTheFactorThroughRealSockets() throws Exception {
    ScriptedUpstream a = staging();
    ScriptedUpstream b = staging();
    ScriptedUpstream c = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = a, upstream = \"" + a.baseUrl() + "\", factor = 0.1, spread-window = 100ms },"
                + " { name = b, upstream = \"" + b.baseUrl() + "\", factor = 1, spread-window = 100ms },"
                + " { name = c, upstream = \"" + c.baseUrl() + "\", factor = 2.5, spread-window = 100ms }]"));
    int n = 400;
    for (int i = 0; i < n; i++) {
      assertThat(h.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
    }
    h.awaitSettled(Duration.ofSeconds(30), Duration.ofMillis(500), "a", "b", "c");
    assertThat(h.allCopies("b")).isEqualTo(n);
    assertThat(b.requestCount()).isEqualTo(n);
    assertThat((double) a.requestCount()).isCloseTo(0.1 * n, within(3 * Math.sqrt(n * 0.1 * 0.9)));
    assertThat((double) c.requestCount()).isCloseTo(2.5 * n, within(3 * Math.sqrt(n * 0.25)));
    assertThat(h.copies("a", "sent")).isEqualTo(a.requestCount());
    assertThat(h.copies("c", "sent")).isEqualTo(c.requestCount());
  }

  private static boolean inFlightZero(ShadowHarness h) {
    return !h.scrape().matches("(?s).*tokentap_requests_in_flight\\{role=\"shadow\",target=\"[a-z]+\"} [1-9].*");
  }

  @Test
  void filtersByRouteAndModelAndSamplesConsistentlyByKey() throws Exception {
    ScriptedUpstream filtered = staging();
    ScriptedUpstream sampled = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = filtered, upstream = \"" + filtered.baseUrl() + "\", routes = [completions], models = [m1] },"
                + " { name = sampled, upstream = \"" + sampled.baseUrl() + "\", factor = 0.5, sample-by = \"header:x-session\", routes = [chat] }]"));
    h.post("/v1/chat/completions", CHAT);
    h.post("/v1/completions", "{\"model\":\"m2\",\"stream\":true,\"prompt\":\"hi\"}");
    h.post("/v1/completions", "{\"model\":\"m1\",\"stream\":true,\"prompt\":\"hi\"}");
    int sessions = 30;
    for (int turn = 0; turn < 3; turn++) {
      for (int s = 0; s < sessions; s++) {
        h.post("/v1/chat/completions", CHAT, "x-session", "session-" + s);
      }
    }
    await("copies done", Duration.ofSeconds(10), () -> h.copies("filtered", "sent") == 1 && inFlightZero(h));
    assertThat(filtered.takeRequest().body()).asString(StandardCharsets.UTF_8).contains("\"model\":\"m1\"");
    assertThat(filtered.requestCount()).isZero();

    Map<String, Integer> perSession = new HashMap<>();
    while (sampled.requestCount() > 0) {
      String session = sampled.takeRequest().headers().get("x-session");
      perSession.merge(session == null ? "none" : session, 1, Integer::sum);
    }
    // The request without a session is sampled at random; every session is wholly in or out.
    perSession.remove("none");
    assertThat(perSession.values()).allMatch(count -> count == 3);
    assertThat(perSession.size()).isBetween(5, 25);
  }

  @Test
  void copiesStillWaitingAtShutdownAreCounted() throws Exception {
    ScriptedUpstream staging = staging();
    ShadowHarness h = new ShadowHarness(production.baseUrl(),
        "[{ name = staging, upstream = \"" + staging.baseUrl() + "\", factor = 4, spread-window = 60s }]");
    for (int i = 0; i < 3; i++) {
      assertThat(h.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
    }
    await("the first copies answered", Duration.ofSeconds(5), () -> h.copies("staging", "sent") == 3);
    h.close();
    // 3 x 4 planned: the first copy of each went with its original, 9 were still waiting a minute.
    assertThat(h.copies("staging", "sent")).isEqualTo(3);
    assertThat(h.copies("staging", "failed")).isEqualTo(9);
    assertThat(staging.requestCount()).isEqualTo(3);
  }

  @Test
  void aFullQueueDropsAndCounts() throws Exception {
    ScriptedUpstream staging = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = staging, upstream = \"" + staging.baseUrl() + "\", factor = 4, spread-window = 60s, queue-size = 1 }]"));
    for (int i = 0; i < 5; i++) {
      assertThat(h.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
    }
    // At most one copy waits at a time: the first copy of each request may leave, one delayed copy holds the slot.
    assertThat(h.copies("staging", "dropped_queue_full")).isGreaterThanOrEqualTo(14);
  }

  @Test
  void theBulkheadAndTheRateLimiterDropWithoutWaiting() throws Exception {
    ScriptedUpstream slow = later(new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 2}, 200_000)));
    ScriptedUpstream fast = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(),
            "[{ name = narrow, upstream = \"" + slow.baseUrl() + "\", factor = 4, spread-window = 0s, max-concurrent-streams = 1 },"
                + " { name = limited, upstream = \"" + fast.baseUrl() + "\", factor = 4, spread-window = 0s, max-rate = 0.5 }]"));
    assertThat(h.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
    await("copies decided", Duration.ofSeconds(5), () -> h.allCopies("narrow") == 4 - 1 + h.copies("narrow", "sent") && h.allCopies("limited") == 4);
    assertThat(h.copies("narrow", "dropped_bulkhead")).isEqualTo(3);
    assertThat(h.copies("limited", "dropped_rate_limit")).isEqualTo(3);
    await("the one copy that went", Duration.ofSeconds(5), () -> h.copies("narrow", "sent") == 1 && h.copies("limited", "sent") == 1);
  }

  @Test
  void theFactorChangesAtRunTimeThroughTheAdminApi() throws Exception {
    ScriptedUpstream staging = staging();
    ShadowHarness h = later(new ShadowHarness(production.baseUrl(), "[{ name = staging, upstream = \"" + staging.baseUrl() + "\", factor = 1, spread-window = 100ms }]"));
    java.net.URI admin = java.net.URI.create("http://127.0.0.1:" + h.tokentap.adminAddress().getPort() + "/admin/shadow");
    var get = h.http.send(java.net.http.HttpRequest.newBuilder(admin).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.body()).contains("\"name\":\"staging\"").contains("\"factor\":1.0").contains("\"circuit_breaker\":\"CLOSED\"");

    var put = h.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "?target=staging&factor=0"))
        .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(put.body()).contains("\"factor\":0.0");
    // Effective from the very next production request (the factor is one volatile field).
    for (int i = 0; i < 20; i++) {
      h.post("/v1/chat/completions", CHAT);
    }
    assertThat(h.allCopies("staging")).isZero();

    var json = h.http.send(java.net.http.HttpRequest.newBuilder(admin).PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"target\":\"staging\",\"factor\":2}"))
        .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(json.statusCode()).isEqualTo(200);
    h.post("/v1/chat/completions", CHAT);
    await("two copies at the new factor", Duration.ofSeconds(5), () -> h.copies("staging", "sent") == 2);

    var unknown = h.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "?target=nope&factor=1"))
        .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
    var bad = h.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "?target=staging&factor=-1"))
        .PUT(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(h.engine.factor("staging")).isEqualTo(2.0);
    assertThat(h.scrape()).contains("tokentap_shadow_factor{target=\"staging\"} 2.0");
  }

  @Test
  void oversizedBodiesAreNotMirroredButCounted() throws Exception {
    ScriptedUpstream staging = staging();
    ShadowHarness h =
        later(new ShadowHarness(production.baseUrl(), "[{ name = staging, upstream = \"" + staging.baseUrl() + "\", factor = 2, max-body = 64B }]"));
    assertThat(h.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
    assertThat(h.copies("staging", "skipped_body_too_large")).isEqualTo(2);
    Thread.sleep(200);
    assertThat(staging.requestCount()).isZero();
  }

  @Test
  void shadowStreamsAreReadToTheEndAndMetered() throws Exception {
    Emulator prod = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
    Emulator staging = later(Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast())));
    ConcurrentLinkedQueue<EmulatedRequest> seen = new ConcurrentLinkedQueue<>();
    staging.addListener(seen::add);
    ShadowHarness h =
        later(new ShadowHarness(prod.baseUri().toString(), "[{ name = staging, upstream = \"" + staging.baseUri() + "\", factor = 1 }]"));
    String body = "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":40,\"messages\":[{\"role\":\"user\",\"content\":\"count to forty\"}]}";
    for (int i = 0; i < 5; i++) {
      assertThat(h.post("/v1/chat/completions", body).statusCode()).isEqualTo(200);
    }
    await("five shadow streams finished", Duration.ofSeconds(10), () -> seen.size() == 5 && h.copies("staging", "sent") == 5);
    assertThat(seen).allSatisfy(r -> {
      assertThat(r.finishReason()).isIn("stop", "length");
      assertThat(r.disconnectNanos()).isEqualTo(-1);
    });
    assertThat(h.scrape()).containsPattern("tokentap_requests_total\\{model=\"m1\",outcome=\"ok\",role=\"shadow\",route=\"chat\",slo=\"[a-z]+\",target=\"staging\"} 5.0");
  }
}
