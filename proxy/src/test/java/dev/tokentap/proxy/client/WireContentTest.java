package dev.tokentap.proxy.client;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.testkit.Fixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link WireContent}: the payload is read where it lies in the wire bytes, made into a buffer only
 * when asked, and released with the part; references kept by consumers outlive it.
 */
class WireContentTest {
  /** "5\r\nhello\r\n3\r\nabc\r\n": the payload "helloabc" in two ranges. */
  private static final byte[] TWO_CHUNKS = "5\r\nhello\r\n3\r\nabc\r\n".getBytes(US_ASCII);
  private static final int[] TWO_RANGES = {3, 5, 13, 3};

  @Test
  void thePayloadIsMadeWhenAskedFromTheWireBytesAndReleasedWithThePart() {
    ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(TWO_CHUNKS);
    WireContent part = new WireContent(read.retainedSlice(0, read.readableBytes()), TWO_RANGES, true);
    assertThat(part.payloadLength()).isEqualTo(8);
    assertThat(part.content().toString(US_ASCII)).isEqualTo("helloabc");
    assertThat(part.content()).as("made once").isSameAs(part.content());
    assertThat(part.release()).isTrue();
    assertThat(read.refCnt()).as("the part's references to the read are all given back").isEqualTo(1);
    read.release();
  }

  @Test
  void payloadOffsetsCountFromTheWireStartWhateverAWriteHasReadOfIt() {
    ByteBuf read = Unpooled.buffer().writeBytes(TWO_CHUNKS);
    WireContent part = new WireContent(read.retainedSlice(0, read.readableBytes()), TWO_RANGES, true);
    part.wire().skipBytes(10); // a write to the client consumed part of the wire bytes
    assertThat(part.content().toString(US_ASCII)).isEqualTo("helloabc");
    part.release();
    read.release();
  }

  @Test
  void aConsumerKeepingThePayloadOrTheWireBytesOutlivesThePart() {
    ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(TWO_CHUNKS);
    WireContent part = new WireContent.Last(read.retainedSlice(0, read.readableBytes()), TWO_RANGES, true);
    ByteBuf kept = part.content().retain();
    ByteBuf wire = part.wire().retain();
    read.release(); // the codec's own reference, gone after the read
    assertThat(part.release()).isTrue();
    assertThat(kept.toString(US_ASCII)).isEqualTo("helloabc");
    assertThat(wire.toString(US_ASCII)).isEqualTo(new String(TWO_CHUNKS, US_ASCII));
    kept.release();
    assertThat(wire.release()).as("the last reference frees the read").isTrue();
    assertThat(read.refCnt()).isZero();
  }

  @Test
  void aPartWithoutChunkFramingIsItsWireBytes() {
    ByteBuf read = Unpooled.buffer().writeBytes("{\"a\":1}".getBytes(US_ASCII));
    WireContent part = new WireContent(read.retainedSlice(0, read.readableBytes()), null, false);
    assertThat(part.content()).isSameAs(part.wire());
    assertThat(part.payloadLength()).isEqualTo(7);
    part.release();
    assertThat(read.release()).isTrue();
  }

  @Test
  void theMeterReadsTheRangesAsItWouldTheWholePayload() {
    byte[] stream = Fixtures.stream("openai-chat-usage.sse");
    ByteArrayOutputStream wireBytes = new ByteArrayOutputStream();
    List<Integer> ranges = new ArrayList<>();
    // One chunk per event, as vLLM frames them, all in one read.
    String text = new String(stream, US_ASCII);
    int from = 0;
    while (from < text.length()) {
      int end = text.indexOf("\n\n", from);
      end = end < 0 ? text.length() : end + 2;
      byte[] event = text.substring(from, end).getBytes(US_ASCII);
      byte[] size = (Integer.toHexString(event.length) + "\r\n").getBytes(US_ASCII);
      wireBytes.writeBytes(size);
      ranges.add(wireBytes.size());
      ranges.add(event.length);
      wireBytes.writeBytes(event);
      wireBytes.writeBytes("\r\n".getBytes(US_ASCII));
      from = end;
    }
    ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(wireBytes.toByteArray());
    WireContent part = new WireContent(
        read.retainedSlice(0, read.readableBytes()), ranges.stream().mapToInt(Integer::intValue).toArray(), true);

    StreamMeter byRanges = meter();
    assertThat(WireContent.meter(part, byRanges, 1_000)).isEqualTo(stream.length);
    StreamMeter whole = meter();
    whole.onBody(stream, 0, stream.length, 1_000);
    byRanges.onComplete(2_000);
    whole.onComplete(2_000);
    MeterResult result = byRanges.result();
    assertThat(result).isEqualTo(whole.result());
    assertThat(result.tokenEvents()).isEqualTo(30);
    assertThat(read.refCnt()).as("metering made no buffer and kept no reference").isEqualTo(2);
    part.release();
    read.release();
  }

  private static StreamMeter meter() {
    StreamMeter meter = new StreamMeter(Route.CHAT, false, TokenGapListener.NONE, 1 << 20);
    meter.onResponseHead(200, "text/event-stream", 0);
    return meter;
  }
}
