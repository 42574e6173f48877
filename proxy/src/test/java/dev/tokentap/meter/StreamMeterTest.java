package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.tokentap.testkit.Fixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Timing, gaps, outcomes and body kinds of {@link StreamMeter} beyond the fixture table. */
class StreamMeterTest {

  private static final String SSE = "text/event-stream";

  @Test
  void gapsGoToTheListenerAsTheyHappenOnePerConsecutivePair() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    long[] ends = StreamMeterFixtureTest.dispatchOffsets(body);
    List<Long> gaps = new ArrayList<>();
    StreamMeter meter = new StreamMeter(Route.CHAT, false, gaps::add, 1 << 20);
    meter.onResponseHead(200, SSE, 0);
    int from = 0;
    List<Long> times = new ArrayList<>();
    for (int i = 0; i < ends.length; i++) {
      long t = 1_000L * i * i; // growing gaps, so each gap value is distinct
      times.add(t);
      int gapsBefore = gaps.size();
      meter.onBody(body, from, (int) ends[i] + 1 - from, t);
      from = (int) ends[i] + 1;
      if (i >= 2 && i <= 30) {
        assertThat(gaps).as("gap reported during the read of event %s", i).hasSize(gapsBefore + 1);
      }
    }
    meter.onComplete(10_000_000L);

    MeterResult result = meter.result();
    assertThat(gaps).hasSize(result.tokenEvents() - result.choices()).hasSize(29);
    for (int k = 0; k < gaps.size(); k++) {
      // token events are events 1..30
      assertThat(gaps.get(k)).isEqualTo(times.get(k + 2) - times.get(k + 1));
    }
    assertThat(result.firstTokenNanos()).isEqualTo(times.get(1));
    assertThat(result.lastTokenNanos()).isEqualTo(times.get(30));
    assertThat(result.tpotSeconds())
        .isCloseTo((times.get(30) - times.get(1)) / 1e9 / 29, within(1e-15));
  }

  @Test
  void withSeveralChoicesGapsAreTakenPerChoice() {
    byte[] body = Fixtures.stream("openai-chat-multi-choice.sse");
    long[] ends = StreamMeterFixtureTest.dispatchOffsets(body);
    String text = new String(body, UTF_8);
    Pattern contentOfChoice = Pattern.compile("\"index\":(\\d+),\"delta\":\\{\"content\":\"(?!\")");

    List<Long> gaps = new ArrayList<>();
    StreamMeter meter = new StreamMeter(Route.CHAT, false, gaps::add, 1 << 20);
    meter.onResponseHead(200, SSE, 0);
    long[] lastByChoice = {-1, -1, -1};
    long[] firstByChoice = {-1, -1, -1};
    int[] tokensByChoice = new int[3];
    List<Long> expectedGaps = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < ends.length; i++) {
      long t = 7_000L * i + (i % 3) * 1_300L + (long) i * i;
      String event = text.substring(from, (int) ends[i] + 1);
      Matcher m = contentOfChoice.matcher(event);
      if (m.find()) {
        int c = Integer.parseInt(m.group(1));
        if (lastByChoice[c] >= 0) {
          expectedGaps.add(t - lastByChoice[c]);
        } else {
          firstByChoice[c] = t;
        }
        lastByChoice[c] = t;
        tokensByChoice[c]++;
      }
      meter.onBody(body, from, (int) ends[i] + 1 - from, t);
      from = (int) ends[i] + 1;
    }
    meter.onComplete(1_000_000L);

    MeterResult result = meter.result();
    assertThat(tokensByChoice).containsExactly(14, 14, 14);
    assertThat(gaps).containsExactlyElementsOf(expectedGaps).hasSize(42 - 3);
    // N = 42 shared as 14 per choice: mean of (t_last_c - t_first_c) / 13
    double expected = 0;
    for (int c = 0; c < 3; c++) {
      expected += (lastByChoice[c] - firstByChoice[c]) / 1e9 / 13;
    }
    assertThat(result.tpotSeconds()).isCloseTo(expected / 3, within(1e-15));
  }

  @Test
  void multiChoiceTpotSharesNByEvents() {
    // choice 0: 3 events at 0, 10, 20 ms; choice 1: 1 event. N = 8 from usage:
    // k'_0 = 3 * 8 / 4 = 6 -> 20 ms / 5; k'_1 = 2 -> 0 ms / 1 (a single event spans no time)
    String body =
        chunk(0, "a") + chunk(1, "b") + chunk(0, "c") + chunk(0, "d") + usageChunk(8) + done();
    StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
    meter.onResponseHead(200, SSE, 0);
    String[] events = body.split("(?<=\n\n)");
    long[] times = {0, 0, 10_000_000, 20_000_000, 20_000_000, 20_000_000};
    for (int i = 0; i < events.length; i++) {
      byte[] bytes = events[i].getBytes(UTF_8);
      meter.onBody(bytes, 0, bytes.length, times[i]);
    }
    meter.onComplete(30_000_000);
    MeterResult result = meter.result();
    assertThat(result.choices()).isEqualTo(2);
    assertThat(result.outputTokens()).isEqualTo(8);
    assertThat(result.tpotSeconds()).isCloseTo((0.020 / 5 + 0.0) / 2, within(1e-15));
  }

  @Test
  void aStreamCutBeforeDoneIsAnUpstreamAbort() {
    String full = new String(Fixtures.stream("openai-chat-usage.sse"), UTF_8);
    String cut = full.substring(0, full.indexOf("data: [DONE]"));
    MeterResult result = feedWhole(cut, Route.CHAT);
    assertThat(result.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(result.terminated()).isFalse();
    assertThat(result.outputTokens()).isEqualTo(30);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.USAGE);

    // cut inside an event: the partial event is discarded, not parsed
    String midEvent = full.substring(0, full.indexOf("\" weather\"") + 3);
    MeterResult partial = feedWhole(midEvent, Route.CHAT);
    assertThat(partial.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(partial.events()).isEqualTo(7);
    assertThat(partial.tokenEvents()).isEqualTo(6);
    assertThat(partial.tokenSource()).isEqualTo(TokenSource.EVENTS);
  }

  @Test
  void aClientAbortKeepsThePartialTimings() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    long[] ends = StreamMeterFixtureTest.dispatchOffsets(body);
    StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
    meter.onResponseHead(200, SSE, 100);
    meter.onBody(body, 0, (int) ends[0] + 1, 200);
    meter.onBody(body, (int) ends[0] + 1, (int) (ends[5] - ends[0]), 300);
    meter.onBody(body, (int) ends[5] + 1, 10, 400);
    meter.onBroken(Outcome.CLIENT_ABORT, 500);
    meter.onBody(body, (int) ends[5] + 11, 100, 600); // after the end: ignored

    MeterResult result = meter.result();
    assertThat(result.outcome()).isEqualTo(Outcome.CLIENT_ABORT);
    assertThat(result.firstTokenNanos()).isEqualTo(300);
    assertThat(result.lastTokenNanos()).isEqualTo(300);
    assertThat(result.endNanos()).isEqualTo(500);
    assertThat(result.events()).isEqualTo(6);
    assertThat(result.tokenEvents()).isEqualTo(5);
    assertThat(result.outputTokens()).isEqualTo(5);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.EVENTS);
    assertThat(result.bodyBytes()).isEqualTo(ends[5] + 11);
    assertThat(result.ttftSeconds(0)).hasValue(300e-9);
    assertThat(result.ttfbSeconds(0)).hasValue(100e-9);
    assertThat(result.e2eSeconds(0)).hasValue(500e-9);
    assertThat(meter.result()).isSameAs(result);
  }

  @Test
  void timeoutAndUpstreamAbortAreKeptButAnErrorEventWins() {
    StreamMeter timedOut = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
    timedOut.onResponseHead(200, SSE, 0);
    timedOut.onBroken(Outcome.TIMEOUT, 5);
    assertThat(timedOut.result().outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(timedOut.result().tokenSource()).isEqualTo(TokenSource.NONE);

    String errorThenBreak = chunk(0, "a") + "data: {\"error\":{\"message\":\"boom\"}}\n\n";
    StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
    meter.onResponseHead(200, SSE, 0);
    byte[] bytes = errorThenBreak.getBytes(UTF_8);
    meter.onBody(bytes, 0, bytes.length, 1);
    meter.onBroken(Outcome.UPSTREAM_ABORT, 2);
    assertThat(meter.result().outcome()).isEqualTo(Outcome.ERROR);
    assertThat(meter.result().errorEvent()).isTrue();
    assertThat(meter.result().firstTokenNanos()).isEqualTo(1);
  }

  @Test
  void llamaCppErrorWithoutDoneIsAnError() {
    String body =
        chunk(0, "Hi")
            + "data: {\"error\":{\"code\":500,\"message\":\"x\",\"type\":\"server_error\"}}\n\n";
    MeterResult result = feedWhole(body, Route.CHAT);
    assertThat(result.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(result.terminated()).isFalse();
    assertThat(result.tokenEvents()).isEqualTo(1);
  }

  @Test
  void garbageEventsMarkTheRecordUnparsedAndTheParserRecovers() {
    String body =
        chunk(0, "a")
            + "data: {not json\n\n"
            + chunk(0, "b")
            + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\n\n" // truncated JSON
            + chunk(0, "c")
            + "data: 42\n\n"
            + chunk(0, "d")
            + "data: {\"choices\":[]} trailing\n\n"
            + chunk(0, "e")
            + "data: \u00ff\u0000\n\n"
            + chunk(0, "f")
            + done();
    byte[] bytes = body.getBytes(UTF_8);
    for (int[] cuts : Feeder.allSplits(bytes.length, 3L, 50)) {
      MeterResult result =
          Feeder.feed(Feeder.meter(Route.CHAT, false, TokenGapListener.NONE), bytes, cuts);
      assertThat(result.tokenSource()).isEqualTo(TokenSource.UNPARSED);
      assertThat(result.tokenEvents()).as(Feeder.describe(cuts)).isEqualTo(6);
      assertThat(result.outputTokens()).isEqualTo(6);
      assertThat(result.events()).isEqualTo(12);
      assertThat(result.outcome()).isEqualTo(Outcome.OK);
    }
  }

  @Test
  void largeEventsAreReadAndOversizedOnesAreUnparsed() {
    String large = chunk(0, "x".repeat(50_000)) + chunk(1_000_000, "y") + done();
    MeterResult read = feedWhole(large, Route.CHAT);
    assertThat(read.tokenSource()).isEqualTo(TokenSource.EVENTS);
    assertThat(read.tokenEvents()).isEqualTo(2);
    assertThat(read.choices()).isEqualTo(2);

    // a small JSON cap still keeps SSE events up to MIN_EVENT_BYTES; this one is longer
    byte[] oversized =
        (chunk(0, "a") + chunk(0, "x".repeat(StreamMeter.MIN_EVENT_BYTES)) + done())
            .getBytes(UTF_8);
    MeterResult cut =
        Feeder.feed(
            new StreamMeter(Route.CHAT, false, TokenGapListener.NONE, 1024),
            oversized,
            Feeder.whole(oversized.length));
    assertThat(cut.tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(cut.events()).as("metering stopped at the oversized event, the last one counted").isEqualTo(2);
    assertThat(cut.tokenEvents()).isEqualTo(1);
    assertThat(cut.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void randomBytesNeverThrow() {
    Random random = new Random(99);
    for (int round = 0; round < 300; round++) {
      byte[] bytes = new byte[random.nextInt(2_000)];
      random.nextBytes(bytes);
      if (round % 2 == 0) { // plenty of line ends and data fields
        for (int i = 0; i < bytes.length; i++) {
          int pick = random.nextInt(10);
          if (pick == 0) bytes[i] = '\n';
          else if (pick == 1) bytes[i] = '\r';
          else if (pick == 2) bytes[i] = '{';
        }
      }
      for (String type : new String[] {SSE, "application/json", null}) {
        StreamMeter meter = new StreamMeter(Route.CHAT, true, g -> {}, 512);
        meter.onResponseHead(200, type, 0);
        meter.onBody(bytes, 0, bytes.length / 2, 1);
        meter.onBody(bytes, bytes.length / 2, bytes.length - bytes.length / 2, 2);
        meter.drainDropRanges();
        meter.onComplete(3);
        assertThat(meter.result().bodyBytes()).isEqualTo(bytes.length);
      }
    }
  }

  @Test
  void afterDoneEventsAreCountedButNotTimed() {
    String body = chunk(0, "a") + done() + chunk(0, "late") + "data: {\"error\":\"late\"}\n\n";
    MeterResult result = feedWhole(body, Route.CHAT);
    assertThat(result.events()).isEqualTo(4);
    assertThat(result.tokenEvents()).isEqualTo(1);
    assertThat(result.errorEvent()).isFalse();
    assertThat(result.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void nonStreamingJsonTakesUsageAndHasNoTtft() {
    String body =
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello"
            + " there\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":8},\"completion_tokens_details\":{\"reasoning_tokens\":1}}}";
    byte[] bytes = body.getBytes(UTF_8);
    for (int[] cuts : List.of(Feeder.whole(bytes.length), Feeder.byteByByte(bytes.length))) {
      StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
      meter.onResponseHead(200, "application/json; charset=utf-8", 10);
      for (int k = 0; k + 1 < cuts.length; k++) {
        meter.onBody(bytes, cuts[k], cuts[k + 1] - cuts[k], 20 + k);
      }
      meter.onComplete(5_000);
      MeterResult result = meter.result();
      assertThat(result.outputTokens()).isEqualTo(3);
      assertThat(result.tokenSource()).isEqualTo(TokenSource.USAGE);
      assertThat(result.inputTokens()).isEqualTo(12);
      assertThat(result.cachedInputTokens()).isEqualTo(8);
      assertThat(result.reasoningTokens()).isEqualTo(1);
      assertThat(result.firstTokenNanos()).isEqualTo(MeterResult.NEVER);
      assertThat(result.ttftSeconds(0)).isEmpty();
      assertThat(result.tpot()).isEmpty();
      assertThat(result.events()).isZero();
      assertThat(result.outcome()).isEqualTo(Outcome.OK);
      assertThat(result.e2eSeconds(0)).hasValue(5e-6);
      assertThat(meter.completeUpTo()).isEqualTo(bytes.length);
    }
  }

  @Test
  void jsonErrorBodies() {
    MeterResult serverError =
        feedJson(
            500,
            "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":null}}",
            1 << 20);
    assertThat(serverError.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(serverError.errorEvent()).isTrue();
    assertThat(serverError.tokenSource()).isEqualTo(TokenSource.NONE);
    assertThat(serverError.outputTokens()).isZero();

    MeterResult tgi =
        feedJson(
            422, "{\"error\":\"Input validation error\",\"error_type\":\"validation\"}", 1 << 20);
    assertThat(tgi.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(tgi.errorEvent()).isTrue();

    MeterResult noUsage =
        feedJson(200, "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"x\"}}]}", 1 << 20);
    assertThat(noUsage.tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(noUsage.outcome()).isEqualTo(Outcome.OK);

    MeterResult outlineTooBig =
        feedJson(200, "{\"usage\":{\"completion_tokens\":3},\"model\":\"" + "m".repeat(100) + "\"}", 64);
    assertThat(outlineTooBig.tokenSource()).isEqualTo(TokenSource.UNPARSED);

    MeterResult bodyBiggerThanTheCap =
        feedJson(200, "{\"choices\":[{\"message\":{\"content\":\"" + "m".repeat(1000) + "\"}}],"
            + "\"usage\":{\"completion_tokens\":3}}", 64);
    assertThat(bodyBiggerThanTheCap.tokenSource()).as("only the outline counts").isEqualTo(TokenSource.USAGE);
    assertThat(bodyBiggerThanTheCap.outputTokens()).isEqualTo(3);

    MeterResult htmlWithJsonType = feedJson(502, "<html>Bad Gateway</html>", 1 << 20);
    assertThat(htmlWithJsonType.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(htmlWithJsonType.tokenSource()).isEqualTo(TokenSource.UNPARSED);
  }

  @Test
  void opaqueBodiesAreOnlyCounted() {
    StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
    meter.onResponseHead(200, "text/plain", 0);
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    meter.onBody(body, 0, body.length, 1);
    meter.onComplete(2);
    MeterResult result = meter.result();
    assertThat(result.tokenSource()).isEqualTo(TokenSource.NONE);
    assertThat(result.events()).isZero();
    assertThat(result.bodyBytes()).isEqualTo(body.length);
    assertThat(result.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void routesWithoutADialectCountEventsOnlyAndSayUnparsed() {
    byte[] body = Fixtures.stream("openai-responses.sse");
    MeterResult result =
        Feeder.feed(
            Feeder.meter(Route.OTHER, false, TokenGapListener.NONE),
            body,
            Feeder.whole(body.length));
    assertThat(result.events()).isEqualTo(19);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(result.outcome()).isEqualTo(Outcome.OK);
    assertThat(result.firstTokenNanos()).isEqualTo(MeterResult.NEVER);
  }

  @Test
  void byteBufsAreReadWithoutBeingConsumedOrReleased() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    MeterResult expected =
        Feeder.feed(
            Feeder.meter(Route.CHAT, false, TokenGapListener.NONE),
            body,
            Feeder.whole(body.length));

    ByteBuf heap = Unpooled.wrappedBuffer(new byte[7], body).readerIndex(7);
    ByteBuf direct =
        PooledByteBufAllocator.DEFAULT.directBuffer(body.length + 3).writeZero(3).writeBytes(body);
    direct.readerIndex(3);
    CompositeByteBuf composite = Unpooled.compositeBuffer();
    composite.addComponent(true, Unpooled.wrappedBuffer(body, 0, 5000));
    composite.addComponent(
        true, Unpooled.directBuffer(body.length).writeBytes(body, 5000, body.length - 5000));
    try {
      for (ByteBuf buf : List.of(heap, direct, composite)) {
        int readerIndex = buf.readerIndex();
        StreamMeter meter = Feeder.meter(Route.CHAT, false, TokenGapListener.NONE);
        meter.onResponseHead(200, SSE, Feeder.HEAD_NANOS);
        meter.onBody(buf, Feeder.nanosOfPiece(0));
        meter.onComplete(Feeder.nanosOfPiece(2));
        assertThat(meter.result()).isEqualTo(expected);
        assertThat(buf.readerIndex()).isEqualTo(readerIndex);
        assertThat(buf.refCnt()).isEqualTo(1);
      }
    } finally {
      heap.release();
      direct.release();
      composite.release();
    }
  }

  private static MeterResult feedWhole(String body, Route route) {
    byte[] bytes = body.getBytes(UTF_8);
    return Feeder.feed(
        Feeder.meter(route, false, TokenGapListener.NONE), bytes, Feeder.whole(bytes.length));
  }

  private static MeterResult feedJson(int status, String body, int maxBuffered) {
    StreamMeter meter = new StreamMeter(Route.CHAT, false, TokenGapListener.NONE, maxBuffered);
    meter.onResponseHead(status, "application/json", 0);
    byte[] bytes = body.getBytes(UTF_8);
    meter.onBody(bytes, 0, bytes.length / 3, 1);
    meter.onBody(bytes, bytes.length / 3, bytes.length - bytes.length / 3, 2);
    meter.onComplete(3);
    return meter.result();
  }

  static String chunk(int index, String content) {
    return "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":"
        + index
        + ",\"delta\":{\"content\":\""
        + content
        + "\"},\"finish_reason\":null}]}\n\n";
  }

  static String usageChunk(long completionTokens) {
    return "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":"
        + completionTokens
        + ",\"total_tokens\":"
        + (5 + completionTokens)
        + "}}\n\n";
  }

  static String done() {
    return "data: [DONE]\n\n";
  }

  @Test
  void anEventPastTheLimitStopsTheMeterWhichThenHoldsNothingBack() {
    StreamMeter meter = new StreamMeter(Route.CHAT, true, new ArrayList<Long>()::add, 0);
    meter.onResponseHead(200, SSE, 1);
    byte[] event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n".getBytes(UTF_8);
    meter.onBody(event, 0, event.length, 2);
    byte[] start = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"".getBytes(UTF_8);
    meter.onBody(start, 0, start.length, 3);
    assertThat(meter.completeUpTo()).as("an event still arriving is held").isEqualTo(event.length);
    byte[] more = new byte[64 * 1024];
    java.util.Arrays.fill(more, (byte) 'y');
    for (int i = 0; i < 5; i++) { // 320 KiB: past the 256 KiB event floor
      meter.onBody(more, 0, more.length, 4 + i);
    }
    assertThat(meter.gaveUp()).isTrue();
    assertThat(meter.completeUpTo()).as("nothing is held once the meter gave up").isEqualTo(meter.bodyBytes());
    meter.onBody(event, 0, event.length, 10); // later events are not read
    meter.onComplete(11);
    MeterResult r = meter.result();
    assertThat(r.tokenEvents()).isEqualTo(1);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(r.outcome()).as("no [DONE] was read, but the stream ended cleanly").isEqualTo(Outcome.OK);
    assertThat(r.bodyBytes()).isEqualTo(2L * event.length + start.length + 5L * more.length);
  }

  @Test
  void bytesThatHoldNoEventAtAllAreUnparsed() {
    StreamMeter meter = new StreamMeter(Route.CHAT, false, new ArrayList<Long>()::add, 0);
    meter.onResponseHead(200, SSE, 1);
    byte[] garbage = "<html>\n<body>Bad gateway</body>\n</html>\n".getBytes(UTF_8);
    meter.onBody(garbage, 0, garbage.length, 2);
    meter.onComplete(3);
    assertThat(meter.result().tokenSource()).isEqualTo(TokenSource.UNPARSED);
    assertThat(meter.result().outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
  }
}
