package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Responses call cut by {@code max_output_tokens} ends with {@code response.incomplete} (streaming)
 * or {@code "status":"incomplete"} (a Response object), as OpenAI's API does and the emulator
 * imitates: through the proxy it is an {@code ok} request whose finish reason is {@code length}.
 */
class ResponsesIncompleteTest {
  static Emulator emulator;
  static ProxyHarness proxy;

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()).withIoThreads(1));
    proxy = new ProxyHarness(emulator.baseUri().toString(), java.util.Map.of("tokentap.proxy.io-threads", 1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    emulator.close();
  }

  static String request(boolean stream) {
    return "{\"model\":\"tokentap-emulator-8b\",\"input\":\"Hi\",\"max_output_tokens\":5,\"ignore_eos\":true,\"stream\":"
        + stream + "}";
  }

  @Test
  void aLengthLimitedResponseIsOkWithFinishReasonLength() throws Exception {
    HttpResponse<byte[]> streamed = proxy.post("/v1/responses", request(true));
    assertThat(new String(streamed.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("event: response.incomplete").contains("\"reason\":\"max_output_tokens\"");
    FinishedRequest s = proxy.next();
    HttpResponse<byte[]> whole = proxy.post("/v1/responses", request(false));
    assertThat(new String(whole.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"status\":\"incomplete\"");
    FinishedRequest w = proxy.next();

    for (FinishedRequest r : new FinishedRequest[] {s, w}) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.outcome()).isEqualTo(Outcome.OK);
      assertThat(r.meter().finishReason()).isEqualTo(FinishReason.LENGTH);
      assertThat(r.meter().outputTokens()).isEqualTo(5);
      assertThat(r.meter().tokenSource()).isEqualTo(TokenSource.USAGE);
    }
    String metrics = proxy.metrics();
    assertThat(metrics.lines().filter(l -> l.startsWith("tokentap_requests_total{"))
            .filter(l -> l.contains("route=\"responses\"")))
        .isNotEmpty()
        .allSatisfy(l -> assertThat(l).contains("outcome=\"ok\""));
  }
}
