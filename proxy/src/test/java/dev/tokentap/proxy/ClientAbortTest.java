package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import java.io.InputStream;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that hangs up mid-stream: the proxy closes the upstream connection at once, so the
 * server sees the disconnect within 100 ms and stops generating; the record says client_abort; no
 * buffer leaks (the leak extension fails the class otherwise).
 */
class ClientAbortTest {
  static Emulator emulator;
  static ProxyHarness proxy;
  static final LinkedBlockingQueue<EmulatedRequest> served = new LinkedBlockingQueue<>();

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.realistic()));
    emulator.addListener(served::add);
    proxy = new ProxyHarness(emulator.baseUri().toString());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    emulator.close();
  }

  @Test
  void abortMidStreamStopsTheServerWithin100ms() throws Exception {
    for (int round = 0; round < 5; round++) {
      long closedAt;
      try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
        c.post("/v1/chat/completions",
            "{\"model\":\"m\",\"stream\":true,\"max_tokens\":2000,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
        assertThat(c.readHead().status()).isEqualTo(200);
        InputStream in = c.socket().getInputStream();
        in.readNBytes(600); // a few chunks of the stream
        closedAt = System.nanoTime();
      }
      EmulatedRequest server = served.poll(5, TimeUnit.SECONDS);
      assertThat(server).as("the emulator finished the request").isNotNull();
      assertThat(server.finishReason()).isEqualTo("cancelled");
      assertThat(server.disconnectNanos()).isPositive();
      assertThat((server.disconnectNanos() - closedAt) / 1e6).as("ms from client close to server seeing it").isLessThan(100);
      assertThat(server.completionTokens()).isLessThan(2000);
      // Nothing generated after the disconnect was seen, beyond the step already under way.
      assertThat((server.lastTokenNanos() - server.disconnectNanos()) / 1e6).isLessThan(50);

      FinishedRequest record = proxy.next();
      assertThat(record.outcome()).isEqualTo(Outcome.CLIENT_ABORT);
      assertThat(record.ttftSeconds()).isPositive();
      assertThat(record.meter().tokenEvents()).isPositive();
    }
  }

  @Test
  void abortBeforeTheResponseHeadIsRecordedToo() throws Exception {
    try (RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort())) {
      c.post("/v1/chat/completions", "{\"model\":\"m\",\"stream\":true,\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}",
          "x-emulator-fault: stall-after=0:2s");
    }
    FinishedRequest record = proxy.next();
    assertThat(record.outcome()).isEqualTo(Outcome.CLIENT_ABORT);
  }
}
