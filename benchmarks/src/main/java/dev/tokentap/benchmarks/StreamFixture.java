package dev.tokentap.benchmarks;

import dev.tokentap.meter.SseEventDecoder;
import dev.tokentap.testkit.Fixtures;
import java.util.Arrays;

/**
 * One recorded SSE transcript, cut into the reads a relay would see: one read per event (the bytes
 * up to and including its blank line), which is how servers flush and how the meter is fed in
 * production.
 */
final class StreamFixture {
  final String name;
  final byte[] bytes;

  /** {@code reads[i]} is the start offset of read i; {@code reads[count]} is the end. */
  final int[] reads;

  private StreamFixture(String name, byte[] bytes, int[] reads) {
    this.name = name;
    this.bytes = bytes;
    this.reads = reads;
  }

  /**
   * Loads a fixture and checks that it dispatches exactly {@code expectedEvents} SSE events, the
   * number the benchmark divides by ({@code @OperationsPerInvocation} must be a constant).
   */
  static StreamFixture load(String name, int expectedEvents) {
    byte[] bytes = Fixtures.stream(name);
    int[] reads = new int[bytes.length + 1];
    int count = 0;
    int start = 0;
    for (int i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] == '\n' && bytes[i + 1] == '\n') {
        reads[count++] = start;
        start = i + 2;
        i++;
      }
    }
    if (start < bytes.length) {
      reads[count++] = start; // trailing bytes without a blank line: one last read
    }
    reads[count] = bytes.length;
    StreamFixture fixture = new StreamFixture(name, bytes, Arrays.copyOf(reads, count + 1));
    int dispatched = fixture.countEvents();
    if (dispatched != expectedEvents) {
      throw new IllegalStateException(
          name + " dispatches " + dispatched + " events, the benchmark expects " + expectedEvents);
    }
    return fixture;
  }

  int readCount() {
    return reads.length - 1;
  }

  int readOffset(int read) {
    return reads[read];
  }

  int readLength(int read) {
    return reads[read + 1] - reads[read];
  }

  /** The bytes of one read (one event and its blank line). */
  byte[] read(int read) {
    return Arrays.copyOfRange(bytes, reads[read], reads[read + 1]);
  }

  private int countEvents() {
    int[] events = {0};
    SseEventDecoder decoder =
        new SseEventDecoder((type, typeLength, data, dataLength, start, end) -> events[0]++, 1 << 20);
    decoder.feed(bytes, 0, bytes.length);
    decoder.finish();
    return events[0];
  }
}
