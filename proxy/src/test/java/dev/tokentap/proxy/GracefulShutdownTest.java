package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.testkit.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Shutdown (SIGTERM runs {@link Tokentap#close()}): readiness flips first, new connections are
 * refused, a stream in flight finishes whole, and an idle keep-alive connection is closed.
 */
class GracefulShutdownTest {
  @Test
  void streamsInFlightCompleteWhileReadinessFlipsAndNewConnectionsAreRefused() throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.realistic()))) {
      ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.proxy.shutdown-grace-period", "20s"));
      int port = proxy.tokentap.proxyAddress().getPort();
      RawHttpClient idle = new RawHttpClient(port);
      idle.send("GET /v1/models HTTP/1.1\r\nHost: t\r\n\r\n", null);
      assertThat(idle.read().status()).isEqualTo(200);
      proxy.next();

      RawHttpClient streaming = new RawHttpClient(port);
      // About 80 tokens of ~7 ms: the stream outlives the start of the shutdown by far.
      streaming.post("/v1/chat/completions",
          "{\"model\":\"m\",\"stream\":true,\"max_tokens\":80,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
      RawHttpClient.Response head = streaming.readHead();
      assertThat(head.status()).isEqualTo(200);

      CompletableFuture<Void> closing = CompletableFuture.runAsync(proxy::close);
      Thread.sleep(100);
      assertThat(closing).isNotDone();
      var ready = proxy.http.send(HttpRequest.newBuilder(proxy.adminUrl("/ready")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as("readiness flips first").isEqualTo(503);
      assertThatThrownBy(() -> new RawHttpClient(port).close()).as("new connections are refused").isInstanceOf(ConnectException.class);
      assertThat(idle.socket().getInputStream().read()).as("an idle keep-alive connection is closed").isEqualTo(-1);

      ByteArrayOutputStream body = new ByteArrayOutputStream();
      assertThat(streaming.readBody(head, body)).as("the stream in flight ends properly").isTrue();
      assertThat(body.toString()).endsWith("data: [DONE]\n\n");
      assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
      closing.get(5, java.util.concurrent.TimeUnit.SECONDS); // done once the stream ended, not at the 20 s deadline
      idle.close();
      streaming.close();
    }
  }
}
