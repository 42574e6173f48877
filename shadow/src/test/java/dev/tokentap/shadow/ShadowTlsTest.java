package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.CHAT;
import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.TestTls;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * https staging targets: one whose certificate leads to its configured CA gets its copies; one
 * presenting an untrusted certificate gets none (each copy counted failed) and production is
 * untouched either way.
 */
class ShadowTlsTest {
  static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");

  static ScriptedUpstream.Script sse() {
    return ScriptedUpstream.Script.sse(SSE, new int[] {SSE.length / 2}, 100);
  }

  @Test
  void verifiedTargetGetsItsCopiesAndAnUntrustedOneFailsWithoutTouchingProduction() throws Exception {
    try (ScriptedUpstream production = new ScriptedUpstream(r -> sse());
        ScriptedUpstream trusted = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(), r -> sse());
        ScriptedUpstream untrusted = new ScriptedUpstream(TestTls.Server.UNTRUSTED.serverContext(), r -> sse());
        ShadowHarness h = new ShadowHarness(production.baseUrl(),
            "[{ name = trusted, upstream = \"https://localhost:" + trusted.port() + "\", tls.ca-file = \"" + TestTls.caFile() + "\" },"
                + " { name = untrusted, upstream = \"https://localhost:" + untrusted.port() + "\", tls.ca-file = \"" + TestTls.caFile() + "\" }]")) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<byte[]> response = h.post("/v1/chat/completions", CHAT);
        assertThat(response.statusCode()).isEqualTo(200);
        // (the injected usage event is filtered out, so the body is the fixture less that event)
        assertThat(new String(response.body(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");
      }
      await("copies to finish", Duration.ofSeconds(20), () -> h.allCopies("trusted") == 3 && h.allCopies("untrusted") == 3);

      assertThat(h.copies("trusted", "sent")).isEqualTo(3);
      assertThat(trusted.takeRequest().headers().get("host")).isEqualTo("localhost:" + trusted.port());
      assertThat(trusted.takeServerNames()).containsExactly("localhost");
      assertThat(h.copies("untrusted", "failed")).isEqualTo(3);
      assertThat(untrusted.requestCount()).isZero();
      assertThat(production.requestCount()).isEqualTo(3);
    }
  }
}
