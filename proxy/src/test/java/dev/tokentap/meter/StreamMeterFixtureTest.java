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
 * Every OpenAI-style fixture (shared/fixtures/streams, README counts) against values derived by
 * reading its bytes, fed whole, split at every offset, byte by byte and in random pieces.
 */
class StreamMeterFixtureTest {

  /**
   * What a fixture must give. Event positions are indexes among dispatched events, {@code [DONE]}
   * included.
   */
  record Expected(
      String fixture,
      Route route,
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

  static Stream<Expected> fixtures() {
    return Stream.of(
        // role chunk (content ""), 30 content chunks, finish, usage-only chunk, [DONE]
        new Expected(
            "openai-chat-usage.sse",
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.COMPLETIONS,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            Route.CHAT,
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
            1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void wholeBody(Expected expected) {
    byte[] body = Fixtures.stream(expected.fixture());
    MeterResult result = Feeder.feed(meter(expected), body, Feeder.whole(body.length));

    assertCounts(expected, body, result, "whole");
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.headNanos()).isEqualTo(Feeder.HEAD_NANOS);
    assertThat(result.firstTokenNanos()).isEqualTo(Feeder.nanosOfPiece(0));
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
    long[] eventEnds = dispatchOffsets(body);
    assertThat(eventEnds).hasSize(expected.events());

    for (int[] cuts : Feeder.allSplits(body.length, 20_240_917L, 200)) {
      MeterResult result = Feeder.feed(meter(expected), body, cuts);
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
      if (expected.choices() == 1) {
        assertThat(result.tpotSeconds())
            .as("TPOT, %s", split)
            .isCloseTo((last - first) / 1e9 / (expected.outputTokens() - 1), within(1e-12));
      }
    }
  }

  private static StreamMeter meter(Expected expected) {
    return Feeder.meter(expected.route(), false, TokenGapListener.NONE);
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

  /** The time of the piece holding the byte that dispatched event {@code index}. */
  private static long timeOf(int[] cuts, long[] eventEnds, int index) {
    return Feeder.nanosOfPiece(Feeder.pieceOf(cuts, (int) eventEnds[index]));
  }

  /**
   * Offsets of the LF that ends each event's blank line. The in-scope fixtures use LF only and have
   * no comments, so every {@code \n\n} ends one event.
   */
  static long[] dispatchOffsets(byte[] body) {
    for (byte b : body) {
      assertThat(b).as("fixture uses LF only").isNotEqualTo((byte) '\r');
    }
    List<Long> ends = new ArrayList<>();
    for (int i = 1; i < body.length; i++) {
      if (body[i] == '\n' && body[i - 1] == '\n') {
        ends.add((long) i);
        i++; // the blank line's LF cannot also end the next line
      }
    }
    return ends.stream().mapToLong(Long::longValue).toArray();
  }
}
