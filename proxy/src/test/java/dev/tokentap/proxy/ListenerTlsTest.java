package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.TestTls;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TLS on the client listener (tokentap.proxy.tls), with real clients that trust the test CA: the
 * OpenAI Java SDK streams from the emulator and gets the same text as a direct call, metered from
 * the server's usage; the JDK client gets a fixture byte for byte with TLS on both hops.
 */
class ListenerTlsTest {

  static Map<String, Object> listenerTls() {
    return Map.of(
        "tokentap.proxy.tls.cert-file", TestTls.Server.LOCALHOST.certFile().toString(),
        "tokentap.proxy.tls.key-file", TestTls.Server.LOCALHOST.keyFile().toString());
  }

  static String httpsBase(ProxyHarness proxy) {
    return "https://localhost:" + proxy.tokentap.proxyAddress().getPort();
  }

  @Test
  void openAiSdkStreamsOverTlsWithTheSameTextAndUsageMetering() throws Exception {
    LinkedBlockingQueue<EmulatedRequest> served = new LinkedBlockingQueue<>();
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withIoThreads(1));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), listenerTls())) {
      emulator.addListener(served::add);
      okhttp3.OkHttpClient tls = new okhttp3.OkHttpClient.Builder()
          .sslSocketFactory(TestTls.clientContext().getSocketFactory(), TestTls.caTrustManager()).build();
      OpenAIClient viaProxy = OpenAIOkHttpClient.builder().okHttpClient(tls).baseUrl(httpsBase(proxy) + "/v1").apiKey("sk-test")
          .maxRetries(0).timeout(Duration.ofSeconds(30)).build();
      OpenAIClient direct = OpenAIOkHttpClient.builder().baseUrl(emulator.baseUri() + "/v1").apiKey("sk-test").maxRetries(0)
          .timeout(Duration.ofSeconds(30)).build();
      try {
        for (boolean includeUsage : new boolean[] {true, false}) {
          String[] proxied = stream(viaProxy, includeUsage);
          FinishedRequest record = proxy.next();
          EmulatedRequest server = served.poll(5, TimeUnit.SECONDS);
          served.clear();

          assertThat(proxied[0]).isNotEmpty().isEqualTo(stream(direct, includeUsage)[0]);
          assertThat(proxied[1]).as("usage the client saw").isEqualTo(includeUsage ? "40" : "none");
          assertThat(server).isNotNull();
          assertThat(record.outcome()).isEqualTo(Outcome.OK);
          assertThat(record.tokenSource()).isEqualTo(TokenSource.USAGE);
          assertThat(record.outputTokens()).isEqualTo(server.completionTokens()).isEqualTo(40);
          assertThat(record.ttftSeconds()).isPositive();
        }
      } finally {
        viaProxy.close();
        direct.close();
      }
    }
  }

  /** The streamed text and the completion tokens of the usage chunk the client got ("none" without one). */
  static String[] stream(OpenAIClient client, boolean includeUsage) {
    ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder()
        .model("tokentap-emulator-8b")
        .addUserMessage("Tell me about TLS, in some detail please.")
        .maxTokens(40L)
        .seed(7L)
        .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    if (includeUsage) {
      b.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build());
    }
    StringBuilder text = new StringBuilder();
    String usage = "none";
    try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(b.build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) response.stream()::iterator) {
        chunk.choices().forEach(c -> text.append(c.delta().content().orElse("")));
        if (chunk.usage().isPresent()) {
          usage = String.valueOf(chunk.usage().get().completionTokens());
        }
      }
    }
    return new String[] {text.toString(), usage};
  }

  @Test
  void tlsOnBothHopsRelaysTheStreamByteForByte() throws Exception {
    byte[] fixture = Fixtures.stream("openai-chat-usage.sse");
    String body = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    try (ScriptedUpstream upstream = new ScriptedUpstream(TestTls.Server.LOCALHOST.serverContext(),
            r -> ScriptedUpstream.Script.sse(fixture, new int[] {9, 300, 1500}, 200));
        ProxyHarness proxy = new ProxyHarness("https://localhost:" + upstream.port(),
            with(listenerTls(), "tokentap.upstream.tls.ca-file", TestTls.caFile().toString()))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(TestTls.clientContext()).build();
      HttpResponse<byte[]> response = client.send(
          HttpRequest.newBuilder(URI.create(httpsBase(proxy) + "/v1/chat/completions")).timeout(Duration.ofSeconds(20))
              .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(fixture);
      ScriptedUpstream.Received seen = upstream.takeRequest();
      assertThat(seen.headers().get("x-forwarded-proto")).isEqualTo("https");
      assertThat(seen.headers().get("forwarded")).contains("proto=https");
      FinishedRequest record = proxy.next();
      assertThat(record.outcome()).isEqualTo(Outcome.OK);
      assertThat(record.outputTokens()).isEqualTo(30);
      assertThat(record.inputTokens()).isEqualTo(14);
    }
  }

  @Test
  void plainHttpOnTheTlsListenerGetsNoHttpAnswerAndRecordsNothing() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(new byte[0], new int[0], 0));
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), listenerTls());
        Socket socket = new Socket("127.0.0.1", proxy.tokentap.proxyAddress().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] answer;
      try {
        answer = in.readAllBytes();
      } catch (java.net.SocketException reset) {
        answer = new byte[0];
      }
      assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotStartWith("HTTP/");
      assertThat(upstream.requestCount()).isZero();
      assertThat(proxy.finished.poll(200, TimeUnit.MILLISECONDS)).isNull();
    }
  }

  private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
    Map<String, Object> m = new java.util.HashMap<>(base);
    m.put(key, value);
    return m;
  }
}
