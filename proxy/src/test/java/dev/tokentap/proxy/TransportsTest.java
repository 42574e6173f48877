package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.relay.Transports;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tokentap.proxy.transport}: each transport relays and meters a stream through real sockets
 * (listener and upstream client alike), and one this machine cannot run, or an unknown name, stops
 * start-up with the reason. Runs in a JVM of its own (surefire forks per class), since the
 * transport is the process's.
 */
class TransportsTest {
  static final String STREAM = "{\"model\":\"m\",\"stream\":true,\"max_tokens\":12,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  static Emulator emulator;

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @AfterEach
  void backToAuto() {
    Transports.use(Transports.resolve("auto"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"nio", "epoll", "io_uring"})
  void relaysAndMetersOnEachTransport(String transport) throws Exception {
    assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "epoll: " + Epoll.unavailabilityCause());
    assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring: " + IoUring.unavailabilityCause());
    try (ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.proxy.transport", transport))) {
      assertThat(Transports.name()).isEqualTo(transport);
      for (int i = 0; i < 3; i++) { // the second and third reuse the pooled upstream connection
        var response = proxy.post("/v1/chat/completions", STREAM);
        assertThat(response.statusCode()).isEqualTo(200);
        String body = new String(response.body(), StandardCharsets.UTF_8);
        assertThat(body).endsWith("data: [DONE]\n\n");
        FinishedRequest record = proxy.next();
        assertThat(record.outcome()).isEqualTo(Outcome.OK);
        assertThat(record.outputTokens()).isEqualTo(12);
      }
    }
  }

  @Test
  void anUnknownTransportIsRefusedWithTheChoices() {
    assertThatThrownBy(() -> new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.proxy.transport", "kqueue")))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.proxy.transport").hasMessageContaining("auto, epoll, io_uring or nio");
  }

  @Test
  void aNativeTransportThisMachineCannotRunStopsStartUpWithTheReason() {
    assumeTrue(!IoUring.isAvailable(), "io_uring runs here");
    assertThatThrownBy(() -> new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.proxy.transport", "io_uring")))
        .isInstanceOf(SettingsException.class).hasMessageContaining("io_uring is not available here");
  }
}
