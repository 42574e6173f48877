package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's credentials stay with production (docs/shadow.md, "What staging receives"): a
 * client sends every credential header there is (and one more listed in drop-headers), and the
 * bytes each recording upstream read say production got them all unchanged and no staging target
 * got any, only its own key where it has one; a target's remove-headers apply to it alone.
 */
class ShadowCredentialsTest {
  static final String MESSAGES = "{\"model\":\"claude-x\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String ANSWER = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\","
      + "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}";
  static final String CHAT = "{\"model\":\"m1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static final String SSE = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n"
      + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n";
  /** Every header a client may carry a credential in, in the case a client might write it. */
  static final List<String> SECRETS = List.of(
      "Authorization: Bearer sk-client-1",
      "Proxy-Authorization: Basic cHJveHk6c2VjcmV0LTI=",
      "X-Api-Key: sk-ant-client-3",
      "API-KEY: azure-client-4",
      "x-goog-api-key: goog-client-5",
      "Cookie: session=client-6",
      "X-Tenant-Key: tenant-client-7");

  RawUpstream production;
  RawUpstream withKey;
  RawUpstream withoutKey;
  ShadowHarness h;

  @BeforeEach
  void start() throws Exception {
    production = new RawUpstream((r, c) -> c.write(answer(r)));
    withKey = new RawUpstream((r, c) -> c.write(answer(r)));
    withoutKey = new RawUpstream((r, c) -> c.write(answer(r)));
    h = new ShadowHarness("http://127.0.0.1:" + production.port(),
        "[{ name = a, upstream = \"http://127.0.0.1:" + withKey.port() + "\", spread-window = 0s, authorization-env = STAGING_KEY },"
            + " { name = b, upstream = \"http://127.0.0.1:" + withoutKey.port() + "\", spread-window = 0s, remove-headers = [x-drop-me] }]",
        "tokentap.shadow.drop-headers = ${tokentap.shadow.drop-headers} [\"x-tenant-key\"]");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
    production.close();
    withKey.close();
    withoutKey.close();
  }

  static String answer(RawUpstream.Request r) {
    boolean sse = r.requestLine().contains("/chat/");
    String body = sse ? SSE : ANSWER;
    return "HTTP/1.1 200 OK\r\nContent-Type: " + (sse ? "text/event-stream" : "application/json") + "\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  /** Sends {@code json} to {@code path} with every credential header and two harmless ones. */
  RawHttpClient.Response send(String path, String json) throws Exception {
    try (RawHttpClient client = new RawHttpClient(h.tokentap.proxyAddress().getPort())) {
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      String head = "POST " + path + " HTTP/1.1\r\nHost: tokentap.test\r\nContent-Type: application/json\r\n"
          + String.join("\r\n", SECRETS) + "\r\nX-Drop-Me: only-b-removes-it\r\nX-Trace: trace-1\r\nanthropic-version: 2023-06-01\r\nContent-Length: " + body.length + "\r\n\r\n";
      client.send(head, body);
      return client.read();
    }
  }

  static String text(RawUpstream.Request r) {
    return r.head() + new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void productionGetsEveryCredentialAndStagingNone() throws Exception {
    RawHttpClient.Response response = send("/v1/messages", MESSAGES);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo(ANSWER);

    RawUpstream.Request prod = production.takeRequest();
    for (String line : SECRETS) {
      assertThat(prod.head()).as("production receives the client's headers unchanged").contains("\r\n" + line + "\r\n");
    }
    assertThat(prod.header("x-tokentap-shadow")).isNull();

    RawUpstream.Request a = withKey.takeRequest();
    RawUpstream.Request b = withoutKey.takeRequest();
    for (RawUpstream.Request copy : List.of(a, b)) {
      String bytes = text(copy);
      for (String line : SECRETS) {
        String name = line.substring(0, line.indexOf(':'));
        String secret = line.substring(line.indexOf(':') + 2);
        if (!(copy == a && name.equals("Authorization"))) {
          assertThat(copy.header(name)).as("staging receives no %s", name).isNull();
        }
        assertThat(bytes).as("the secret of %s appears nowhere in the copy", name).doesNotContain(secret);
      }
      assertThat(copy.requestLine()).isEqualTo("POST /v1/messages HTTP/1.1");
      assertThat(copy.header("x-trace")).isEqualTo("trace-1");
      assertThat(copy.header("anthropic-version")).isEqualTo("2023-06-01");
      assertThat(copy.header("x-tokentap-shadow")).isEqualTo("1/1");
      assertThat(copy.header("content-length")).isEqualTo(String.valueOf(copy.body().length));
      assertThat(new String(copy.body(), StandardCharsets.UTF_8)).isEqualTo(MESSAGES);
    }
    assertThat(a.header("authorization")).as("a's own key, from authorization-env").isEqualTo("Bearer sk-staging");
    assertThat(a.head()).containsOnlyOnce("sk-staging");
    assertThat(a.header("host")).isEqualTo("127.0.0.1:" + withKey.port());
    assertThat(b.header("authorization")).as("b has no key of its own: no credential at all").isNull();
    assertThat(a.header("x-drop-me")).as("remove-headers is per target").isEqualTo("only-b-removes-it");
    assertThat(b.header("x-drop-me")).isNull();

    await("both copies counted", Duration.ofSeconds(5), () -> h.copies("a", "sent") == 1 && h.copies("b", "sent") == 1);
    assertThat(production.pendingRequests() + withKey.pendingRequests() + withoutKey.pendingRequests()).isZero();
  }

  @Test
  void stagingGetsTheUsageInjectedBodyProductionGot() throws Exception {
    RawHttpClient.Response response = send("/v1/chat/completions", CHAT);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).as("the injected usage chunk is filtered out for the client").doesNotContain("usage");

    RawUpstream.Request prod = production.takeRequest();
    RawUpstream.Request copy = withoutKey.takeRequest();
    withKey.takeRequest();
    assertThat(new String(prod.body(), StandardCharsets.UTF_8)).contains("\"include_usage\":true");
    assertThat(copy.body()).as("the copy's body is production's, injection included").isEqualTo(prod.body());
    assertThat(copy.header("cookie")).isNull();
    assertThat(copy.header("authorization")).isNull();
    await("both copies counted", Duration.ofSeconds(5), () -> h.copies("a", "sent") == 1 && h.copies("b", "sent") == 1);
  }
}
