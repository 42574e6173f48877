package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DESIGN.md §3 usage injection: the meter finds the usage-only chunk that the relay's injected
 * {@code include_usage} caused, and the client gets the stream as the server would have sent it
 * without the option. The relay is simulated the way it will use the meter: after each read it
 * forwards the bytes before {@code completeUpTo()}, minus the drained ranges.
 */
class UsageInjectionTest {

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "openai-chat-usage.sse",
        "openai-chat-multi-choice.sse",
        "openai-chat-tool-calls.sse",
        "openai-chat-logprobs.sse",
        "openai-completions.sse",
        "vllm-chat-continuous-usage.sse",
        "vllm-reasoning.sse",
        "sglang-reasoning.sse",
        "tgi-chat-usage.sse",
        "llamacpp-chat.sse"
      })
  void theUsageChunkAndNothingElseIsRemovedAtEverySplit(String fixture) {
    byte[] body = Fixtures.stream(fixture);
    String expected = withoutUsageChunk(new String(body, UTF_8), "\n\n");
    Route route = fixture.startsWith("openai-completions") ? Route.COMPLETIONS : Route.CHAT;

    for (int[] cuts : Feeder.allSplits(body.length, 11L, 200)) {
      StreamMeter meter = Feeder.meter(route, true, TokenGapListener.NONE);
      assertThat(relay(meter, body, cuts)).as(Feeder.describe(cuts)).isEqualTo(expected);
      assertThat(meter.result().tokenSource()).isEqualTo(TokenSource.USAGE);
      assertThat(meter.result().outcome()).isEqualTo(Outcome.OK);
    }
  }

  @Test
  void withCrlfLineEndsTheSplitCrLfPairGoesWithTheChunk() {
    String crlf = new String(Fixtures.stream("openai-chat-usage.sse"), UTF_8).replace("\n", "\r\n");
    byte[] body = crlf.getBytes(UTF_8);
    String expected = withoutUsageChunk(crlf, "\r\n\r\n");

    for (int[] cuts : Feeder.allSplits(body.length, 12L, 200)) {
      StreamMeter meter = Feeder.meter(Route.CHAT, true, TokenGapListener.NONE);
      assertThat(relay(meter, body, cuts)).as(Feeder.describe(cuts)).isEqualTo(expected);
    }
  }

  @Test
  void aKeepAliveCommentBeforeTheUsageChunkStays() {
    String original = new String(Fixtures.stream("openai-chat-usage.sse"), UTF_8);
    int usageStart = original.lastIndexOf("\n\n", original.indexOf("\"choices\":[],")) + 2;
    String withComment =
        original.substring(0, usageStart) + ": keep-alive\n\n" + original.substring(usageStart);
    byte[] body = withComment.getBytes(UTF_8);
    String expected = withoutUsageChunk(withComment, "\n\n");
    assertThat(expected).contains(": keep-alive\n\ndata: [DONE]");

    for (int[] cuts : Feeder.allSplits(body.length, 13L, 50)) {
      StreamMeter meter = Feeder.meter(Route.CHAT, true, TokenGapListener.NONE);
      assertThat(relay(meter, body, cuts)).as(Feeder.describe(cuts)).isEqualTo(expected);
    }
  }

  @Test
  void withoutInjectionNothingIsDropped() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    for (int[] cuts : Feeder.allSplits(body.length, 14L, 20)) {
      StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
      meter.onResponseHead(200, "text/event-stream", 0);
      for (int k = 0; k + 1 < cuts.length; k++) {
        meter.onBody(body, cuts[k], cuts[k + 1] - cuts[k], k);
        assertThat(meter.drainDropRanges()).isEmpty();
      }
      meter.onComplete(cuts.length);
      assertThat(meter.drainDropRanges()).isEmpty();
      assertThat(meter.result().outputTokens()).isEqualTo(30);
    }
  }

  @Test
  void completeUpToStopsAtTheStartOfTheOpenEvent() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    List<Long> eventEnds = new ArrayList<>();
    for (long dispatch : StreamMeterFixtureTest.dispatchOffsets(body)) {
      eventEnds.add(dispatch + 1);
    }
    for (int at = 0; at <= body.length; at++) {
      StreamMeter meter = Feeder.meter(Route.CHAT, true, TokenGapListener.NONE);
      meter.onResponseHead(200, "text/event-stream", 0);
      meter.onBody(body, 0, at, 1);
      long expected = 0;
      for (long end : eventEnds) {
        if (end <= at) {
          expected = end;
        }
      }
      assertThat(meter.completeUpTo()).as("after %s bytes", at).isEqualTo(expected);
      assertThat(meter.bodyBytes()).isEqualTo(at);
      meter.onBody(body, at, body.length - at, 2);
      assertThat(meter.completeUpTo()).isEqualTo(body.length);
    }
  }

  /** What the relay would forward: bytes before completeUpTo after each read, minus drops. */
  static String relay(StreamMeter meter, byte[] body, int[] cuts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<long[]> drops = new ArrayList<>();
    long forwarded = 0;
    meter.onResponseHead(200, "text/event-stream", 0);
    for (int k = 0; k + 1 < cuts.length; k++) {
      meter.onBody(body, cuts[k], cuts[k + 1] - cuts[k], Feeder.nanosOfPiece(k));
      forwarded = forward(meter, body, forwarded, meter.completeUpTo(), drops, out);
    }
    meter.onComplete(Feeder.nanosOfPiece(cuts.length));
    forward(meter, body, forwarded, meter.bodyBytes(), drops, out);
    return out.toString(UTF_8);
  }

  private static long forward(
      StreamMeter meter,
      byte[] body,
      long from,
      long to,
      List<long[]> drops,
      ByteArrayOutputStream out) {
    long[] drained = meter.drainDropRanges();
    for (int i = 0; i < drained.length; i += 2) {
      assertThat(drained[i])
          .as("a drop never reaches back into forwarded bytes")
          .isGreaterThanOrEqualTo(from);
      assertThat(drained[i + 1])
          .as("a drop lies within the complete bytes")
          .isLessThanOrEqualTo(to);
      drops.add(new long[] {drained[i], drained[i + 1]});
    }
    long next = from;
    for (long[] range : drops) { // drops arrive in order and never overlap
      if (range[1] <= next || range[0] >= to) {
        continue;
      }
      out.write(body, (int) next, (int) (Math.max(next, range[0]) - next));
      next = Math.min(range[1], to);
    }
    out.write(body, (int) next, (int) (to - next));
    return to;
  }

  /** The body with the one {@code "choices":[]} event cut out, found by text search. */
  private static String withoutUsageChunk(String body, String blankLine) {
    int marker = body.indexOf("\"choices\":[]");
    assertThat(marker).isPositive();
    assertThat(body.indexOf("\"choices\":[]", marker + 1)).isNegative();
    int start = body.lastIndexOf(blankLine, marker) + blankLine.length();
    int end = body.indexOf(blankLine, marker) + blankLine.length();
    String cut = body.substring(0, start) + body.substring(end);
    assertThat(cut).doesNotContain("\"choices\":[]").endsWith("data: [DONE]" + blankLine);
    return cut;
  }
}
