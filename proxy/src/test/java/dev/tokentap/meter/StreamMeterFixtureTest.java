package dev.tokentap.meter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.tokentap.testkit.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every stream fixture (shared/fixtures/streams, README counts) against values derived by reading
 * its bytes, fed whole, split at every offset, byte by byte and in random pieces: SSE fixtures as
 * {@code text/event-stream}, {@code .ndjson} ones as {@code application/x-ndjson}.
 */
class StreamMeterFixtureTest {

  /**
   * What a fixture must give. Event positions are indexes among dispatched events, {@code [DONE]}
   * included.
   */
  record Expected(
      String fixture,
      Api api,
      int events,
      int tokenEvents,
      int firstTokenEvent,
      int firstOutputEvent,
      int lastTokenEvent,
      long outputTokens,
      TokenSource tokenSource,
      long inputTokens,
      long cachedInputTokens,
      long reasoningTokens,
      Outcome outcome,
      boolean errorEvent,
      boolean terminated,
      int choices) {
    @Override
    public String toString() {
      return fixture;
    }
  }

  private static final TokenSource USAGE = TokenSource.USAGE;
  private static final TokenSource EVENTS = TokenSource.EVENTS;
  private static final Outcome OK = Outcome.OK;
  private static final Outcome ERROR = Outcome.ERROR;
  private static final int NONE = -1;

  static Stream<Expected> fixtures() {
    return Stream.of(
        // role chunk (content ""), 30 content chunks, finish, usage-only chunk, [DONE]
        new Expected(
            "openai-chat-usage.sse",
            Api.OPENAI,
            34,
            30,
            1,
            1,
            30,
            30,
            USAGE,
            14,
            -1,
            0,
            OK,
            false,
            true,
            1),
        // per index: role, 14 content, finish; interleaved; content at events 1,3,5..44
        new Expected(
            "openai-chat-multi-choice.sse",
            Api.OPENAI,
            50,
            42,
            1,
            1,
            44,
            42,
            USAGE,
            79,
            -1,
            0,
            OK,
            false,
            true,
            3),
        // tool header (name, arguments "") + 7 argument deltas; 16 tokens per usage
        new Expected(
            "openai-chat-tool-calls.sse",
            Api.OPENAI,
            11,
            8,
            0,
            0,
            7,
            16,
            USAGE,
            44,
            -1,
            0,
            OK,
            false,
            true,
            1),
        new Expected(
            "openai-chat-logprobs.sse",
            Api.OPENAI,
            6,
            2,
            1,
            1,
            2,
            2,
            USAGE,
            9,
            -1,
            0,
            OK,
            false,
            true,
            1),
        // role, 5 content, {"error":{...}}, [DONE]: no usage, so N counts events
        new Expected(
            "openai-chat-error-midstream.sse",
            Api.OPENAI,
            8,
            5,
            1,
            1,
            5,
            5,
            EVENTS,
            -1,
            -1,
            -1,
            ERROR,
            true,
            true,
            1),
        // 3 text chunks, finish with text "", usage before "choices":[], [DONE]
        new Expected(
            "openai-completions.sse",
            Api.OPENAI,
            6,
            3,
            0,
            0,
            2,
            4,
            USAGE,
            10,
            -1,
            -1,
            OK,
            false,
            true,
            1),
        // role (usage 0), 25 content, finish with content "" (usage 26), final usage 26, [DONE]
        new Expected(
            "vllm-chat-continuous-usage.sse",
            Api.OPENAI,
            29,
            25,
            1,
            1,
            25,
            26,
            USAGE,
            46,
            -1,
            -1,
            OK,
            false,
            true,
            1),
        // role, 8 reasoning_content, 8 content, finish, usage, [DONE]
        new Expected(
            "vllm-reasoning.sse",
            Api.OPENAI,
            20,
            16,
            1,
            9,
            16,
            19,
            USAGE,
            9,
            -1,
            -1,
            OK,
            false,
            true,
            1),
        // role, 3 content, json.dumps-spaced {"error": {...}}, [DONE]
        new Expected(
            "vllm-error-midstream.sse",
            Api.OPENAI,
            6,
            3,
            1,
            1,
            3,
            3,
            EVENTS,
            -1,
            -1,
            -1,
            ERROR,
            true,
            true,
            1),
        // role, 12 reasoning_content, 7 content (explicit nulls), finish, usage, [DONE]
        new Expected(
            "sglang-reasoning.sse",
            Api.OPENAI,
            23,
            19,
            1,
            13,
            19,
            22,
            USAGE,
            14,
            -1,
            -1,
            OK,
            false,
            true,
            1),
        // no role-only chunk: 10 content chunks each with role, usage, [DONE]
        new Expected(
            "tgi-chat-usage.sse",
            Api.OPENAI,
            12,
            10,
            0,
            0,
            9,
            10,
            USAGE,
            40,
            -1,
            -1,
            OK,
            false,
            true,
            1),
        // role (content null), 9 content, finish delta {}, usage + timings, [DONE]
        new Expected(
            "llamacpp-chat.sse",
            Api.OPENAI,
            13,
            9,
            1,
            1,
            9,
            10,
            USAGE,
            20,
            0,
            -1,
            OK,
            false,
            true,
            1),
        // created, in_progress, item/part added, 11 output_text deltas (events 4-14), 3 *.done,
        // response.completed with usage (output 15, input 114, cached 0, reasoning 0)
        new Expected(
            "openai-responses.sse", Api.OPENAI_RESPONSES, 19, 11, 4, 4, 14, 15, USAGE, 114, 0, 0,
            OK, false, true, 1),
        // created, in_progress, event: error, response.failed (terminal, usage null): N = 0 events
        new Expected(
            "openai-responses-error.sse", Api.OPENAI_RESPONSES, 4, 0, NONE, NONE, NONE, 0, EVENTS,
            -1, -1, -1, ERROR, true, true, 0),
        // message_start (input 135, placeholder output 1), block start, ping, 4 text deltas
        // (events 3-6), block stop, message_delta (output 10), message_stop
        new Expected(
            "anthropic-messages.sse", Api.ANTHROPIC, 10, 4, 3, 3, 6, 10, USAGE, 135, 0, -1, OK,
            false, true, 1),
        // message_start, block start, ping, 2 text deltas, event: error; no message_stop
        new Expected(
            "anthropic-messages-error.sse", Api.ANTHROPIC, 6, 2, 3, 3, 4, 2, EVENTS, 135, 0, -1,
            ERROR, true, false, 1),
        // 10 content lines, then done:true with eval_count 11, prompt_eval_count 16
        new Expected(
            "ollama-chat.ndjson", Api.OLLAMA, 11, 10, 0, 0, 9, 11, USAGE, 16, -1, -1, OK, false,
            true, 1),
        // ":" keep-alive (not an event), 10 token events, the last with details (10 tokens, input 3)
        new Expected(
            "tgi-generate-stream.sse", Api.TGI, 10, 10, 0, 0, 9, 10, USAGE, 3, -1, -1, OK, false,
            true, 1),
        // 11 responses, no counts: N counts events; the clean end of the body is the terminator
        new Expected(
            "triton-generate-stream.sse", Api.TRITON, 11, 11, 0, 0, 10, 11, EVENTS, -1, -1, -1, OK,
            false, true, 1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void wholeBody(Expected expected) {
    byte[] body = Fixtures.stream(expected.fixture());
    MeterResult result = feed(expected, body, Feeder.whole(body.length));

    assertCounts(expected, body, result, "whole");
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.headNanos()).isEqualTo(Feeder.HEAD_NANOS);
    assertThat(result.firstTokenNanos())
        .isEqualTo(expected.tokenEvents() > 0 ? Feeder.nanosOfPiece(0) : MeterResult.NEVER);
    assertThat(result.endNanos()).isEqualTo(Feeder.nanosOfPiece(2));
    // all events in one read: a burst, so no time passes between first and last token
    if (expected.outputTokens() >= 2) {
      assertThat(result.tpotSeconds()).isZero();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everySplitGivesTheSameCountsAndEventTimes(Expected expected) {
    byte[] body = Fixtures.stream(expected.fixture());
    long[] eventEnds = ndjson(expected) ? lineEnds(body) : dispatchOffsets(body);
    assertThat(eventEnds).hasSize(expected.events());

    for (int[] cuts : Feeder.allSplits(body.length, 20_240_917L, 200)) {
      MeterResult result = feed(expected, body, cuts);
      String split = Feeder.describe(cuts);

      assertCounts(expected, body, result, split);
      long first = timeOf(cuts, eventEnds, expected.firstTokenEvent());
      long last = timeOf(cuts, eventEnds, expected.lastTokenEvent());
      assertThat(result.firstTokenNanos()).as("TTFT, %s", split).isEqualTo(first);
      assertThat(result.firstOutputNanos())
          .as("first output, %s", split)
          .isEqualTo(timeOf(cuts, eventEnds, expected.firstOutputEvent()));
      assertThat(result.lastTokenNanos()).as("last token, %s", split).isEqualTo(last);
      assertThat(result.endNanos()).isEqualTo(Feeder.nanosOfPiece(cuts.length));
      if (expected.choices() == 1 && expected.outputTokens() >= 2) {
        assertThat(result.tpotSeconds())
            .as("TPOT, %s", split)
            .isCloseTo((last - first) / 1e9 / (expected.outputTokens() - 1), within(1e-12));
      }
    }
  }

  private static MeterResult feed(Expected expected, byte[] body, int[] cuts) {
    StreamMeter meter = new StreamMeter(expected.api(), false, TokenGapListener.NONE, 1 << 20);
    String contentType = ndjson(expected) ? "application/x-ndjson" : "text/event-stream";
    return Feeder.feed(meter, contentType, body, cuts);
  }

  private static boolean ndjson(Expected expected) {
    return expected.fixture().endsWith(".ndjson");
  }

  private static void assertCounts(Expected e, byte[] body, MeterResult r, String split) {
    assertThat(r.events()).as("events, %s", split).isEqualTo(e.events());
    assertThat(r.tokenEvents()).as("token events, %s", split).isEqualTo(e.tokenEvents());
    assertThat(r.choices()).as("choices, %s", split).isEqualTo(e.choices());
    assertThat(r.outputTokens()).as("N, %s", split).isEqualTo(e.outputTokens());
    assertThat(r.tokenSource()).as("token source, %s", split).isEqualTo(e.tokenSource());
    assertThat(r.inputTokens()).as("input tokens, %s", split).isEqualTo(e.inputTokens());
    assertThat(r.cachedInputTokens()).as("cached, %s", split).isEqualTo(e.cachedInputTokens());
    assertThat(r.reasoningTokens()).as("reasoning, %s", split).isEqualTo(e.reasoningTokens());
    assertThat(r.errorEvent()).as("error event, %s", split).isEqualTo(e.errorEvent());
    assertThat(r.terminated()).as("terminated, %s", split).isEqualTo(e.terminated());
    assertThat(r.outcome()).as("outcome, %s", split).isEqualTo(e.outcome());
    assertThat(r.bodyBytes()).isEqualTo(body.length);
  }

  /**
   * The time of the piece holding the byte that dispatched event {@code index}; NEVER for {@link
   * #NONE}.
   */
  private static long timeOf(int[] cuts, long[] eventEnds, int index) {
    return index == NONE
        ? MeterResult.NEVER
        : Feeder.nanosOfPiece(Feeder.pieceOf(cuts, (int) eventEnds[index]));
  }

  /**
   * Offsets of the LF that ends each event's blank line. The fixtures use LF only; a block of
   * comment lines ({@code :} keep-alives) ends in a blank line too but dispatches nothing.
   */
  static long[] dispatchOffsets(byte[] body) {
    for (byte b : body) {
      assertThat(b).as("fixture uses LF only").isNotEqualTo((byte) '\r');
    }
    List<Long> ends = new ArrayList<>();
    boolean hasField = false;
    int lineStart = 0;
    for (int i = 0; i < body.length; i++) {
      if (body[i] != '\n') {
        continue;
      }
      if (i == lineStart) {
        if (hasField) {
          ends.add((long) i);
        }
        hasField = false;
      } else if (body[lineStart] != ':') {
        hasField = true;
      }
      lineStart = i + 1;
    }
    return ends.stream().mapToLong(Long::longValue).toArray();
  }

  /** Offsets of the LF that ends each non-blank NDJSON line. */
  static long[] lineEnds(byte[] body) {
    List<Long> ends = new ArrayList<>();
    int lineStart = 0;
    for (int i = 0; i < body.length; i++) {
      if (body[i] == '\n') {
        if (i > lineStart) {
          ends.add((long) i);
        }
        lineStart = i + 1;
      }
    }
    return ends.stream().mapToLong(Long::longValue).toArray();
  }
}
