package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Usage injection (DESIGN §3) through real sockets: the upstream gets {@code include_usage} added by
 * a minimal edit of the client's bytes; the client that did not ask never sees the usage event, at
 * any split of the stream; the client that asked gets every byte; either way N comes from usage.
 */
class UsageInjectionTest {
  static ScriptedUpstream upstream;
  static ProxyHarness proxy;
  static final byte[] FIXTURE = Fixtures.stream("openai-chat-usage.sse");

  @BeforeAll
  static void start() throws Exception {
    upstream = new ScriptedUpstream(r -> Script.sse(FIXTURE, new int[0], 0));
    proxy = new ProxyHarness(upstream.baseUrl());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.close();
  }

  /** The fixture without its usage-only event, cut out by text so it does not depend on the meter. */
  static byte[] withoutUsageEvent(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8);
    int usage = s.indexOf("\"choices\":[],\"usage\"");
    int start = s.lastIndexOf("\n\n", usage) + 2;
    int end = s.indexOf("\n\n", usage) + 2;
    return (s.substring(0, start) + s.substring(end)).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void clientThatDidNotAskNeverSeesTheUsageEventAtAnySplit() throws Exception {
    byte[] expected = withoutUsageEvent(FIXTURE);
    assertThat(expected.length).isLessThan(FIXTURE.length);
    Random random = new Random(7);
    for (int round = 0; round < 40; round++) {
      int[] cuts = random.ints(3, 1, FIXTURE.length).sorted().distinct().toArray();
      upstream.script(r -> Script.sse(FIXTURE, cuts, 200));
      String body = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      byte[] received = proxy.post("/v1/chat/completions", body).body();
      assertThat(new String(received, StandardCharsets.UTF_8)).isEqualTo(new String(expected, StandardCharsets.UTF_8));
      ScriptedUpstream.Received sent = upstream.takeRequest();
      assertThat(new String(sent.body(), StandardCharsets.UTF_8))
          .isEqualTo("{\"stream_options\":{\"include_usage\":true},\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      FinishedRequest record = proxy.next();
      assertThat(record.outputTokens()).isEqualTo(30);
      assertThat(record.tokenSource()).isEqualTo(TokenSource.USAGE);
      assertThat(record.inputTokens()).isEqualTo(14);
    }
  }

  @Test
  void clientThatAskedGetsEveryByteAndItsBodyIsUntouched() throws Exception {
    upstream.script(r -> Script.sse(FIXTURE, new int[] {100, 2000, 8000}, 200));
    String body = "{ \"model\": \"gpt-4o\", \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"messages\": [] }";
    assertThat(proxy.post("/v1/chat/completions", body).body()).isEqualTo(FIXTURE);
    assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8)).isEqualTo(body);
    FinishedRequest record = proxy.next();
    assertThat(record.outputTokens()).isEqualTo(30);
    assertThat(record.tokenSource()).isEqualTo(TokenSource.USAGE);
  }

  @Test
  void existingStreamOptionsAreExtendedAndFalseIsTurnedTrue() throws Exception {
    upstream.script(r -> Script.sse(FIXTURE, new int[0], 0));
    proxy.post("/v1/chat/completions", "{\"stream\":true,\"stream_options\":{\"continuous_usage_stats\":true},\"model\":\"x\"}");
    assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"stream\":true,\"stream_options\":{\"include_usage\":true,\"continuous_usage_stats\":true},\"model\":\"x\"}");
    proxy.next();
    proxy.post("/v1/chat/completions", "{\"stream\":true,\"stream_options\":{\"include_usage\":false},\"model\":\"x\"}");
    assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"model\":\"x\"}");
    proxy.next();
  }

  @Test
  void injectionCanBeTurnedOff() throws Exception {
    try (ProxyHarness plain = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.usage-injection", false))) {
      upstream.script(r -> Script.sse(FIXTURE, new int[0], 0));
      String body = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}";
      assertThat(plain.post("/v1/chat/completions", body).body()).isEqualTo(FIXTURE);
      assertThat(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8)).isEqualTo(body);
      plain.next();
    }
  }
}
