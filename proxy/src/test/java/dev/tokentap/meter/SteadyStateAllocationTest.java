package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokentap.testkit.Fixtures;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The meter allocates nothing per event once a response is under way (docs/performance.md,
 * "Microbenchmarks"). Measured with the JVM's per-thread allocation counter over many chat chunks,
 * one read each or each cut in two.
 */
class SteadyStateAllocationTest {
  static List<String> fixtures() {
    return List.of("openai-chat-usage.sse", "sglang-reasoning.sse", "vllm-chat-continuous-usage.sse", "openai-completions.sse");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void chatChunksAllocateNothing(String fixture) {
    measure(fixture, false);
  }

  /** Each event cut in two reads: its data waits in the decoder's own buffer, made once. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void chatChunksCutBetweenReadsAllocateNothing(String fixture) {
    measure(fixture, true);
  }

  private static void feed(StreamMeter meter, byte[] chunk, long nanos, boolean cut) {
    if (cut) {
      int half = chunk.length / 2;
      meter.onBody(chunk, 0, half, nanos);
      meter.onBody(chunk, half, chunk.length - half, nanos);
    } else {
      meter.onBody(chunk, 0, chunk.length, nanos);
    }
  }

  private static void measure(String fixture, boolean cut) {
    assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    assumeTrue(
        threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
    String[] events = new String(Fixtures.stream(fixture), UTF_8).split("(?<=\n\n)");
    byte[] first = events[0].getBytes(UTF_8);
    byte[] chunk = events[2].getBytes(UTF_8);
    int count = 20_000;
    Route route = fixture.contains("completions") ? Route.COMPLETIONS : Route.CHAT;
    long[] gapSum = new long[1];

    long perEvent = Long.MAX_VALUE;
    for (int round = 0; round < 5 && perEvent > 0; round++) { // the first rounds warm the JIT up
      StreamMeter meter = new StreamMeter(route, true, gap -> gapSum[0] += gap, 1 << 20);
      meter.onResponseHead(200, "text/event-stream", 0);
      meter.onBody(first, 0, first.length, 1);
      for (int i = 0; i < 100; i++) { // buffers and symbol tables grow here, once per response
        feed(meter, chunk, i, cut);
      }
      long thread = Thread.currentThread().getId();
      long before = threads.getThreadAllocatedBytes(thread);
      for (int i = 0; i < count; i++) {
        feed(meter, chunk, 100 + i, cut);
      }
      long allocated = threads.getThreadAllocatedBytes(thread) - before;
      perEvent = allocated / count;
      meter.onComplete(count);
      assertThat(meter.result().tokenEvents()).isGreaterThanOrEqualTo(count + 100);
    }
    assertThat(perEvent).as("bytes allocated per event").isZero();
  }
}
