package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** WHATWG SSE framing on raw bytes, split anywhere (fixtures/streams/README.md, sse-edge-cases). */
class SseEventDecoderTest {

  record Event(String type, String data, long start, long end) {
    Event(String type, String data) {
      this(type, data, -1, -1);
    }

    Event withoutOffsets() {
      return new Event(type, data);
    }
  }

  /** The README's expected dispatch list for sse-edge-cases.sse. */
  private static final List<Event> EDGE_CASES =
      List.of(
          new Event("message", "{\"n\":1,\"text\":\"no space after colon, CRLF endings\"}"),
          new Event("message", "{\"n\":2,\n\"text\":\"multi-line data is joined with LF\"}"),
          new Event("message", "{\"n\":3,\"text\":\"CR-only line endings\"}"),
          new Event("ping", "{\"type\": \"ping\"}"),
          new Event("message", " {\"n\":4,\"text\":\"two spaces: only the first is stripped\"}"),
          new Event("message", ""),
          new Event("message", "{\"n\":6,\"text\":\"h\u00e9llo \u4e16\u754c \ud83d\ude00\"}"),
          new Event("message", "[DONE]"));

  @Test
  void edgeCasesDispatchExactlyTheReadmeListAtEverySplit() {
    byte[] body = Fixtures.stream("sse-edge-cases.sse");
    for (int[] cuts : Feeder.allSplits(body.length, 7L, 200)) {
      Recorder recorder = new Recorder();
      SseEventDecoder decoder = new SseEventDecoder(recorder, 1 << 16);
      for (int k = 0; k + 1 < cuts.length; k++) {
        decoder.feed(body, cuts[k], cuts[k + 1] - cuts[k]);
      }
      decoder.finish();

      assertThat(recorder.events.stream().map(Event::withoutOffsets).toList())
          .as(Feeder.describe(cuts))
          .containsExactlyElementsOf(EDGE_CASES);
      assertThat(decoder.lastEventId()).isEqualTo("evt-1");
      assertThat(decoder.retryMillis()).isEqualTo(3000);
      assertThat(decoder.offset()).isEqualTo(body.length);
    }
  }

  @Test
  void eventRangesStartAtTheFirstFieldLineAndEndAfterTheBlankLine() {
    byte[] body = Fixtures.stream("sse-edge-cases.sse");
    Recorder recorder = new Recorder();
    SseEventDecoder decoder = new SseEventDecoder(recorder, 1 << 16);
    decoder.feed(body, 0, body.length);
    String text = new String(body, UTF_8);

    Event first = recorder.events.get(0);
    // the first event's lines are "retry", "id", "event", "data" after the BOM, comment and blank
    // line
    assertThat(slice(body, first))
        .isEqualTo(
            "retry: 3000\r\nid: evt-1\r\nevent: message\r\n"
                + "data:{\"n\":1,\"text\":\"no space after colon, CRLF endings\"}\r\n\r\n");
    // the third event ends at its CR-only blank line; the keep-alive comment is not part of any
    Event third = recorder.events.get(2);
    assertThat(slice(body, third))
        .isEqualTo("data: {\"n\":3,\"text\":\"CR-only line endings\"}\r\r");
    Event ping = recorder.events.get(3);
    assertThat(slice(body, ping)).isEqualTo("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    // the "Data:" block before it dispatched nothing (case-sensitive field names)
    Event empty = recorder.events.get(5);
    assertThat(slice(body, empty)).isEqualTo("data\n\n");
    // the unterminated tail is an open event until finish() discards it
    int tail =
        text.getBytes(UTF_8).length
            - "data: {\"n\":7,\"text\":\"unterminated event at EOF must be discarded\"}\n".length();
    assertThat(decoder.completeUpTo()).isEqualTo(tail);
    decoder.finish();
    assertThat(decoder.completeUpTo()).isEqualTo(body.length);
  }

  @Test
  void crAtTheEndOfOneReadAndLfAtTheStartOfTheNextAreOneLineEnd() {
    byte[] body = "data: a\r\n\r\ndata: b\r\n\r\n".getBytes(UTF_8);
    Recorder recorder = new Recorder();
    SseEventDecoder decoder = new SseEventDecoder(recorder, 1 << 16);
    decoder.feed(body, 0, 8); // "data: a\r"
    assertThat(decoder.completeUpTo()).isZero(); // an event is open
    decoder.feed(body, 8, 2); // "\n\r": the CR ends the blank line and dispatches
    assertThat(recorder.events).extracting(Event::data).containsExactly("a");
    assertThat(recorder.events.get(0).end()).isEqualTo(10);
    assertThat(decoder.completeUpTo()).isEqualTo(10);
    decoder.feed(body, 10, 1); // "\n" completes that CRLF: no extra blank line
    assertThat(recorder.lineFeedsAfterDispatch).containsExactly(10L);
    assertThat(decoder.completeUpTo()).isEqualTo(11);
    decoder.feed(body, 11, body.length - 11);
    assertThat(recorder.events).extracting(Event::data).containsExactly("a", "b");
  }

  @Test
  void bomIsDroppedOnlyAtTheStartEvenWhenSplit() {
    byte[] body = "\uFEFFdata: x\n\n\uFEFFdata: y\n\n".getBytes(UTF_8);
    for (int[] cuts : List.of(Feeder.byteByByte(body.length), Feeder.whole(body.length))) {
      Recorder recorder = new Recorder();
      SseEventDecoder decoder = new SseEventDecoder(recorder, 1 << 16);
      for (int k = 0; k + 1 < cuts.length; k++) {
        decoder.feed(body, cuts[k], cuts[k + 1] - cuts[k]);
      }
      // the second BOM makes the field name "\uFEFFdata", which is not "data"
      assertThat(recorder.events).extracting(Event::data).containsExactly("x");
      assertThat(recorder.events.get(0).start()).isEqualTo(3);
    }
  }

  @Test
  void oversizedEventsAreCutAndFlagged() {
    String big = "x".repeat(100);
    byte[] body = ("data: " + big + "\n\ndata: ok\n\n").getBytes(UTF_8);
    List<Boolean> truncated = new ArrayList<>();
    Recorder recorder = new Recorder();
    SseEventDecoder[] holder = new SseEventDecoder[1];
    SseEventDecoder decoder =
        new SseEventDecoder(
            (type, typeLength, data, dataLength, start, end) -> {
              truncated.add(holder[0].eventTruncated());
              recorder.onEvent(type, typeLength, data, dataLength, start, end);
            },
            32);
    holder[0] = decoder;
    for (int i = 0; i < body.length; i += 7) {
      decoder.feed(body, i, Math.min(7, body.length - i));
    }
    // the line is kept up to 32 bytes, "data: " included
    assertThat(recorder.events).extracting(Event::data).containsExactly(big.substring(0, 26), "ok");
    assertThat(truncated).containsExactly(true, false);
  }

  @Test
  void eventTypeIsResetAfterDispatchAndAfterAnEmptyBlock() {
    byte[] body = "event: a\n\nevent: b\ndata: 1\n\ndata: 2\n\n".getBytes(UTF_8);
    Recorder recorder = new Recorder();
    new SseEventDecoder(recorder, 1 << 16).feed(body, 0, body.length);
    assertThat(recorder.events)
        .extracting(Event::withoutOffsets)
        .containsExactly(new Event("b", "1"), new Event("message", "2"));
  }

  @Test
  void wordAtATimeLineEndSearchAgreesWithAPlainLoop() {
    java.util.Random random = new java.util.Random(5);
    byte[] candidates = {
      '\n', '\r', 0, 1, 0x0B, 0x0C, 0x0E, (byte) 0x8A, (byte) 0x8D, (byte) 0xFF, 'a'
    };
    for (int round = 0; round < 20_000; round++) {
      byte[] bytes = new byte[random.nextInt(40)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] =
            random.nextInt(4) == 0
                ? candidates[random.nextInt(candidates.length)]
                : (byte) random.nextInt(256);
      }
      int from = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
      int end = from + random.nextInt(bytes.length - from + 1);
      int expected = end;
      for (int i = from; i < end; i++) {
        if (bytes[i] == '\n' || bytes[i] == '\r') {
          expected = i;
          break;
        }
      }
      assertThat(SseEventDecoder.indexOfLineEnd(bytes, from, end)).isEqualTo(expected);
    }
  }

  private static String slice(byte[] body, Event event) {
    return new String(body, (int) event.start(), (int) (event.end() - event.start()), UTF_8);
  }

  /**
   * Decoders fed by turns on one thread share the buffer an event's data is gathered in: an event
   * cut between two reads keeps its bytes while other streams' events are decoded in between, an
   * event larger than the shared buffer works, and a listener that feeds another decoder while its
   * own event is being handed over does not overwrite it.
   */
  @Test
  void decodersOnOneThreadKeepTheirEventsApart() {
    String big = "x".repeat(5000);
    byte[] a = ("data: {\"stream\":\"a\",\"n\":1}\n\ndata: " + big + "\n\ndata: {\"stream\":\"a\",\"n\":3}\n\n").getBytes(UTF_8);
    byte[] b = "data: {\"stream\":\"b\",\"n\":1}\n\ndata: {\"stream\":\"b\",\"n\":2}\n\n".getBytes(UTF_8);
    for (int cut = 1; cut < a.length; cut += 7) {
      Recorder ra = new Recorder();
      Recorder rb = new Recorder();
      SseEventDecoder da = new SseEventDecoder(ra, 1 << 16);
      SseEventDecoder db = new SseEventDecoder(rb, 1 << 16);
      int bcut = Math.min(cut, b.length - 1);
      da.feed(a, 0, cut);
      db.feed(b, 0, bcut);
      da.feed(a, cut, a.length - cut);
      db.feed(b, bcut, b.length - bcut);
      assertThat(ra.events.stream().map(Event::data).toList())
          .as("cut at %d", cut)
          .containsExactly("{\"stream\":\"a\",\"n\":1}", big, "{\"stream\":\"a\",\"n\":3}");
      assertThat(rb.events.stream().map(Event::data).toList())
          .as("cut at %d", cut)
          .containsExactly("{\"stream\":\"b\",\"n\":1}", "{\"stream\":\"b\",\"n\":2}");
    }

    Recorder inner = new Recorder();
    SseEventDecoder other = new SseEventDecoder(inner, 1 << 16);
    List<String> outerSeen = new ArrayList<>();
    SseEventDecoder outer = new SseEventDecoder((type, typeLength, data, dataLength, start, end) -> {
      other.feed(b, 0, b.length); // before reading its own data
      outerSeen.add(new String(data, 0, dataLength, UTF_8));
    }, 1 << 16);
    outer.feed(a, 0, a.length);
    assertThat(outerSeen).containsExactly("{\"stream\":\"a\",\"n\":1}", big, "{\"stream\":\"a\",\"n\":3}");
    assertThat(inner.events).hasSize(6);
  }

  static final class Recorder implements SseEventDecoder.Listener {
    final List<Event> events = new ArrayList<>();
    final List<Long> lineFeedsAfterDispatch = new ArrayList<>();

    @Override
    public void onEvent(
        byte[] type, int typeLength, byte[] data, int dataLength, long start, long end) {
      String name = typeLength == 0 ? "message" : new String(type, 0, typeLength, UTF_8);
      events.add(new Event(name, new String(data, 0, dataLength, UTF_8), start, end));
    }

    @Override
    public void onLineFeedAfterDispatch(long offset) {
      lineFeedsAfterDispatch.add(offset);
    }
  }
}
