package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import java.net.http.HttpResponse;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every OpenAI chat/completions fixture, served by a scripted upstream that cuts it into pieces
 * arriving as separate reads, relayed through a real proxy to a real HTTP client: the client gets
 * the exact bytes, and the record matches what the meter finds in the whole fixture. Exhaustive
 * every-offset splits run against the meter itself (in {@code dev.tokentap.meter}); here the splits
 * are random, plus the two splits around the end of the first-token event, which pin TTFT to the
 * read that completed that event.
 */
class FixtureRelayTest {
  private static final String CLIENT_BODY =
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  static ScriptedUpstream upstream;
  static ProxyHarness proxy;
  static final AtomicReference<Script> next = new AtomicReference<>();

  @BeforeAll
  static void start() throws Exception {
    upstream = new ScriptedUpstream(r -> next.get());
    proxy = new ProxyHarness(upstream.baseUrl());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.close();
  }

  static Route routeOf(String fixture) {
    return fixture.startsWith("openai-completions") ? Route.COMPLETIONS : Route.CHAT;
  }

  static String pathOf(String fixture) {
    return routeOf(fixture) == Route.COMPLETIONS ? "/v1/completions" : "/v1/chat/completions";
  }

  /** What the meter finds when fed the whole fixture at once: the reference for every split. */
  static MeterResult reference(String fixture, byte[] body) {
    StreamMeter meter = new StreamMeter(routeOf(fixture), false, TokenGapListener.NONE, 1 << 20);
    meter.onResponseHead(200, "text/event-stream", 0);
    meter.onBody(body, 0, body.length, 1);
    meter.onComplete(2);
    return meter.result();
  }

  /** Offset just past the byte that completes the first token-bearing event. */
  static int firstTokenEventEnd(String fixture, byte[] body) {
    StreamMeter meter = new StreamMeter(routeOf(fixture), false, TokenGapListener.NONE, 1 << 20);
    meter.onResponseHead(200, "text/event-stream", 0);
    for (int i = 0; i < body.length; i++) {
      meter.onBody(body, i, 1, i + 1);
    }
    meter.onComplete(body.length + 1);
    return (int) meter.result().firstTokenNanos();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "openai-chat-usage.sse", "openai-chat-multi-choice.sse", "openai-chat-tool-calls.sse", "openai-chat-logprobs.sse",
    "openai-chat-error-midstream.sse", "openai-completions.sse", "vllm-chat-continuous-usage.sse", "vllm-reasoning.sse",
    "vllm-error-midstream.sse", "sglang-reasoning.sse", "tgi-chat-usage.sse", "llamacpp-chat.sse"
  })
  void relaysExactBytesAndMetersLikeTheWholeFixture(String fixture) throws Exception {
    byte[] body = Fixtures.stream(fixture);
    MeterResult expected = reference(fixture, body);
    Random random = new Random(fixture.hashCode());
    for (int round = 0; round < 6; round++) {
      TreeSet<Integer> cuts = new TreeSet<>();
      int n = 1 + random.nextInt(6);
      while (cuts.size() < n) {
        cuts.add(1 + random.nextInt(body.length - 1));
      }
      next.set(Script.sse(body, cuts.stream().mapToInt(Integer::intValue).toArray(), 300));
      HttpResponse<byte[]> response = proxy.post(pathOf(fixture), CLIENT_BODY);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).as("bytes the client received, cuts %s", cuts).isEqualTo(body);
      FinishedRequest record = proxy.next();
      MeterResult got = record.meter();
      assertThat(got.events()).isEqualTo(expected.events());
      assertThat(got.tokenEvents()).isEqualTo(expected.tokenEvents());
      assertThat(got.choices()).isEqualTo(expected.choices());
      assertThat(got.outputTokens()).isEqualTo(expected.outputTokens());
      assertThat(got.tokenSource()).isEqualTo(expected.tokenSource());
      assertThat(got.inputTokens()).isEqualTo(expected.inputTokens());
      assertThat(got.errorEvent()).isEqualTo(expected.errorEvent());
      assertThat(got.terminated()).isEqualTo(expected.terminated());
      assertThat(record.outcome()).isEqualTo(expected.outcome());
      assertThat(record.route()).isEqualTo(routeOf(fixture));
      assertThat(record.model()).isEqualTo("m");
    }
  }

  /**
   * Every byte offset of every fixture is a split point of some request: request {@code o} cuts at
   * {@code o, o + STRIDE, o + 2·STRIDE, …}, so {@code STRIDE} requests cover all offsets, each piece
   * arriving as its own read after a short pause.
   */
  @ParameterizedTest
  @ValueSource(strings = {
    "openai-chat-usage.sse", "openai-chat-multi-choice.sse", "openai-chat-tool-calls.sse", "openai-chat-logprobs.sse",
    "openai-chat-error-midstream.sse", "openai-completions.sse", "vllm-chat-continuous-usage.sse", "vllm-reasoning.sse",
    "vllm-error-midstream.sse", "sglang-reasoning.sse", "tgi-chat-usage.sse", "llamacpp-chat.sse"
  })
  void everyByteOffsetIsASplitPointOfSomeRequest(String fixture) throws Exception {
    final int stride = 61;
    byte[] body = Fixtures.stream(fixture);
    MeterResult expected = reference(fixture, body);
    for (int offset = 1; offset <= stride; offset++) {
      int[] cuts = java.util.stream.IntStream.iterate(offset, o -> o < body.length, o -> o + stride).toArray();
      next.set(Script.sse(body, cuts, 50));
      assertThat(proxy.post(pathOf(fixture), CLIENT_BODY).body()).as("cuts from %d every %d", offset, stride).isEqualTo(body);
      FinishedRequest record = proxy.next();
      assertThat(record.meter().events()).isEqualTo(expected.events());
      assertThat(record.meter().tokenEvents()).isEqualTo(expected.tokenEvents());
      assertThat(record.meter().outputTokens()).isEqualTo(expected.outputTokens());
      assertThat(record.meter().tokenSource()).isEqualTo(expected.tokenSource());
      assertThat(record.outcome()).isEqualTo(expected.outcome());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"openai-chat-usage.sse", "openai-chat-tool-calls.sse", "vllm-reasoning.sse", "openai-completions.sse", "llamacpp-chat.sse"})
  void firstTokenTimeIsTheReadThatCompletedTheFirstTokenEvent(String fixture) throws Exception {
    byte[] body = Fixtures.stream(fixture);
    int end = firstTokenEventEnd(fixture, body);
    long pauseMicros = 60_000;

    // Cut one byte before the event's end: the event completes in the second read, after the pause.
    next.set(Script.sse(body, new int[] {end - 1}, pauseMicros));
    assertThat(proxy.post(pathOf(fixture), CLIENT_BODY).body()).isEqualTo(body);
    FinishedRequest late = proxy.next();
    assertThat(late.ttftSeconds()).isGreaterThanOrEqualTo(0.060);
    assertThat(late.ttfbSeconds()).isLessThan(0.060);

    // Cut right after it: the first token arrived before the pause; the end came after it.
    next.set(Script.sse(body, new int[] {end}, pauseMicros));
    assertThat(proxy.post(pathOf(fixture), CLIENT_BODY).body()).isEqualTo(body);
    FinishedRequest early = proxy.next();
    assertThat(early.ttftSeconds()).isLessThan(0.060).isGreaterThanOrEqualTo(early.ttfbSeconds());
    assertThat(early.e2eSeconds()).isGreaterThanOrEqualTo(0.060);
  }

  /**
   * The other dialects' fixtures on their standard paths, with their content types (NDJSON for
   * Ollama), cut into random reads: the client gets the exact bytes, the upstream the exact request,
   * and the record has the route, the model (from the path for Triton), and the README's counts.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    // fixture                  | path                                  | content type         | route     | model      | events | token events | N  | source | input | outcome
    "openai-responses.sse       | /v1/responses                         | text/event-stream    | RESPONSES | m          | 19     | 11           | 15 | USAGE  | 114   | OK",
    "openai-responses-error.sse | /v1/responses                         | text/event-stream    | RESPONSES | m          | 4      | 0            | 0  | EVENTS | -1    | ERROR",
    "anthropic-messages.sse     | /v1/messages                          | text/event-stream    | MESSAGES  | m          | 10     | 4            | 10 | USAGE  | 135   | OK",
    "anthropic-messages-error.sse | /v1/messages                        | text/event-stream    | MESSAGES  | m          | 6      | 2            | 2  | EVENTS | 135   | ERROR",
    "ollama-chat.ndjson         | /api/chat                             | application/x-ndjson | CHAT      | m          | 11     | 10           | 11 | USAGE  | 16    | OK",
    "tgi-generate-stream.sse    | /generate_stream                      | text/event-stream    | GENERATE  | unknown    | 10     | 10           | 10 | USAGE  | 3     | OK",
    "triton-generate-stream.sse | /v2/models/vllm_model/generate_stream | text/event-stream    | GENERATE  | vllm_model | 11     | 11           | 11 | EVENTS | -1    | OK",
  })
  void otherDialectsRelayExactBytesAndRecordTheFixtureCounts(
      String fixture, String path, String contentType, Route route, String model, int events, int tokenEvents,
      long n, TokenSource source, long input, Outcome outcome) throws Exception {
    byte[] body = Fixtures.stream(fixture);
    // TGI and Triton requests name no model; the others do.
    String request = route == Route.GENERATE
        ? "{\"inputs\":\"hi\",\"text_input\":\"hi\",\"parameters\":{\"stream\":true}}"
        : "{\"model\":\"m\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    Random random = new Random(fixture.hashCode());
    for (int round = 0; round < 4; round++) {
      int[] cuts = random.ints(1 + random.nextInt(6), 1, body.length).distinct().sorted().toArray();
      next.set(new Script(200, contentType, ScriptedUpstream.split(body, cuts), 300, ScriptedUpstream.Ending.COMPLETE));
      upstream.clearRequests();
      HttpResponse<byte[]> response = proxy.post(path, request);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("content-type")).hasValue(contentType);
      assertThat(response.body()).as("bytes the client received, cuts %s", java.util.Arrays.toString(cuts)).isEqualTo(body);
      assertThat(new String(upstream.takeRequest().body(), java.nio.charset.StandardCharsets.UTF_8))
          .as("no usage injection outside the OpenAI format").isEqualTo(request);
      FinishedRequest record = proxy.next();
      MeterResult got = record.meter();
      assertThat(record.route()).isEqualTo(route);
      assertThat(record.model()).isEqualTo(model);
      assertThat(got.events()).isEqualTo(events);
      assertThat(got.tokenEvents()).isEqualTo(tokenEvents);
      assertThat(got.outputTokens()).isEqualTo(n);
      assertThat(got.tokenSource()).isEqualTo(source);
      assertThat(got.inputTokens()).isEqualTo(input);
      assertThat(record.outcome()).isEqualTo(outcome);
      if (tokenEvents > 0) {
        assertThat(record.ttftSeconds()).isGreaterThanOrEqualTo(record.ttfbSeconds());
        assertThat(record.ttfoSeconds()).isEqualTo(record.ttftSeconds());
      }
    }
  }

  /** A path no rule maps is relayed untouched and recorded as route other, token source unparsed. */
  @org.junit.jupiter.api.Test
  void anUnknownPathIsRelayedUntouchedAndRecordedUnparsed() throws Exception {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    next.set(Script.sse(body, new int[] {100, 900}, 300));
    upstream.clearRequests();
    HttpResponse<byte[]> response = proxy.post("/custom/chat", CLIENT_BODY.replace(",\"stream_options\":{\"include_usage\":true}", ""));
    assertThat(response.body()).isEqualTo(body);
    assertThat(new String(upstream.takeRequest().body(), java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("stream_options");
    FinishedRequest record = proxy.next();
    assertThat(record.route()).isEqualTo(Route.OTHER);
    assertThat(record.tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(record.meter().events()).isEqualTo(34);
    assertThat(record.outcome()).isEqualTo(Outcome.OK);
  }
}
