package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.client.ReadClock;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestRecorder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientConnectionHandler} behind the real read clock and client codec on an {@link
 * EmbeddedChannel}: the requests it answers itself (nothing reaches an upstream), what it writes,
 * that it closes, what it records, and that every buffer is released. The socket tests are
 * {@code faults.HostileRequestsTest} and {@code faults.StrictRequestTargetTest}.
 */
class ClientConnectionHandlerTest {
  private final List<FinishedRequest> finished = new CopyOnWriteArrayList<>();

  private EmbeddedChannel channel() {
    Settings settings = SettingsLoader.load(SettingsLoader.resolve(null, Map.of(
        "tokentap.proxy.upstream", "http://127.0.0.1:9", "tokentap.proxy.max-request-body", "1KiB")));
    RequestRecorder recorder = new RequestRecorder(new TokentapMetrics(new SimpleMeterRegistry(), settings.slos()),
        new SloPolicy(settings.slos()), new ModelLabels(10), 1 << 20);
    recorder.addListener(finished::add);
    RelayContext relay = new RelayContext(settings, recorder, List.of());
    return new EmbeddedChannel(new ReadClock(), new ClientHttpCodec(4096, 8192), new ClientConnectionHandler(relay));
  }

  /** Writes {@code raw}; returns everything written back to the client as text. */
  private static String exchange(EmbeddedChannel ch, String raw) {
    ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
    StringBuilder out = new StringBuilder();
    Object msg;
    while ((msg = ch.readOutbound()) != null) {
      ByteBuf b = (ByteBuf) msg;
      out.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    return out.toString();
  }

  private void assertRejected(String raw, String statusLine) {
    EmbeddedChannel ch = channel();
    String response = exchange(ch, raw);
    assertThat(response).startsWith(statusLine).contains("connection: close");
    assertThat(ch.isOpen()).as("closed: the next request cannot be found").isFalse();
    assertThat(finished).singleElement().satisfies(f -> {
      assertThat(f.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(f.status()).isEqualTo(Integer.parseInt(statusLine.substring(9, 12)));
      assertThat(f.endNanos()).isGreaterThanOrEqualTo(f.startNanos());
    });
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aMalformedHeadIs400() {
    assertRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\n folded: no\r\n\r\n", "HTTP/1.1 400 ");
  }

  @Test
  void aBodyDeclaredTooLargeIs413BeforeAnyByteOfIt() {
    assertRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\ncontent-length: 4096\r\n\r\n", "HTTP/1.1 413 ");
  }

  @Test
  void aTransferCodingOtherThanChunkedIs501() {
    assertRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 501 ");
  }

  @Test
  void anUnknownExpectationIs417() {
    assertRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nexpect: 200-ok\r\ncontent-length: 2\r\n\r\n{}", "HTTP/1.1 417 ");
  }

  @Test
  void connectIs405WithAllow() {
    EmbeddedChannel ch = channel();
    String response = exchange(ch, "CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 405 ").containsIgnoringCase("allow: GET, HEAD, POST");
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void whatFollowsARejectedRequestIsDroppedAndReleased() {
    EmbeddedChannel ch = channel();
    String response = exchange(ch, "GET / HTTP/9.9\r\nHost: t\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nHost: t\r\ncontent-length: 2\r\n\r\n{}");
    assertThat(response).startsWith("HTTP/1.1 505 ");
    assertThat(response.split("\r\n", -1)).as("one response only").filteredOn(l -> l.startsWith("HTTP/1.")).hasSize(1);
    assertThat(finished).hasSize(1);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
