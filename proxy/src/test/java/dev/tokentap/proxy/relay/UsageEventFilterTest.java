package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.testkit.Fixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link UsageEventFilter} fed as the relay feeds it (the meter first, then the filter), at every
 * split of a real stream: the client gets every byte but the usage event tokentap asked for, and
 * every buffer is released once.
 */
class UsageEventFilterTest {
  private static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");
  private static final String USAGE_EVENT_START = "data: {\"id\":\"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL\",\"object\":\"chat.completion.chunk\",\"created\":1727346168,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_5050236cbd\",\"choices\":[],\"usage\"";

  /** The fixture less its usage event (the event and its blank line). */
  private static String withoutUsage() {
    String all = new String(SSE, StandardCharsets.UTF_8);
    int start = all.indexOf(USAGE_EVENT_START);
    int end = all.indexOf("\n\n", start) + 2;
    assertThat(start).isPositive();
    return all.substring(0, start) + all.substring(end);
  }

  /** Relays {@code SSE} cut at {@code cuts}; returns what the client got. */
  private static String relay(boolean injected, int... cuts) {
    return relay(injected, null, cuts);
  }

  /**
   * The same, each read first offered to {@link UsageEventFilter#passesWhole} as the relay does
   * when the read is whole upstream chunks (here: every read); the indexes of the reads that
   * passed as they were go to {@code passed}.
   */
  private static String relay(boolean injected, List<Integer> passed, int... cuts) {
    StreamMeter meter = new StreamMeter(Api.OPENAI, injected, TokenGapListener.NONE, 1 << 20);
    meter.onResponseHead(200, "text/event-stream", 0);
    UsageEventFilter filter = new UsageEventFilter(meter, ByteBufAllocator.DEFAULT);
    List<ByteBuf> inputs = new ArrayList<>();
    ByteArrayOutputStream client = new ByteArrayOutputStream();
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : SSE.length;
      ByteBuf in = Unpooled.copiedBuffer(SSE, from, to - from);
      inputs.add(in);
      meter.onBody(in, i);
      if (passed != null && filter.passesWhole(in.readableBytes())) {
        passed.add(i);
        take(in.retainedDuplicate(), client);
      } else {
        take(filter.filter(in.retain()), client);
      }
      in.release();
      from = to;
    }
    take(filter.finish(), client);
    assertThat(inputs).allSatisfy(b -> assertThat(b.refCnt()).as("every input released once").isZero());
    return client.toString(StandardCharsets.UTF_8);
  }

  private static void take(ByteBuf out, ByteArrayOutputStream client) {
    byte[] bytes = new byte[out.readableBytes()];
    out.readBytes(bytes);
    client.writeBytes(bytes);
    out.release();
  }

  @Test
  void theInjectedUsageEventIsRemovedAtEverySplit() {
    String expected = withoutUsage();
    for (int cut = 1; cut < SSE.length; cut++) {
      assertThat(relay(true, cut)).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void readsOfWholeEventsPassAsTheyAreAndTheRestIsFilteredAtEverySplit() {
    String expected = withoutUsage();
    String bytes = new String(SSE, StandardCharsets.ISO_8859_1); // one char per byte
    int usageAt = bytes.indexOf(USAGE_EVENT_START);
    int usageEnd = bytes.indexOf("\n\n", usageAt) + 2;
    for (int a = 1; a < SSE.length; a++) {
      for (int b : new int[] {a + 1, a + 150, a + 900}) { // the second cut: right after, an event later, several later
        if (b >= SSE.length) {
          continue;
        }
        List<Integer> passed = new ArrayList<>();
        assertThat(relay(true, passed, a, b)).as("cut at %d and %d", a, b).isEqualTo(expected);
        boolean firstEndsAnEvent = a >= 2 && SSE[a - 1] == '\n' && SSE[a - 2] == '\n';
        if (firstEndsAnEvent && a <= usageAt) {
          assertThat(passed).as("cut at %d and %d", a, b).contains(0); // whole events, no usage: as they are
        }
        int[] starts = {0, a, b};
        int[] ends = {a, b, SSE.length};
        for (int read = 0; read < 3; read++) {
          if (starts[read] < usageEnd && ends[read] > usageAt) {
            assertThat(passed).as("cut at %d and %d: read %d has usage bytes", a, b, read).doesNotContain(read);
          }
        }
      }
    }
  }

  @Test
  void byteByByteAndInOnePieceAlike() {
    int[] every = new int[SSE.length - 1];
    for (int i = 0; i < every.length; i++) {
      every[i] = i + 1;
    }
    assertThat(relay(true, every)).isEqualTo(withoutUsage());
    assertThat(relay(true)).isEqualTo(withoutUsage());
  }

  @Test
  void usageTheClientAskedForPassesUntouched() {
    assertThat(relay(false, SSE.length / 3, 2 * SSE.length / 3)).isEqualTo(new String(SSE, StandardCharsets.UTF_8));
  }

  @Test
  void discardReleasesWhatIsHeld() {
    StreamMeter meter = new StreamMeter(Api.OPENAI, true, TokenGapListener.NONE, 1 << 20);
    meter.onResponseHead(200, "text/event-stream", 0);
    UsageEventFilter filter = new UsageEventFilter(meter, ByteBufAllocator.DEFAULT);
    ByteBuf half = Unpooled.copiedBuffer(SSE, 0, 100); // inside the first event: held, not released
    meter.onBody(half, 0);
    ByteBuf out = filter.filter(half.retain());
    assertThat(out.readableBytes()).isZero();
    out.release();
    filter.discard();
    half.release();
    assertThat(half.refCnt()).isZero();
  }
}
